// The team's monthly totals of the last 12 months (familydoctor/assessment_team.html), drawn with ECharts.
(function () {
  var el = document.getElementById('assessment-trend');
  if (!el || !window.echarts || !el.dataset.months) return;
  var chart = echarts.init(el);
  chart.setOption({
    grid: {left: 36, right: 8, top: 12, bottom: 24},
    tooltip: {trigger: 'axis'},
    xAxis: {type: 'category', data: el.dataset.months.split(',')},
    yAxis: {type: 'value', max: 100},
    series: [{type: 'line', data: el.dataset.totals.split(',').map(Number)}]
  });
  window.addEventListener('resize', function () { chart.resize(); });
})();
