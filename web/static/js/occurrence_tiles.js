/* Occurrences as points from the sector's Mapbox vector tiles (ST_AsMVT, web/api/maps.py).
 *
 * PSQ.occurrenceTiles(group, urlTemplate, colours, minZoom) puts into the Leaflet layer
 * `group` a Leaflet.VectorGrid layer of `urlTemplate` ({z}/{x}/{y}), each point drawn on
 * the tile's canvas in the colour of its category (`colours`: code -> colour). Tiles are
 * fetched only for the view and only from `minZoom` on: a tile of the whole town would
 * hold every point. Canvas, not markers: thousands of points cost no DOM element.
 */
(function () {
  "use strict";

  window.PSQ = window.PSQ || {};

  PSQ.occurrenceTiles = function (group, urlTemplate, colours, minZoom) {
    var tiles = L.vectorGrid.protobuf(urlTemplate, {
      rendererFactory: L.canvas.tile,
      minZoom: minZoom,
      maxNativeZoom: 18,
      interactive: false,
      vectorTileLayerStyles: {
        occurrences: function (properties, zoom) {
          return {radius: zoom >= 17 ? 4 : 3, fill: true, fillColor: colours[properties.category] || "#475569",
                  fillOpacity: 0.85, stroke: true, color: "#ffffff", weight: 0.6};
        }
      }
    });
    group.addLayer(tiles);
    return tiles;
  };
}());
