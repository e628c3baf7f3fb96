// Charts of the indicator dashboard (ECharts). Data comes from the json_script block "chart-data";
// no inline script (the CSP forbids it).
(function () {
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    const el = document.getElementById("chart-data");
    if (!el || typeof echarts === "undefined") return;
    const data = JSON.parse(el.textContent);
    const colors = { green: "#198754", amber: "#ffc107", red: "#dc3545", "": "#0b5d8c" };

    const trendEl = document.getElementById("trend-chart");
    let trend = null;
    function drawTrend(code) {
      const s = data.series[code];
      if (!trendEl || !s) return;
      trend = trend || echarts.init(trendEl);
      const series = [{ name: s.name, type: "line", smooth: true, data: s.values, connectNulls: false,
                        label: { show: true, fontSize: 10 } }];
      if (s.target !== null) {
        const labels = data.labels || { target: "目标", low: "下限", high: "上限" };
        series.push({ name: s.target_high !== null ? labels.low : labels.target, type: "line", data: data.months.map(() => s.target),
                      symbol: "none", lineStyle: { type: "dashed", color: "#dc3545" } });
      }
      if (s.target_high !== null && s.target_high !== undefined) {  // a two-sided band (BED_OCC)
        series.push({ name: (data.labels || {}).high || "上限", type: "line", data: data.months.map(() => s.target_high), symbol: "none",
                      lineStyle: { type: "dashed", color: "#dc3545" } });
      }
      trend.setOption({ tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 50, right: 20, top: 30, bottom: 30 },
                        xAxis: { type: "category", data: data.months }, yAxis: { type: "value", name: s.unit, scale: true },
                        series: series }, true);
    }
    drawTrend(data.focus);
    const sel = document.getElementById("trend-select");
    if (sel) sel.addEventListener("change", () => drawTrend(sel.value));

    const rankEl = document.getElementById("rank-chart");
    if (rankEl && data.ranking.length) {
      const rows = data.ranking.filter((r) => r.value !== null).reverse();
      const chart = echarts.init(rankEl);
      // bars start at zero (a bar's length is its value), or below it for negative values
      chart.setOption({ tooltip: {}, grid: { left: 100, right: 30, top: 10, bottom: 20 },
                        xAxis: { type: "value", min: (v) => Math.min(0, v.min) }, yAxis: { type: "category", data: rows.map((r) => r.name) },
                        series: [{ type: "bar", data: rows.map((r) => ({ value: r.value, itemStyle: { color: colors[r.status || ""] } })),
                                   label: { show: true, position: "right", fontSize: 10 } }] });
      window.addEventListener("resize", () => chart.resize());
    }
    window.addEventListener("resize", () => trend && trend.resize());
  });
})();
