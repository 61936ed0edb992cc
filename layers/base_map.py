"""The map every page starts from: the local base map (a PMTiles archive the app serves), offline assets.

The base map is a PMTiles archive of vector tiles on the app's own server (setting
``BASE_MAP``), drawn in the browser by protomaps-leaflet (vendored): nothing is asked of
the internet. Two kinds of archive are understood (``LocalBaseMap.style``):

- ``"psq"``: the archive ``psq basemap`` and ``psq demo`` build from the territory's own
  data (geo.territory.basemap: communes, sectors and their names);
- a Protomaps basemap flavour (``"light"``, ``"white"``, ``"grayscale"``...): an
  OpenStreetMap extract made with the Protomaps tools, which a police intranet can hold.

The names of our archive are drawn by a second layer in a pane above the overlays, so
that the cell counts never hide which commune a cell lies in.
"""

from __future__ import annotations

import dataclasses

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from layers.escaping import html_text
from layers.style import BASE_MAP_STYLE, PANES


class FrenchControls(MacroElement):
    """Leaflet's controls in French: zoom buttons, a metric scale bar only (folium's ``control_scale`` adds feet
    and miles), the layer control's button, the attribution's prefix (no link, no English title).

    The layer control is added after this element (by ``web.map_parts.render_parts``): its
    button is renamed once the map's script has run.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.zoom({zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière"}).addTo({{ this._parent.get_name() }});
        L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        setTimeout(function () {
            document.querySelectorAll(".leaflet-control-layers-toggle").forEach(function (button) {
                button.title = "Couches de la carte";
                button.setAttribute("aria-label", "Couches de la carte");
            });
        }, 0);
        {% endmacro %}
    """)


@dataclasses.dataclass(frozen=True)
class LocalBaseMap:
    """A PMTiles archive served by the app: its URL (ending in ``.pmtiles``: protomaps-leaflet reads it by
    range requests), its kind (``"psq"`` or a Protomaps flavour), attribution and deepest zoom."""

    url: str
    style: str = "psq"
    attribution: str = ""
    max_data_zoom: int = 14


class PMTilesBaseMap(JSCSSMixin, MacroElement):
    """The base map layer of a :class:`LocalBaseMap`, and for our archive its names above the overlays.

    >>> m = folium.Map(tiles=None)
    >>> _ = PMTilesBaseMap(LocalBaseMap("/fond-de-carte.pmtiles", attribution="IGN <b>")).add_to(m)
    >>> html = m.get_root().render()
    >>> "protomapsL.leafletLayer" in html, "IGN <b>" in html     # the attribution is shown as text
    (True, False)
    """

    # The URL is a placeholder: layers.offline.localize serves every asset from web/static/vendor/.
    default_js = [("protomaps_leaflet", "psq-vendored:protomaps-leaflet")]

    _template = Template("""
        {% macro script(this, kwargs) %}
        // After the rest of the map script (its fitBounds): tiles asked at the first, provisional zoom
        // would linger under the final ones, scaled up.
        setTimeout(function () {
          var map = {{ this._parent.get_name() }}, options = {{ this.options|tojson }};
          var common = {url: options.url, attribution: options.attribution, maxDataZoom: options.maxDataZoom};
          if (options.style !== "psq") {  // a Protomaps basemap (OpenStreetMap): its own flavour, French names
            protomapsL.leafletLayer(Object.assign({flavor: options.style, lang: "fr"}, common)).addTo(map);
            return;
          }
          var s = options.look;
          protomapsL.leafletLayer(Object.assign({backgroundColor: s.background, paintRules: [
            {dataLayer: "communes", symbolizer: new protomapsL.PolygonSymbolizer({fill: s.commune_fill})},
            {dataLayer: "communes", symbolizer: new protomapsL.LineSymbolizer({color: s.commune_line, width: 1})},
            {dataLayer: "sectors", symbolizer: new protomapsL.LineSymbolizer(
              {color: s.sector_line, width: 1.5, dash: [5, 3]}), minzoom: 11}
          ], labelRules: []}, common)).addTo(map);
          // The names, in a pane above the overlays (layers.style.PANES) that lets every click through.
          protomapsL.leafletLayer({url: options.url, maxDataZoom: options.maxDataZoom, pane: "psqBaseLabels",
                                   attribution: "", paintRules: [], labelRules: [
            {dataLayer: "commune_labels", symbolizer: new protomapsL.CenteredTextSymbolizer(
              {labelProps: ["name"], fill: s.commune_text, stroke: s.halo, width: 3,
               font: "600 13px system-ui, sans-serif"})},
            {dataLayer: "sector_labels", minzoom: 12, symbolizer: new protomapsL.CenteredTextSymbolizer(
              {labelProps: ["code"], fill: s.sector_text, stroke: s.halo, width: 3,
               font: "italic 11px system-ui, sans-serif"})}
          ]}).addTo(map);
        }, 0);
        {% endmacro %}
    """)

    def __init__(self, source: LocalBaseMap):
        super().__init__()
        self._name = "PMTilesBaseMap"
        self.options = {"url": source.url, "style": source.style, "attribution": html_text(source.attribution),
                        "maxDataZoom": source.max_data_zoom, "look": BASE_MAP_STYLE}


def base_map(bounds: tuple[float, float, float, float], tiles_url: str | None = None,
             attribution: str = "", local: LocalBaseMap | None = None) -> folium.Map:
    """A folium Map fitted to ``bounds`` (lon0, lat0, lon1, lat1 in EPSG:4326).

    ``local``: the app's own PMTiles base map (see the module). ``tiles_url``: raster
    tiles of an intranet tile server, if one is configured instead. With neither, the
    map has no base layer and callers draw commune limits as the background (DESIGN.md
    section 6). No request ever leaves the server unless ``tiles_url`` says so.
    ``maxZoom`` is set because MarkerCluster needs it on a map without tiles.

    Examples
    --------
    >>> m = base_map((6.80, 47.60, 6.90, 47.66))
    >>> m.options["maxZoom"]
    18
    """
    lon0, lat0, lon1, lat1 = bounds
    m = folium.Map(location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2], tiles=None, maxZoom=18,
                   zoom_control=False, control_scale=False, prefer_canvas=False)
    FrenchControls().add_to(m)
    for pane, z_index in PANES.items():  # layers.style: what is drawn above what, on every map
        folium.map.CustomPane(pane, z_index=z_index).add_to(m)  # the pane lets clicks through, its paths not
    if local is not None:
        PMTilesBaseMap(local).add_to(m)
    if tiles_url:
        folium.TileLayer(tiles=tiles_url, attr=attribution or " ", name="Fond de carte", max_zoom=18).add_to(m)
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m
