// Draws every [data-map] element with Leaflet, without tiles (nothing fetched from outside):
// the places as circle markers and, when given, the coverage bbox as an outline.
(function () {
  "use strict";
  function draw(box) {
    var source = document.getElementById(box.dataset.map);
    if (!source || typeof L === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var map = L.map(box, { attributionControl: false, zoomSnap: 0.25, keyboard: true });
    var layer = L.geoJSON(spec.points, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 5, color: "#8a1538", weight: 1, fillColor: "#8a1538", fillOpacity: 0.75 });
      },
      onEachFeature: function (feature, marker) { marker.bindTooltip(String(feature.properties.label)); }
    });
    var outline = null;
    if (spec.bbox) {
      var b = spec.bbox;
      outline = L.rectangle([[b[1], b[0]], [b[3], b[2]]], { color: "#1a1a1a", weight: 1, dashArray: "4 4", fill: false });
    }
    // The view must exist before vector layers are added to the map.
    var bounds = outline ? outline.getBounds() : layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.05)); } else { map.setView([45.07, 7.68], 12); }
    if (outline) { outline.addTo(map); }
    layer.addTo(map);
    box.dataset.markers = String(spec.points.features.length);
  }
  document.querySelectorAll("[data-map]").forEach(draw);
})();
