// Monthly out-of-county cases of the top categories (data from the page's JSON script tag).
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("outflow-chart");
  const data = JSON.parse(document.getElementById("outflow-data").textContent);
  if (!el || !window.echarts || !data.series.length) { if (el) el.remove(); return; }
  const chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.months }, yAxis: { type: "value", name: el.dataset.axis || "人次" },
    series: data.series.map((s) => ({ name: s.name, type: "line", data: s.values, smooth: true })),
  });
  window.addEventListener("resize", () => chart.resize());
});
