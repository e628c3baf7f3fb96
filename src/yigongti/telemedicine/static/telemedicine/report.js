// The report form: choosing a template fills the findings and the conclusion (only where the reader has not
// written yet, or after asking), so a normal read is two clicks.
(function () {
  var select = document.getElementById("template");
  if (!select) return;
  var findings = document.getElementById("findings");
  var conclusion = document.getElementById("conclusion");
  select.addEventListener("change", function () {
    var opt = select.options[select.selectedIndex];
    if (!opt || !opt.value) return;
    var written = (findings.value.trim() || conclusion.value.trim());
    if (written && !window.confirm(select.getAttribute("data-confirm") || "用模板替换已填写的内容？")) return;
    findings.value = opt.getAttribute("data-findings") || "";
    conclusion.value = opt.getAttribute("data-conclusion") || "";
  });
})();
