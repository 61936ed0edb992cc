"""The map every page starts from: no tiles unless configured, offline assets."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template


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


def base_map(bounds: tuple[float, float, float, float], tiles_url: str | None = None,
             attribution: str = "") -> folium.Map:
    """A folium Map fitted to ``bounds`` (lon0, lat0, lon1, lat1 in EPSG:4326).

    Without ``tiles_url`` the map has no base layer and callers draw commune limits
    as the background (DESIGN.md section 6): no request ever leaves the server.
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
    if tiles_url:
        folium.TileLayer(tiles=tiles_url, attr=attribution or " ", name="Fond de carte", max_zoom=18).add_to(m)
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m
