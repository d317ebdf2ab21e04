/* The desk map: Leaflet (vendored) with the layers from /desk/api/map/{layer} (GeoJSON).
   Settings come from the map element's data-attributes; no inline script (CSP).
   Text from the data is always set with textContent, never as HTML.

   Each layer draws in a pane of its own, stacked in a fixed order whatever order the layers
   arrive in: ward outlines lowest, then the area outline, the hot and cold cells, and the
   priority places on top, so a priority's popup opens with every other layer shown. */
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

  // Leaflet's own panes: tiles 200, overlays 400, markers 600, popups 700.
  var order = ["wards", "outline", "hotspots", "priorities"];
  var zIndex = { wards: 410, outline: 420, hotspots: 430, priorities: 640 };
  order.forEach(function (name) { map.createPane("bb-" + name).style.zIndex = zIndex[name]; });

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

  var looks = {
    outline: { color: "#1a1a1a", weight: 3, fill: false, interactive: false },
    wards: { color: "#44546a", weight: 1.5, dashArray: "4 3", fillOpacity: 0.04 },
    hot: { color: "#c00000", weight: 0.5, fillOpacity: 0.45, fillColor: "#e03030" },
    cold: { color: "#1f4e79", weight: 0.5, fillOpacity: 0.45, fillColor: "#4a90d9" },
    priorities: { radius: 7, color: "#ffffff", weight: 1.5, fillColor: "#c00000", fillOpacity: 0.95 }
  };
  function style(name, f) {
    var look = name === "hotspots" ? looks[f.properties["class"] === "hot" ? "hot" : "cold"] : looks[name];
    return L.extend({ pane: "bb-" + name, className: "bb-" + name }, look);
  }
  var titles = { outline: "Area outline", wards: "Wards", hotspots: "Hot and cold cells", priorities: "Priority places" };

  function layerFor(name, data) {
    if (name === "priorities") {
      return L.geoJSON(data, {
        pointToLayer: function (f, latlng) { return L.circleMarker(latlng, style(name, f)); },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup(popup([["Priority", p.priority_id], ["Place", p.label], ["Problem", p.problem_label],
                                 ["Ward", p.ward], ["Status", p.status], ["Street", p.location]]));
        }
      });
    }
    return L.geoJSON(data, {
      style: function (f) { return style(name, f); },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (name === "hotspots") {
          layer.bindPopup(popup([[p["class"] === "hot" ? "Hot cell" : "Cold cell", p.count + " crimes recorded"],
                                 ["Gi* z", p.z], ["p", p.p], ["Grid cell (British National Grid)", p.cell]]));
        } else if (name === "wards") {
          layer.bindTooltip(textBox(p.name));
        }
      }
    });
  }

  function swatch(kind, css) {
    var mark = document.createElement("span");
    mark.className = "bb-swatch bb-swatch-" + kind;
    Object.keys(css).forEach(function (k) { mark.style[k] = css[k]; });
    return mark;
  }

  // What each mark means, in the same words as the layer list.
  var Legend = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      var box = L.DomUtil.create("div", "bb-legend leaflet-control");
      var rows = [
        [swatch("dot", { background: looks.priorities.fillColor, borderColor: "#fff" }), "Priority place"],
        [swatch("box", { background: looks.hot.fillColor, opacity: 0.7 }), "Hot cell: more crime than chance"],
        [swatch("box", { background: looks.cold.fillColor, opacity: 0.7 }), "Cold cell: less crime than chance"],
        [swatch("line", { borderTopColor: looks.outline.color, borderTopStyle: "solid" }), "Area outline"],
        [swatch("line", { borderTopColor: looks.wards.color, borderTopStyle: "dashed" }), "Ward boundary"]
      ];
      rows.forEach(function (row) {
        var line = document.createElement("div");
        line.appendChild(row[0]);
        line.appendChild(textBox(row[1]));
        box.appendChild(line);
      });
      return box;
    }
  });
  new Legend().addTo(map);

  function query() {
    return "?area=" + encodeURIComponent(area) + "&month=" + encodeURIComponent(month);
  }

  // One group per layer, listed in the fixed order before any data arrives.
  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  var groups = {};
  order.concat(names.filter(function (n) { return order.indexOf(n) < 0; })).forEach(function (name) {
    if (names.indexOf(name) < 0) { return; }
    groups[name] = L.layerGroup().addTo(map);
    control.addOverlay(groups[name], titles[name] || textBox(name).outerHTML);
  });
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
        var layer = layerFor(name, data);
        groups[name].addLayer(layer);
        counts[name] = data.features.length;
        if (name === "outline" && data.features.length) { map.fitBounds(layer.getBounds()); }
      })
      .catch(function (err) { counts[name] = "not shown (" + err.message + ")"; })
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
