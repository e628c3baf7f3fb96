// Before a check-in is sent, ask the phone for its position (a few seconds at most); send without it otherwise.
document.querySelectorAll("form.wf-check-in").forEach(function (form) {
  form.addEventListener("submit", function (ev) {
    if (form.dataset.located || !navigator.geolocation) return;
    ev.preventDefault();
    var send = function () { form.dataset.located = "1"; form.submit(); };
    navigator.geolocation.getCurrentPosition(function (p) {
      form.elements.lon.value = p.coords.longitude.toFixed(6);
      form.elements.lat.value = p.coords.latitude.toFixed(6);
      send();
    }, send, {timeout: 5000, maximumAge: 60000});
  });
});
