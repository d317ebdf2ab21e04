/* The public priorities map: Leaflet (vendored), a marker per current priority with a popup
   (place, problem, why) above the ward outlines. The data is the map element's data-map
   attribute (JSON); no inline script (CSP). Text is always set with textContent. */
(function () {
  "use strict";
  var el = document.getElementById("priority-map");
  if (!el || typeof L === "undefined") { return; }
  var data = JSON.parse(el.getAttribute("data-map") || "{}");
  var tileUrl = el.getAttribute("data-tile-url");
  var map = L.map(el, { zoomControl: true, zoomSnap: 0.25 }).setView([54, -2], 6); // until fitted below
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: "Background map tiles" }).addTo(map);
  }
  map.attributionControl.addAttribution("Crime data: police.uk (OGL v3.0); wards: ONS (OGL v3.0)");

  function line(tag, text, className) {
    var node = document.createElement(tag);
    node.textContent = text;
    if (className) { node.className = className; }
    return node;
  }

  // Wards under the markers and never in the way of a click.
  var wards = L.geoJSON({ type: "FeatureCollection", features: data.wards || [] }, {
    interactive: false,
    style: function () { return { color: "#44546a", weight: 1.5, dashArray: "4 3", fillOpacity: 0.04 }; }
  }).addTo(map);

  var markers = [];
  (data.markers || []).forEach(function (p) {
    var box = document.createElement("div");
    box.className = "priority-popup";
    box.appendChild(line("strong", p.number + ". " + p.place));
    box.appendChild(line("div", p.problem + " (" + p.ward + ")"));
    box.appendChild(line("p", p.why, "why"));
    var marker = L.circleMarker([p.latitude, p.longitude], {
      radius: 10, color: "#7a0019", weight: 2, fillColor: "#c8102e", fillOpacity: 0.85,
      className: "priority-marker"
    }).bindPopup(box).addTo(map);
    marker.bindTooltip(line("span", String(p.number)), { permanent: true, direction: "center", className: "priority-number", interactive: false });
    markers.push(marker);
  });

  var bounds = L.featureGroup(markers).getBounds();
  if (wards.getLayers().length) { bounds = bounds.isValid() ? bounds.extend(wards.getBounds()) : wards.getBounds(); }
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 }); }
  (data.wards || []).forEach(function (f) {  // names once the map has a view to draw them in
    L.tooltip({ permanent: true, direction: "center", className: "ward-name", interactive: false })
      .setLatLng(L.geoJSON(f).getBounds().getCenter())
      .setContent(line("span", f.properties.name))
      .addTo(map);
  });
  el.setAttribute("data-ready", "1");
}());
