// The dispatcher's board: poll for changes (the last stamp seen goes with each poll; 204 = nothing changed),
// and keep the county map's vehicles and calls in step with the lists (H1's ygtMap draws the roads).
(function () {
  "use strict";
  let map = null;

  function points() {
    const el = document.getElementById("board-points");
    try { return el ? JSON.parse(el.textContent) : { vehicles: [], calls: [] }; } catch (e) { return { vehicles: [], calls: [] }; }
  }

  function overlay(p) {
    // vehicles by status, open calls by priority: the layers map.js adds on top of the roads
    return {
      vehicles: p.vehicles.map((v) => ({ id: v.id, name: v.name, lon: v.lon, lat: v.lat, status: v.status, label: v.label })),
      calls: p.calls.map((c) => ({ id: c.id, name: c.name, lon: c.lon, lat: c.lat, priority: c.priority })),
    };
  }

  function mount() {
    const el = document.getElementById("board-map");
    if (!el || !window.ygtMap || !el.dataset.geojson) return;
    map = window.ygtMap.mount(el, { geojson: el.dataset.geojson, layers: ["roads", "places", "stations"], points: overlay(points()) });
    el.dataset.mounted = "1";
  }

  function refresh() {
    if (!map) return;
    const p = overlay(points());
    if (typeof map.setPoints === "function") map.setPoints(p);
    else if (typeof map.update === "function") map.update({ points: p });
  }

  document.addEventListener("DOMContentLoaded", mount);
  document.body.addEventListener("htmx:configRequest", (e) => {
    if (e.detail.elt && e.detail.elt.id === "board-poll") {
      const d = document.getElementById("board-data");
      if (d) e.detail.parameters.stamp = d.dataset.stamp;
    }
  });
  document.body.addEventListener("htmx:oobAfterSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "board-data") refresh();
  });
})();
