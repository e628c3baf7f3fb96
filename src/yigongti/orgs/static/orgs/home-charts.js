// Age structure and key populations on the home page (data from json_script, no inline scripts).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("home-chart-data");
  if (!data || typeof echarts === "undefined") return;
  const d = JSON.parse(data.textContent);
  const ages = echarts.init(document.getElementById("age-chart"));
  ages.setOption({
    grid: { left: 60, right: 16, top: 16, bottom: 28 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: d.ages.map((a) => a[0]) },
    series: [{ type: "bar", data: d.ages.map((a) => a[1]), itemStyle: { color: "#0b5d8c" } }],
  });
  window.addEventListener("resize", () => ages.resize());
});
