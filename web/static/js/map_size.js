// Folium creates each map before our layout gives it its final size; Leaflet then
// clips its SVG to the first size (a grey band at the bottom). Tell every map to
// measure itself again once the page is laid out.
window.addEventListener("load", function () {
  Object.keys(window).forEach(function (name) {
    var candidate = window[name];
    if (name.indexOf("map_") === 0 && candidate && typeof candidate.invalidateSize === "function") {
      candidate.invalidateSize();
    }
  });
});
