// The report form (no inline script, CSP): "Use my current location", the map pin, and a copy
// of the description kept in this browser only, so a resident need not type it again after a
// mistake (the server never sends it back).
(function () {
  "use strict";
  var lat = document.querySelector("input[name=latitude]");
  var lon = document.querySelector("input[name=longitude]");
  var pin = null;
  var map = null;

  function showPin() {
    if (!map) { return; }
    var y = parseFloat(lat.value), x = parseFloat(lon.value);
    if (!isFinite(y) || !isFinite(x)) { return; }
    if (pin) { pin.setLatLng([y, x]); } else {
      pin = L.marker([y, x], {
        keyboard: false,
        icon: L.divIcon({ className: "report-pin", html: "", iconSize: [18, 18] })
      }).addTo(map);
    }
  }

  var el = document.getElementById("report-map");
  if (el && typeof L !== "undefined" && lat && lon) {
    var data = JSON.parse(el.getAttribute("data-map") || "{}");
    var tileUrl = el.getAttribute("data-tile-url");
    map = L.map(el);
    if (tileUrl) { L.tileLayer(tileUrl, { maxZoom: 19, attribution: "Background map tiles" }).addTo(map); }
    map.attributionControl.addAttribution("Wards: ONS (OGL v3.0)");
    var wards = L.geoJSON({ type: "FeatureCollection", features: data.wards || [] }, {
      interactive: false,
      style: function () { return { color: "#44546a", weight: 1.5, dashArray: "4 3", fillOpacity: 0.04 }; }
    }).addTo(map);
    if (wards.getLayers().length) { map.fitBounds(wards.getBounds()); } else { map.setView([54, -2], 6); }
    map.on("click", function (e) {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      showPin();
    });
    lat.addEventListener("change", showPin);
    lon.addEventListener("change", showPin);
    showPin();
    el.setAttribute("data-ready", "1");
  }

  var button = document.getElementById("use-location");
  if (button && "geolocation" in navigator && lat && lon) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        showPin();
        button.disabled = false;
      }, function () {
        button.disabled = false;
        button.textContent = "Location not available: type the place instead";
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }

  var description = document.querySelector("textarea[name=description]");
  var form = description && description.form;
  var key = "beatbook-report-description";
  if (description && form && window.sessionStorage) {
    var kept = window.sessionStorage.getItem(key);
    if (kept && !description.value && document.querySelector(".error-summary")) { description.value = kept; }
    window.sessionStorage.removeItem(key);
    form.addEventListener("submit", function () { window.sessionStorage.setItem(key, description.value); });
  }
}());
