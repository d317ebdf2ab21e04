// The desk's "Add the team's own priority" form (no inline script, CSP): select a point on the
// map to fill its latitude and longitude (typing them works without this script).
(function () {
  "use strict";
  var el = document.getElementById("add-map");
  var form = document.getElementById("add-priority");
  if (!el || !form || typeof L === "undefined") { return; }
  var lat = form.querySelector("input[name=lat]");
  var lon = form.querySelector("input[name=lon]");
  var data = JSON.parse(el.getAttribute("data-map") || "{}");
  var map = L.map(el);
  var pin = null;
  map.attributionControl.addAttribution("Wards: ONS (OGL v3.0)");
  var wards = L.geoJSON({ type: "FeatureCollection", features: data.wards || [] }, {
    interactive: false,
    style: function () { return { color: "#44546a", weight: 1.5, dashArray: "4 3", fillOpacity: 0.04 }; }
  }).addTo(map);
  if (wards.getLayers().length) { map.fitBounds(wards.getBounds()); } else { map.setView([54, -2], 6); }

  function showPin() {
    var y = parseFloat(lat.value), x = parseFloat(lon.value);
    if (!isFinite(y) || !isFinite(x)) { return; }
    if (pin) { pin.setLatLng([y, x]); } else {
      pin = L.circleMarker([y, x], { radius: 7, color: "#fff", weight: 3, fillColor: "#c8102e", fillOpacity: 1 }).addTo(map);
    }
  }
  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    showPin();
  });
  lat.addEventListener("change", showPin);
  lon.addEventListener("change", showPin);
  el.setAttribute("data-ready", "1");
})();
