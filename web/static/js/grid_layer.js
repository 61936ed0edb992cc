/* Occurrence counts in 200 m cells, loaded for the current view only.
 *
 * PSQ.gridLayer(map, group, url, classes, cellStyle) fills the Leaflet layer `group` with
 * the GeoJSON cells of `url` + "&bbox=lon0,lat0,lon1,lat1" each time the view changes,
 * while the layer is shown. `classes` is [[lowest count, colour], ...] in increasing
 * order and `cellStyle` the Leaflet options of a cell (layers/style.py COUNT_CLASSES and
 * COUNT_CELL). Raw points never reach the page.
 */
(function () {
  "use strict";

  function colourOf(count, classes) {
    var colour = classes[0][1];
    for (var k = 0; k < classes.length; k += 1) {
      if (count >= classes[k][0]) { colour = classes[k][1]; }
    }
    return colour;
  }

  function bboxOf(map) {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
  }

  var COUNT = new Intl.NumberFormat("fr-FR");

  function cellLayer(data, classes, cellStyle) {
    return L.geoJSON(data, {
      style: function (feature) {
        return L.extend({className: "psq-cell"}, cellStyle, {fillColor: colourOf(feature.properties.count, classes)});
      },
      onEachFeature: function (feature, layer) {
        var n = feature.properties.count;
        // A node with textContent: a string given to bindTooltip is set as innerHTML.
        var text = document.createElement("span");
        text.textContent = COUNT.format(n) + (n > 1 ? " faits" : " fait") + " dans ce carreau de 200 m";
        layer.bindTooltip(text, {sticky: true});
      }
    });
  }

  window.PSQ = window.PSQ || {};

  PSQ.gridLayer = function (map, group, url, classes, cellStyle) {
    var latest = 0;  // answers to older views are dropped: the last view wins
    var loadedBbox = null;  // a view already asked for is not asked again

    function load() {
      var bbox = bboxOf(map);
      if (!map.hasLayer(group) || bbox === loadedBbox) { return; }
      loadedBbox = bbox;
      latest += 1;
      var ticket = latest;
      fetch(url + "&bbox=" + bbox, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) { throw new Error(body.error || ("HTTP " + response.status)); }
            return body;
          });
        })
        .then(function (data) {
          if (ticket !== latest) { return; }
          group.clearLayers();
          cellLayer(data, classes, cellStyle).addTo(group);
          map.getContainer().dataset.gridCells = String(data.features.length);
        })
        .catch(function (error) {
          loadedBbox = null;
          // A warning, not an error: the rest of the map is still right.
          console.warn("Carroyage des faits indisponible : " + error.message);
        });
    }

    // One request per settled view: the page's own fitBounds and quick pans coalesce.
    var timer = null;
    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 60);
    }

    map.on("moveend", schedule);
    map.on("overlayadd", function (event) {
      if (event.layer === group) { loadedBbox = null; schedule(); }  // shown again: fresh counts
    });
    schedule();
  };
}());
