// Small behaviours without inline scripts (the CSP forbids them).
document.addEventListener("change", (e) => {
  if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
});
document.addEventListener("click", (e) => {
  const t = e.target.closest("[data-menu-toggle]");
  if (t) document.getElementById("main-menu").classList.toggle("show");
});
// The navbar's drop-downs (a menu group, the account menu): one open at a time, closed by a click elsewhere.
document.addEventListener("click", (e) => {
  const mine = e.target.closest(".app-navbar details");
  document.querySelectorAll(".app-navbar details[open]").forEach((d) => {
    if (d !== mine) d.removeAttribute("open");
  });
});
