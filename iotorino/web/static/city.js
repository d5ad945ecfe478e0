// The city pages: the units' map coloured by index band ([data-city-map]) and charts of several series
// ([data-city-chart]: {kind: day|hour|time, x: [...], series: [{key, y}], labels: {key: text}}).
// The same numbers are in the page's tables and its JSON twin; without JavaScript the tables remain.
(function () {
  "use strict";
  var english = document.documentElement.lang === "en";
  var COLOURS = ["#8a1538", "#1f5fa8", "#2e7d32", "#6a3d9a", "#b15928"];
  var NO_DATA = "#9e9e9e";

  function drawMap(box) {
    var source = document.getElementById(box.dataset.cityMap);
    if (!source || typeof L === "undefined") { return; }
    var points = JSON.parse(source.textContent);
    var map = L.map(box, { attributionControl: false, zoomSnap: 0.25, keyboard: true });
    var coloured = 0;
    var layer = L.geoJSON(points, {
      pointToLayer: function (feature, latlng) {
        var colour = feature.properties.colour || NO_DATA;
        if (feature.properties.colour) { coloured += 1; }
        return L.circleMarker(latlng, { radius: 6, color: "#1a1a1a", weight: 1, fillColor: colour, fillOpacity: 0.9 });
      },
      onEachFeature: function (feature, marker) {
        var p = feature.properties;
        var band = english ? p.band_en : p.band_it;
        marker.bindTooltip(p.id + ": " + (band || (english ? "no value" : "nessun valore")));
      }
    });
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.05)); } else { map.setView([45.07, 7.68], 12); }
    layer.addTo(map);
    box.dataset.markers = String(points.features.length);
    box.dataset.coloured = String(coloured);
  }

  function xValue(kind, x) {
    if (kind === "day") { return Date.parse(x + "T12:00:00Z") / 1000; }
    return x;  // hour of day 0-23, or Unix seconds
  }

  function xLabel(kind, v) {
    if (v == null) { return "--"; }
    if (kind === "hour") { return (v < 10 ? "0" : "") + v + ":00"; }
    var d = new Date(v * 1000);
    if (kind === "day") { return d.getUTCDate() + "/" + (d.getUTCMonth() + 1); }
    var local = d.toLocaleString(english ? "en-GB" : "it-IT", { timeZone: "Europe/Rome", day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit" });
    return local;
  }

  function drawChart(box) {
    var source = document.getElementById(box.dataset.cityChart);
    if (!source || typeof uPlot === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var xs = spec.x.map(function (x) { return xValue(spec.kind, x); });
    var data = [xs];
    var series = [{ label: spec.kind === "hour" ? (english ? "Hour" : "Ora") : (english ? "Time" : "Ora"),
                    value: function (u, v) { return xLabel(spec.kind, v); } }];
    var held = 0;
    spec.series.forEach(function (s, i) {
      data.push(s.y);
      held += s.y.filter(function (v) { return v !== null; }).length;
      series.push({ label: (spec.labels && spec.labels[s.key]) || s.key, stroke: COLOURS[i % COLOURS.length], width: 2,
                    spanGaps: false, points: { show: xs.length < 60 } });
    });
    var width = Math.max(280, box.clientWidth || 600);
    var options = {
      width: width, height: 260,
      scales: { x: { time: spec.kind !== "hour" } },
      axes: [{ stroke: "#1a1a1a", values: function (u, splits) { return splits.map(function (v) { return spec.kind === "time" ? xLabel("day", v) : xLabel(spec.kind, v); }); } },
             { stroke: "#1a1a1a", label: box.dataset.yLabel || "" }],
      series: series
    };
    var plot = new uPlot(options, data, box);
    box.dataset.points = String(xs.length);
    box.dataset.series = String(spec.series.length);
    box.dataset.values = String(held);
    window.addEventListener("resize", function () { plot.setSize({ width: Math.max(280, box.clientWidth), height: 260 }); });
  }

  document.querySelectorAll("[data-city-map]").forEach(drawMap);
  document.querySelectorAll("[data-city-chart]").forEach(drawChart);
})();
