// The pathology report form: choosing a template fills the microscopic findings and the diagnosis.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var select = ev.target;
    if (!select.matches || !select.matches("select[data-template-fill]")) { return; }
    var option = select.selectedOptions[0];
    if (!option || !option.dataset.c) { return; }
    var form = select.form;
    form.elements.microscopic.value = option.dataset.f || "";
    form.elements.diagnosis.value = option.dataset.c || "";
  });
}());
