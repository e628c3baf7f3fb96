// Small behaviours without inline scripts (the CSP forbids them).
document.addEventListener("change", (e) => {
  if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
});
document.addEventListener("click", (e) => {
  const t = e.target.closest("[data-menu-toggle]");
  if (t) document.getElementById("main-menu").classList.toggle("show");
});
