// The station plan's map: villages coloured by the road time from the nearest station of the chosen plan
// (today or a proposal), sized by population; stations, proposed and closed sites marked; the county's roads
// underneath when the road GeoJSON is served (emergency:roads_geojson). Data from the page's JSON script tag.
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("plan-map");
  const dataEl = document.getElementById("plan-data");
  if (!el || !dataEl || !window.echarts) return;
  const data = JSON.parse(dataEl.textContent);
  const L = el.dataset;
  const [t1, t2, t3] = data.thresholds;
  const COLORS = ["#2e7d32", "#f9a825", "#ef6c00", "#c62828"];
  const band = (s) => (s === null ? 3 : s <= t1 * 60 ? 0 : s <= t2 * 60 ? 1 : s <= t3 * 60 ? 2 : 3);
  const bandLabel = [`≤${t1}${L.lMinutes}`, `≤${t2}${L.lMinutes}`, `≤${t3}${L.lMinutes}`, L.lBeyond];
  const maxPop = Math.max(1, ...data.villages.map((v) => v.population));
  const lons = data.villages.map((v) => v.lon).concat(data.sites.map((s) => s.lon));
  const lats = data.villages.map((v) => v.lat).concat(data.sites.map((s) => s.lat));
  const pad = 0.02;
  const ext = { x0: Math.min(...lons) - pad, x1: Math.max(...lons) + pad, y0: Math.min(...lats) - pad, y1: Math.max(...lats) + pad };
  const chart = echarts.init(el);
  let roads = [];

  function fit() {  // keep one degree of longitude cos(lat) as wide as one degree of latitude is tall
    const w = el.clientWidth - 20, h = el.clientHeight - 40;
    const kx = Math.cos(((ext.y0 + ext.y1) / 2) * Math.PI / 180);
    const dx = (ext.x1 - ext.x0) * kx, dy = ext.y1 - ext.y0;
    const scale = Math.min(w / dx, h / dy);
    return { width: dx * scale, height: dy * scale, left: (w - dx * scale) / 2 + 10, top: 30 };
  }

  function option(k) {
    const plan = data.plans[k];
    const open = new Set(plan.open), added = new Set(plan.added), closed = new Set(plan.closed);
    const villageSeries = [0, 1, 2, 3].map((b) => ({
      name: bandLabel[b], type: "scatter", z: 3, itemStyle: { color: COLORS[b], opacity: 0.85 },
      symbolSize: (v) => 5 + 18 * Math.sqrt(v[2] / maxPop),
      data: data.villages.filter((v) => band(v.t[k]) === b)
        .map((v) => [v.lon, v.lat, v.population, v.t[k], v.name, v.township]),
      tooltip: { formatter: (p) => `${p.value[5]} ${p.value[4]}<br>${p.value[2]} ${L.lPeople} · ` +
        (p.value[3] === null ? "—" : `${(p.value[3] / 60).toFixed(1)} ${L.lMinutes}`) },
    }));
    const site = (filter, name, symbol, color, size) => ({
      name, type: "scatter", z: 5, symbol, symbolSize: size, itemStyle: { color, borderColor: "#fff", borderWidth: 1 },
      data: data.sites.map((s, j) => [s.lon, s.lat, s.name, s.vehicles, j]).filter((d) => filter(d[4])),
      label: { show: true, position: "right", formatter: (p) => p.value[2], fontSize: 11 },
      tooltip: { formatter: (p) => `${p.value[2]}${p.value[3] ? ` · ${p.value[3]}🚑` : ""}` },
    });
    return {
      animation: false, tooltip: { trigger: "item" },
      legend: { top: 0, type: "scroll" },
      grid: fit(),
      xAxis: { type: "value", min: ext.x0, max: ext.x1, show: false },
      yAxis: { type: "value", min: ext.y0, max: ext.y1, show: false },
      series: [
        { name: L.lRoads, type: "lines", coordinateSystem: "cartesian2d", polyline: true, silent: true, z: 1,
          large: true, lineStyle: { color: "#9e9e9e", width: 0.6, opacity: 0.6 }, data: roads },
        ...villageSeries,
        site((j) => data.sites[j].kind === "candidate" && !added.has(j), L.lCandidate, "circle", "#90a4ae", 7),
        site((j) => open.has(j) && !added.has(j), L.lToday, "triangle", "#1565c0", 16),
        site((j) => added.has(j), L.lAdded, "diamond", "#6a1b9a", 20),
        site((j) => closed.has(j), L.lClosed, "emptyTriangle", "#c62828", 16),
      ],
    };
  }

  let current = 0;
  const draw = () => chart.setOption(option(current), true);
  draw();
  document.querySelectorAll("[data-plan]").forEach((btn) => btn.addEventListener("click", () => {
    current = Number(btn.dataset.plan);
    document.querySelectorAll("[data-plan]").forEach((b) => b.classList.toggle("active", b === btn));
    draw();
  }));
  window.addEventListener("resize", () => { chart.resize(); draw(); });
  if (L.roads) {
    fetch(L.roads, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((gj) => {
      if (!gj || !gj.features) return;
      for (const f of gj.features) {
        const g = f.geometry || {};
        if (g.type === "LineString") roads.push({ coords: g.coordinates });
        else if (g.type === "MultiLineString") g.coordinates.forEach((c) => roads.push({ coords: c }));
      }
      draw();
    }).catch(() => {});
  }
});
