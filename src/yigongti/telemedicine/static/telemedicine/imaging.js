/* The study's thumbnails load one after another (data-src → src), so a CT of many slices does not take every
   web worker at once; the key images first. Plain JS, no framework. */
(function () {
  "use strict";
  if (window.tmImagingLoader) { return; }
  window.tmImagingLoader = true;
  function start() {
    var queue = Array.prototype.slice.call(document.querySelectorAll("img[data-src]"));
    queue.sort(function (a, b) { return (b.dataset.key === "1") - (a.dataset.key === "1"); });
    function next() {
      var img = queue.shift();
      if (!img) { return; }
      img.addEventListener("load", next, { once: true });
      img.addEventListener("error", next, { once: true });
      img.src = img.dataset.src;
      img.removeAttribute("data-src");
    }
    next();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
