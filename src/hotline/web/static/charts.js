// Draws every <canvas> that has a JSON spec beside it (<script type="application/json"
// data-chart-for="ID">) with the vendored Chart.js (static/vendor, no internet needed).
// Spec: {kind: "bar"|"line", labels, x_title, y_title, y2_title?, datasets: [{label, data,
// kind?, axis?: "y"|"y2", color}]}.
(function () {
  "use strict";
  function draw(spec, canvas) {
    var scales = {
      x: { title: { display: !!spec.x_title, text: spec.x_title } },
      y: { beginAtZero: true, title: { display: !!spec.y_title, text: spec.y_title } },
    };
    if (spec.y2_title) {
      scales.y2 = {
        position: "right", beginAtZero: true, suggestedMax: 100,
        grid: { drawOnChartArea: false }, title: { display: true, text: spec.y2_title },
      };
    }
    var datasets = spec.datasets.map(function (ds) {
      return {
        label: ds.label, data: ds.data, type: ds.kind || spec.kind,
        yAxisID: ds.axis || "y", backgroundColor: ds.color, borderColor: ds.color,
        stepped: ds.stepped || false, fill: false, pointRadius: spec.labels.length > 60 ? 0 : 3,
        spanGaps: false,
      };
    });
    return new window.Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: scales,
      },
    });
  }
  function init() {
    if (!window.Chart) return;
    document.querySelectorAll("script[data-chart-for]").forEach(function (node) {
      var canvas = document.getElementById(node.getAttribute("data-chart-for"));
      if (!canvas) return;
      var chart = draw(JSON.parse(node.textContent), canvas);
      canvas.dataset.drawn = chart ? "1" : "";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
