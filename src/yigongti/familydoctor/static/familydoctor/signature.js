// The tablet signature of a contract's consent: signature_pad on a canvas, its SVG put into the hidden field when
// the form is sent; the paper/tablet radio shows one pane. No network, no third-party code beyond signature_pad.
(function () {
  "use strict";
  function setup(form) {
    var canvas = form.querySelector("[data-signature-pad]");
    var field = form.querySelector("[data-signature-value]");
    var pad = null;
    function resize() {
      if (!canvas) return;
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var data = pad ? pad.toData() : null;
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      if (pad) { pad.clear(); if (data) pad.fromData(data); }
    }
    if (canvas && window.SignaturePad) {
      pad = new window.SignaturePad(canvas, { backgroundColor: "rgba(255,255,255,0)" });
      resize();
      window.addEventListener("resize", resize);
    }
    var clear = form.querySelector("[data-signature-clear]");
    if (clear) clear.addEventListener("click", function () { if (pad) pad.clear(); field.value = ""; });
    function show() {
      var checked = form.querySelector("[data-consent-kind]:checked");
      var kind = checked ? checked.value : "paper";
      form.querySelectorAll("[data-consent-pane]").forEach(function (p) {
        p.hidden = p.getAttribute("data-consent-pane") !== kind;
      });
      if (kind === "tablet") resize();
    }
    form.querySelectorAll("[data-consent-kind]").forEach(function (r) { r.addEventListener("change", show); });
    show();
    form.addEventListener("submit", function () {
      if (pad && field && !pad.isEmpty()) field.value = pad.toSVG();
    });
  }
  document.querySelectorAll("form[data-consent-form]").forEach(setup);
})();
