// The county map of the 120 command center: roads, places, stations and whatever a page lays over them (vehicles,
// calls, routes, proposed stations), drawn with ECharts (geo + lines + scatter) from the road network's GeoJSON.
// No tiles and no tile server: everything is vector data from our own server (the county network may be offline).
//
//   const map = ygtMap.mount(el, {
//     geojson: "/emergency/roads/geojson/",       // URL of emergency:roads_geojson (or el.dataset.geojson)
//     layers: ["roads", "places", "stations"],    // of the network; "landmarks" too if wanted
//     minClass: "village",                        // draw roads of this class and above (see RANK)
//     points: { vehicles: [{id, lon, lat, name, color, symbol, symbolSize, tooltip}] },  // overlays by name
//     routes: [{coords: [[lon, lat], ...], color, width, name}],
//     onClick: (item) => {},   // item = {layer, id, name, lon, lat, data} for places, stations, landmarks, overlays
//     onPick: (lon, lat) => {}, // a click on the map itself (e.g. to place a call)
//   });
//   map.ready.then(() => ...);  map.setPoints("vehicles", [...]);  map.setRoutes([...]);
//   map.focus(lon, lat, zoom);  map.fit();  map.resize();  map.dispose();  map.chart (the ECharts instance)
//
// Loaded after vendor/echarts/echarts.min.js; no inline script (the CSP forbids it). An element with
// class "ygt-map" and data-geojson mounts itself on load (data-layers="roads,places,stations,landmarks").
(function () {
  "use strict";

  const RANK = { village: 0, street: 1, township: 2, county: 3, provincial: 4, national: 5, expressway: 6 };
  const ROAD_STYLE = {
    expressway: { color: "#7b3fa0", width: 3.2 },
    national: { color: "#d9480f", width: 2.8 },
    provincial: { color: "#f08c00", width: 2.4 },
    county: { color: "#e0a800", width: 1.9 },
    township: { color: "#868e96", width: 1.2 },
    street: { color: "#adb5bd", width: 0.9 },
    village: { color: "#ced4da", width: 0.6 },
  };
  const PLACE_SIZE = { county: 12, township: 8, village: 4 };
  const PLACE_COLOR = { county: "#c92a2a", township: "#1864ab", village: "#5c940d" };
  const STATION_KIND_COLOR = { command: "#c92a2a", sub_center: "#e03131", station: "#f03e3e" };
  const HOSPITAL_CROSS = "path://M8,0h8v8h8v8h-8v8h-8v-8h-8v-8h8z";
  const cacheByUrl = {};

  function fetchGeo(url) {
    if (!cacheByUrl[url]) {
      cacheByUrl[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then((r) => {
          if (!r.ok) throw new Error("geojson " + r.status);
          return r.json();
        });
    }
    return cacheByUrl[url];
  }

  function esc(s) {
    return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function pointSeries(id, layer, points, base) {
    return Object.assign({
      id: id, name: layer, type: "scatter", coordinateSystem: "geo", geoIndex: 0, zlevel: 2,
      symbolSize: 10, labelLayout: { hideOverlap: true },
      data: (points || []).map((p) => ({
        name: p.name || "", value: [p.lon, p.lat], ygt: { layer: layer, id: p.id, data: p },
        symbol: p.symbol, symbolSize: p.symbolSize, symbolRotate: p.rotate,
        itemStyle: p.color ? { color: p.color, borderColor: "#fff", borderWidth: 1 } : undefined,
        label: p.label ? { show: true, formatter: String(p.label), position: "right", fontSize: 11 } : undefined,
      })),
    }, base || {});
  }

  function mount(el, opts) {
    opts = opts || {};
    if (typeof echarts === "undefined") throw new Error("ygtMap needs ECharts (vendor/echarts/echarts.min.js)");
    const url = opts.geojson || el.dataset.geojson;
    const layers = opts.layers || (el.dataset.layers ? el.dataset.layers.split(",") : ["roads", "places", "stations"]);
    const minRank = RANK[opts.minClass || el.dataset.minClass || "village"] || 0;
    const chart = echarts.init(el, null, { renderer: "canvas" });
    const overlays = {};
    let routes = opts.routes || [];
    let geo = null;
    let mapName = null;
    let bbox = null;
    chart.showLoading({ text: "" });

    function baseSeries() {
      const series = [];
      const feats = geo.features;
      if (layers.indexOf("roads") >= 0) {
        feats.filter((f) => f.properties.layer === "roads" && f.properties.rank >= minRank)
          .sort((a, b) => a.properties.rank - b.properties.rank)
          .forEach((f) => {
            const cls = f.properties.road_class;
            const st = ROAD_STYLE[cls] || ROAD_STYLE.village;
            series.push({
              id: "road-" + cls, name: f.properties.label, type: "lines", coordinateSystem: "geo", geoIndex: 0,
              polyline: true, silent: true, large: true, largeThreshold: 400, zlevel: 1,
              lineStyle: { color: st.color, width: st.width, opacity: 0.95 },
              data: f.geometry.coordinates.map((c) => ({ coords: c })),
            });
          });
      }
      if (layers.indexOf("places") >= 0) {
        const places = feats.filter((f) => f.properties.layer === "places");
        series.push({
          id: "places", name: "places", type: "scatter", coordinateSystem: "geo", geoIndex: 0, zlevel: 2,
          labelLayout: { hideOverlap: true },
          data: places.map((f) => {
            const p = f.properties;
            return {
              name: p.name, value: f.geometry.coordinates.concat([p.population]),
              ygt: { layer: "places", id: p.code, data: p },
              symbolSize: PLACE_SIZE[p.level] || 4,
              itemStyle: { color: PLACE_COLOR[p.level] || "#5c940d", borderColor: "#fff", borderWidth: p.level === "village" ? 0 : 1 },
              label: { show: p.level !== "village", position: "right", formatter: "{b}", fontSize: p.level === "county" ? 13 : 11,
                       fontWeight: p.level === "county" ? "bold" : "normal", color: "#343a40" },
            };
          }),
          emphasis: { label: { show: true, formatter: "{b}" } },
        });
      }
      if (layers.indexOf("landmarks") >= 0) {
        series.push(pointSeries("landmarks", "landmarks", feats.filter((f) => f.properties.layer === "landmarks").map((f) => ({
          id: f.properties.id, name: f.properties.name, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1],
        })), { symbol: "triangle", symbolSize: 6, itemStyle: { color: "#845ef7" }, emphasis: { label: { show: true, position: "right", formatter: "{b}" } } }));
      }
      if (layers.indexOf("stations") >= 0) {
        series.push(pointSeries("stations", "stations", feats.filter((f) => f.properties.layer === "stations").map((f) => ({
          id: f.properties.id, name: f.properties.name, kind: f.properties.kind,
          lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1],
          color: STATION_KIND_COLOR[f.properties.kind] || "#f03e3e",
        })), { symbol: HOSPITAL_CROSS, symbolSize: 14, zlevel: 3, label: { show: false } }));
      }
      return series;
    }

    function overlaySeries() {
      const series = [];
      Object.keys(overlays).forEach((name) => {
        const o = overlays[name];
        series.push(pointSeries("ov-" + name, name, o.points, Object.assign({ zlevel: 4, symbolSize: 12 }, o.style || {})));
      });
      series.push({
        id: "routes", name: "routes", type: "lines", coordinateSystem: "geo", geoIndex: 0, polyline: true, zlevel: 3,
        silent: true,
        data: routes.map((r) => ({ coords: r.coords, name: r.name || "",
                                   lineStyle: { color: r.color || "#1c7ed6", width: r.width || 4, opacity: 0.85 } })),
      });
      return series;
    }

    function render(full) {
      if (!geo) return;
      const option = { series: full ? baseSeries().concat(overlaySeries()) : overlaySeries() };
      if (full) {
        option.geo = [{
          map: mapName, roam: true, scaleLimit: { min: 0.8, max: 60 }, aspectScale: Math.cos(((bbox[1] + bbox[3]) / 2) * Math.PI / 180),
          layoutCenter: ["50%", "50%"], layoutSize: "96%", silent: true,
          itemStyle: { areaColor: "#f8f9f4", borderColor: "#adb5bd", borderWidth: 1 },
          emphasis: { disabled: true }, select: { disabled: true }, label: { show: false },
        }];
        option.animation = false;
        option.tooltip = {
          trigger: "item", confine: true,
          formatter: (p) => {
            const y = p.data && p.data.ygt;
            if (!y) return esc(p.name);
            const d = y.data || {};
            if (d.tooltip) return d.tooltip;  // an overlay's own (already escaped) HTML
            let s = "<b>" + esc(p.name) + "</b>";
            if (y.layer === "places" && d.population) s += "<br>" + (geo.properties.labels || {}).population + " " + d.population.toLocaleString();
            return s;
          },
        };
      }
      chart.setOption(option, full ? { notMerge: true } : { replaceMerge: [] });
    }

    chart.on("click", (p) => {
      const y = p.data && p.data.ygt;
      if (y && opts.onClick) {
        opts.onClick({ layer: y.layer, id: y.id, name: p.name, lon: p.value[0], lat: p.value[1], data: y.data });
      }
    });
    chart.getZr().on("click", (e) => {
      if (e.target || !opts.onPick || !geo) return;  // a click on a marker is onClick's
      const pt = chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
      if (pt && isFinite(pt[0]) && isFinite(pt[1])) opts.onPick(pt[0], pt[1]);
    });

    const ready = (url ? fetchGeo(url) : Promise.resolve(opts.data)).then((data) => {
      geo = data;
      bbox = (data.properties && data.properties.bbox) || [0, 0, 1, 1];
      mapName = "ygt-" + ((data.properties && data.properties.network_id) || "x") + "-" + ((data.properties && data.properties.version) || "");
      if (!echarts.getMap(mapName)) {
        const outline = data.features.filter((f) => f.properties.layer === "boundary");
        echarts.registerMap(mapName, { type: "FeatureCollection", features: outline.length ? outline : [{
          type: "Feature", properties: { name: "" },
          geometry: { type: "Polygon", coordinates: [[[bbox[0], bbox[1]], [bbox[2], bbox[1]], [bbox[2], bbox[3]], [bbox[0], bbox[3]], [bbox[0], bbox[1]]]] },
        }] });
      }
      Object.keys(opts.points || {}).forEach((k) => { overlays[k] = { points: opts.points[k] }; });
      chart.hideLoading();
      render(true);
      el.dataset.ready = "1";
      return api;
    }).catch((err) => {
      chart.hideLoading();
      el.dataset.ready = "error";
      el.setAttribute("data-error", String(err));
      throw err;
    });

    const onResize = () => chart.resize();
    window.addEventListener("resize", onResize);

    const api = {
      chart: chart,
      ready: ready,
      get geojson() { return geo; },
      setPoints(name, points, style) { overlays[name] = { points: points || [], style: style }; render(false); return api; },
      clearPoints(name) { overlays[name] = { points: [] }; render(false); return api; },
      setRoutes(list) { routes = list || []; render(false); return api; },
      focus(lon, lat, zoom) {
        chart.setOption({ geo: [{ center: [lon, lat], zoom: zoom || 6 }] });
        return api;
      },
      fit() { chart.setOption({ geo: [{ center: null, zoom: 1 }] }); render(true); return api; },
      resize() { chart.resize(); return api; },
      dispose() { window.removeEventListener("resize", onResize); chart.dispose(); },
    };
    el.ygtMap = api;
    return api;
  }

  window.ygtMap = { mount: mount, RANK: RANK, ROAD_STYLE: ROAD_STYLE };

  function auto() {
    document.querySelectorAll(".ygt-map[data-geojson]").forEach((el) => { if (!el.ygtMap) mount(el); });
  }
  if (document.readyState !== "loading") auto(); else document.addEventListener("DOMContentLoaded", auto);
})();
