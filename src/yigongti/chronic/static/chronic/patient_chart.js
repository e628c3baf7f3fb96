// The patient page's BP/FBG chart: series from the json_script block, labels from the element's data-*.
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("chronic-chart");
  const src = document.getElementById("chronic-chart-data");
  if (!el || !src || !window.echarts) return;
  const d = JSON.parse(src.textContent);
  const hasBp = d.sbp.some((v) => v !== null);
  const hasFbg = d.fbg.some((v) => v !== null);
  const series = [];
  if (hasBp) {
    series.push({ name: el.dataset.sbp, type: "line", data: d.sbp, yAxisIndex: 0, connectNulls: true,
      markLine: { silent: true, symbol: "none", data: [{ yAxis: 140 }] } });
    series.push({ name: el.dataset.dbp, type: "line", data: d.dbp, yAxisIndex: 0, connectNulls: true,
      markLine: { silent: true, symbol: "none", data: [{ yAxis: 90 }] } });
  }
  if (hasFbg) {
    series.push({ name: el.dataset.fbg, type: "line", data: d.fbg, yAxisIndex: hasBp ? 1 : 0, connectNulls: true });
  }
  const yAxis = [{ type: "value", name: hasBp ? "mmHg" : "mmol/L", scale: true }];
  if (hasBp && hasFbg) yAxis.push({ type: "value", name: "mmol/L", scale: true });
  const chart = window.echarts.init(el);
  chart.setOption({ tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 40, top: 30, bottom: 30 },
    xAxis: { type: "category", data: d.dates }, yAxis, series });
  window.addEventListener("resize", () => chart.resize());
});
