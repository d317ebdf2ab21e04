// "Use my current location" on the report form: fills latitude and longitude (no inline script).
(function () {
  "use strict";
  var button = document.getElementById("use-location");
  if (!button || !("geolocation" in navigator)) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      document.querySelector("input[name=latitude]").value = position.coords.latitude.toFixed(6);
      document.querySelector("input[name=longitude]").value = position.coords.longitude.toFixed(6);
      button.disabled = false;
    }, function () {
      button.disabled = false;
      button.textContent = "Location not available: type the place instead";
    }, { enableHighAccuracy: true, timeout: 10000 });
  });
}());
