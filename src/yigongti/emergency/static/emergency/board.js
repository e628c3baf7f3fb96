// The dispatcher's board: poll for changes (the last stamp seen goes with each poll; 204 = nothing changed),
// and keep the county map's vehicles and calls in step with the lists (map.js draws the roads).
(function () {
  "use strict";
  const STATUS_COLOR = { available: "#198754", dispatched: "#dc3545", on_scene: "#dc3545", transporting: "#dc3545",
                         at_hospital: "#6f42c1", returning: "#0dcaf0", maintenance: "#adb5bd" };
  const PRIORITY_COLOR = { 1: "#dc3545", 2: "#fd7e14", 3: "#0d6efd", 4: "#6c757d" };
  let map = null;

  function points() {
    const el = document.getElementById("board-points");
    try { return el ? JSON.parse(el.textContent) : { vehicles: [], calls: [] }; } catch (e) { return { vehicles: [], calls: [] }; }
  }

  function layers(p) {
    return {
      vehicles: p.vehicles.map((v) => ({ id: v.id, name: v.name, lon: v.lon, lat: v.lat, label: v.name,
                                         color: STATUS_COLOR[v.status] || "#495057", symbol: "roundRect", symbolSize: 12,
                                         tooltip: v.name + " · " + v.label + (v.call ? " · " + v.call : "") })),
      calls: p.calls.map((c) => ({ id: c.id, name: c.name, lon: c.lon, lat: c.lat, symbol: "pin", symbolSize: 22,
                                   color: PRIORITY_COLOR[c.priority] || "#dc3545", tooltip: c.name })),
    };
  }

  function showCall(id) {
    const panel = document.getElementById("call-panel");
    if (panel && window.htmx) window.htmx.ajax("GET", "/emergency/calls/" + id + "/recommend/?next=" + encodeURIComponent("/emergency/board/?call=" + id), { target: panel });
  }

  function mount() {
    const el = document.getElementById("board-map");
    if (!el || !window.ygtMap || !el.dataset.geojson) return;
    map = window.ygtMap.mount(el, {
      geojson: el.dataset.geojson, layers: ["roads", "places", "stations"], points: layers(points()),
      onClick: (item) => { if (item && item.layer === "calls") showCall(item.id); },
    });
  }

  function refresh() {
    if (!map) return;
    const p = layers(points());
    map.setPoints("vehicles", p.vehicles);
    map.setPoints("calls", p.calls);
  }

  // the waiting times tick between polls (a poll that finds nothing changed answers 204 and swaps nothing)
  let skew = 0;
  function syncClock() {
    const d = document.getElementById("board-data");
    if (d && d.dataset.now) skew = Number(d.dataset.now) - Date.now();
  }
  function tick() {
    const now = Date.now() + skew;
    document.querySelectorAll("[data-rang]").forEach((el) => {
      const s = Math.max(0, Math.floor((now - Number(el.dataset.rang)) / 1000));
      const m = Math.floor(s / 60);
      el.textContent = m >= 60 ? Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0")
        : m + ":" + String(s % 60).padStart(2, "0");
      if (el.dataset.open && s > 180) el.classList.add("text-danger", "fw-bold");
    });
  }

  // the call form: a click on the county map places the call by coordinates
  function mountPicker() {
    const el = document.getElementById("pick-map");
    if (!el || !window.ygtMap) return;
    let picker = null;
    picker = window.ygtMap.mount(el, {
      geojson: el.dataset.geojson, layers: ["roads", "places"],
      onPick: (lon, lat) => {
        document.getElementById("f-lon").value = lon.toFixed(5);
        document.getElementById("f-lat").value = lat.toFixed(5);
        const mode = document.querySelector("input[name=where][value=coords]");
        if (mode) mode.checked = true;
        picker.setPoints("pick", [{ id: 0, name: "", lon: lon, lat: lat, symbol: "pin", symbolSize: 24, color: "#dc3545" }]);
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => { syncClock(); mount(); mountPicker(); setInterval(tick, 1000); });
  document.body.addEventListener("htmx:configRequest", (e) => {
    if (e.detail.elt && e.detail.elt.id === "board-poll") {
      const d = document.getElementById("board-data");
      if (d) e.detail.parameters.stamp = d.dataset.stamp;
    }
  });
  document.body.addEventListener("htmx:oobAfterSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "board-data") { syncClock(); refresh(); }
  });
})();
