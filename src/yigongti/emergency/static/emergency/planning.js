// The station plan's map: villages coloured by the road time from the nearest station of the chosen plan (today
// or a proposal) and sized by population; today's stations, proposed sites, a moved-out station and the
// candidates marked. Over the county's roads with the command center's map (map.js, ygtMap) when it is served;
// else (no road GeoJSON) on a plain lon/lat plot. Data from the page's JSON script tag (the CSP forbids inline).
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("plan-map");
  const dataEl = document.getElementById("plan-data");
  if (!el || !dataEl || !window.echarts) return;
  const data = JSON.parse(dataEl.textContent);
  const L = el.dataset;
  const [t1, t2, t3] = data.thresholds;
  const COLORS = ["#2e7d32", "#f9a825", "#ef6c00", "#c62828"];
  const SITE = {
    candidate: { symbol: "circle", color: "#90a4ae", size: 7, label: L.lCandidate },
    today: { symbol: "triangle", color: "#1565c0", size: 16, label: L.lToday },
    added: { symbol: "diamond", color: "#6a1b9a", size: 20, label: L.lAdded },
    closed: { symbol: "emptyTriangle", color: "#c62828", size: 16, label: L.lClosed },
  };
  const band = (s) => (s === null ? 3 : s <= t1 * 60 ? 0 : s <= t2 * 60 ? 1 : s <= t3 * 60 ? 2 : 3);
  const bandLabel = [`≤${t1}${L.lMinutes}`, `≤${t2}${L.lMinutes}`, `≤${t3}${L.lMinutes}`, L.lBeyond];
  const maxPop = Math.max(1, ...data.villages.map((v) => v.population));
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const minutes = (s) => (s === null ? "—" : `${(s / 60).toFixed(1)} ${L.lMinutes}`);

  // what to draw for plan k: groups of points, each {key, label, color, symbol, size, points:[{lon, lat, name, tip, size}]}
  function groups(k) {
    const plan = data.plans[k];
    const open = new Set(plan.open), added = new Set(plan.added), closed = new Set(plan.closed);
    const out = [0, 1, 2, 3].map((b) => ({ key: "band" + b, label: bandLabel[b], color: COLORS[b], symbol: "circle", points: [] }));
    data.villages.forEach((v) => {
      out[band(v.t[k])].points.push({ lon: v.lon, lat: v.lat, name: v.name, size: 4 + 12 * Math.sqrt(v.population / maxPop),
        tip: `<b>${esc(v.township)} ${esc(v.name)}</b><br>${v.population.toLocaleString()} ${L.lPeople} · ${minutes(v.t[k])}` });
    });
    const sites = { candidate: [], today: [], added: [], closed: [] };
    data.sites.forEach((s, j) => {
      const kind = added.has(j) ? "added" : closed.has(j) ? "closed" : open.has(j) ? "today" : s.kind === "candidate" ? "candidate" : null;
      if (kind) sites[kind].push({ lon: s.lon, lat: s.lat, name: s.name, label: kind !== "candidate",
        tip: `<b>${esc(s.name)}</b>${s.vehicles ? ` · ${s.vehicles} 🚑` : ""}<br>${esc(SITE[kind].label)}` });
    });
    Object.keys(sites).forEach((kind) => out.push({ key: kind, label: SITE[kind].label, color: SITE[kind].color,
      symbol: SITE[kind].symbol, size: SITE[kind].size, points: sites[kind] }));
    return out;
  }

  function legend() {
    const box = document.getElementById("plan-legend");
    if (!box) return;
    box.innerHTML = groups(0).map((g) => `<span class="me-3 text-nowrap"><span style="display:inline-block;width:10px;height:10px;` +
      `border-radius:${g.symbol === "circle" ? "50%" : "0"};background:${g.color}"></span> ${esc(g.label)}</span>`).join("");
  }

  // --- over the roads (map.js) -----------------------------------------------------------------------------
  function onRoads() {
    const map = window.ygtMap.mount(el, { geojson: L.roads, layers: ["roads"], minClass: "village" });
    const draw = (k) => groups(k).forEach((g) => map.setPoints(g.key, g.points.map((p, i) => ({
      id: g.key + i, lon: p.lon, lat: p.lat, name: p.name, color: g.color, symbol: g.symbol,
      symbolSize: p.size || g.size, tooltip: p.tip, label: p.label ? p.name : undefined,
    })), { symbol: g.symbol, zlevel: g.key.startsWith("band") ? 4 : 5 }));
    return map.ready.then(() => { draw(0); return draw; });
  }

  // --- on a plain plot (no road GeoJSON) ---------------------------------------------------------------------
  function onPlot() {
    const chart = echarts.init(el);
    const lons = data.villages.map((v) => v.lon).concat(data.sites.map((s) => s.lon));
    const lats = data.villages.map((v) => v.lat).concat(data.sites.map((s) => s.lat));
    const ext = { x0: Math.min(...lons) - 0.02, x1: Math.max(...lons) + 0.02, y0: Math.min(...lats) - 0.02, y1: Math.max(...lats) + 0.02 };
    const grid = () => {  // a degree of longitude cos(lat) as wide as a degree of latitude is tall
      const w = el.clientWidth - 20, h = el.clientHeight - 20;
      const dx = (ext.x1 - ext.x0) * Math.cos(((ext.y0 + ext.y1) / 2) * Math.PI / 180), dy = ext.y1 - ext.y0;
      const s = Math.min(w / dx, h / dy);
      return { width: dx * s, height: dy * s, left: (w - dx * s) / 2 + 10, top: 10 };
    };
    const draw = (k) => chart.setOption({
      animation: false, tooltip: { trigger: "item", formatter: (p) => p.data.tip }, grid: grid(),
      xAxis: { type: "value", min: ext.x0, max: ext.x1, show: false },
      yAxis: { type: "value", min: ext.y0, max: ext.y1, show: false },
      series: groups(k).map((g) => ({
        name: g.label, type: "scatter", symbol: g.symbol, z: g.key.startsWith("band") ? 3 : 5,
        itemStyle: { color: g.color, borderColor: "#fff", borderWidth: 0.5, opacity: 0.9 },
        data: g.points.map((p) => ({ value: [p.lon, p.lat], tip: p.tip, symbolSize: p.size || g.size,
          label: { show: !!p.label, position: "right", fontSize: 11, formatter: p.name } })),
      })),
    }, true);
    window.addEventListener("resize", () => { chart.resize(); draw(current); });
    draw(0);
    return Promise.resolve(draw);
  }

  let current = 0;
  legend();
  const start = L.roads && window.ygtMap ? onRoads().catch(() => {
    if (el.ygtMap) el.ygtMap.dispose();
    return onPlot();
  }) : onPlot();
  start.then((draw) => {
    el.dataset.ready = "1";
    document.querySelectorAll("[data-plan]").forEach((btn) => btn.addEventListener("click", () => {
      current = Number(btn.dataset.plan);
      document.querySelectorAll("[data-plan]").forEach((b) => b.classList.toggle("active", b === btn));
      draw(current);
    }));
  });
});
