// The order form: a unique key per form (a double submit places one order), and choosing an item on the
// mutual-recognition list reloads the form with the resident's recent results of that item shown first.
(function () {
  var form = document.getElementById("order-form");
  if (!form) return;
  var key = document.getElementById("idempotency_key");
  if (key && !key.value) key.value = "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  var item = document.getElementById("item");
  var resident = form.querySelector("[name=resident]");
  if (!item) return;
  item.addEventListener("change", function () {
    var opt = item.options[item.selectedIndex];
    if (!opt || opt.getAttribute("data-recognised") !== "1" || !resident || !resident.value) return;
    var q = new URLSearchParams();
    ["resident", "encounter", "urgency", "clinical_question"].forEach(function (n) {
      var el = form.querySelector("[name=" + n + "]");
      if (el && el.value) q.set(n, el.value);
    });
    q.set("item", item.value);
    window.location.assign(form.getAttribute("data-recent-url") + "?" + q.toString());
  });
})();
