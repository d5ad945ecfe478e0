// Draws every [data-chart] element with uPlot from the JSON in the element it names: {x: [YYYY-MM-DD...], y: [...], label}.
// The same numbers are in the page's tables and in its JSON twin; without JavaScript the tables remain.
(function () {
  "use strict";
  function draw(box) {
    var source = document.getElementById(box.dataset.chart);
    if (!source || typeof uPlot === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var xs = spec.x.map(function (day) { return Date.parse(day + "T12:00:00Z") / 1000; });
    var width = Math.max(280, box.clientWidth || 600);
    // Days as day/month (the Italian order), the legend's day as day/month/year, in the page's language.
    var day = function (s) { var d = new Date(s * 1000); return d.getUTCDate() + "/" + (d.getUTCMonth() + 1); };
    var english = document.documentElement.lang === "en";
    var options = {
      width: width, height: 240,
      scales: { x: { time: true } },
      axes: [{ stroke: "#1a1a1a", values: function (u, splits) { return splits.map(day); } },
             { stroke: "#1a1a1a", label: box.dataset.yLabel || "" }],
      series: [{ label: english ? "Day" : "Giorno",
                 value: function (u, s) { return s == null ? "--" : day(s) + "/" + new Date(s * 1000).getUTCFullYear(); } }, { label: spec.label, stroke: "#8a1538", width: 2, fill: "rgba(138,21,56,0.12)", points: { show: xs.length < 60 } }]
    };
    var plot = new uPlot(options, [xs, spec.y], box);
    box.dataset.points = String(xs.length);
    window.addEventListener("resize", function () { plot.setSize({ width: Math.max(280, box.clientWidth), height: 240 }); });
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
