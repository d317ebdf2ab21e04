/* The desk map: Leaflet (vendored) with the layers from /desk/api/map/{layer} (GeoJSON).
   Settings come from the map element's data-attributes; no inline script (CSP).
   Text from the data is always set with textContent, never as HTML. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var status = document.getElementById("map-status");
  var base = el.getAttribute("data-layers-url");
  var area = el.getAttribute("data-area");
  var month = el.getAttribute("data-month");
  var tileUrl = el.getAttribute("data-tile-url");
  var names = (el.getAttribute("data-layers") || "").split(",").filter(Boolean);

  var map = L.map(el, { zoomControl: true, preferCanvas: false });
  map.setView([52.6369, -1.1398], 12); // until the area's outline arrives
  if (tileUrl) {
    L.tileLayer(tileUrl, {
      maxZoom: 19,
      attribution: tileUrl.indexOf("openstreetmap") >= 0 ? "&copy; OpenStreetMap contributors" : "Background map tiles"
    }).addTo(map);
  }
  map.attributionControl.addAttribution("Crime data: police.uk (OGL v3.0); boundaries: ONS (OGL v3.0)");

  function say(text) { if (status) { status.textContent = text; } }

  // Leaflet reads a string given to bindTooltip/bindPopup or a layer control as HTML: give it
  // elements whose text is set with textContent, so a ward called "<img onerror=...>" is text.
  function textBox(text) {
    var box = document.createElement("span");
    box.textContent = text === null || text === undefined ? "" : String(text);
    return box;
  }

  function popup(rows) {
    var box = document.createElement("div");
    rows.forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === "") { return; }
      var line = document.createElement("div");
      var key = document.createElement("strong");
      key.textContent = row[0] + ": ";
      line.appendChild(key);
      line.appendChild(document.createTextNode(String(row[1])));
      box.appendChild(line);
    });
    return box;
  }

  var styles = {
    outline: function () { return { color: "#1a1a1a", weight: 3, fill: false }; },
    wards: function () { return { color: "#44546a", weight: 1.5, dashArray: "4 3", fillOpacity: 0.04 }; },
    hotspots: function (f) {
      var hot = f.properties["class"] === "hot";
      return { color: hot ? "#c00000" : "#1f4e79", weight: 0.5, fillOpacity: 0.45,
               fillColor: hot ? "#e03030" : "#4a90d9" };
    }
  };
  var titles = { outline: "Area outline", wards: "Wards", hotspots: "Gi* hotspots", priorities: "Priority places" };

  function layerFor(name, data) {
    if (name === "priorities") {
      return L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 7, color: "#ffffff", weight: 1.5,
                                          fillColor: "#c00000", fillOpacity: 0.95 });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup(popup([["Priority", p.priority_id], ["Place", p.label], ["Problem", p.problem_label],
                                 ["Ward", p.ward], ["Status", p.status], ["Snap point", p.location]]));
        }
      });
    }
    return L.geoJSON(data, {
      style: styles[name],
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (name === "hotspots") {
          layer.bindPopup(popup([["Cell (BNG)", p.cell], ["Class", p["class"]], ["Crimes", p.count],
                                 ["Gi* z", p.z], ["p", p.p]]));
        } else if (name === "wards") {
          layer.bindTooltip(textBox(p.name));
        }
      }
    });
  }

  function query() {
    return "?area=" + encodeURIComponent(area) + "&month=" + encodeURIComponent(month);
  }

  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  var counts = {};
  var pending = names.length;
  say("Loading the map layers…");
  names.forEach(function (name) {
    fetch(base + encodeURIComponent(name) + query(), { credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.error || ("HTTP " + r.status)); }
          return body;
        });
      })
      .then(function (data) {
        var layer = layerFor(name, data).addTo(map);
        control.addOverlay(layer, titles[name] || textBox(name).outerHTML);
        counts[name] = data.features.length;
        if (name === "outline" && data.features.length) { map.fitBounds(layer.getBounds()); }
        if (name === "hotspots") { layer.bringToFront(); }
      })
      .catch(function (err) { counts[name] = "failed (" + err.message + ")"; })
      .then(function () {
        pending -= 1;
        if (pending === 0) {
          var parts = names.map(function (n) { return (titles[n] || n) + ": " + counts[n]; });
          say("Shown: " + parts.join("; ") + ".");
          el.setAttribute("data-ready", "1");
        }
      });
  });
}());
