"""Folium layers of patrol zones: the editable zones, the drawing control, suggested zones.

Takes zones as dicts with a GeoJSON ``geometry`` in lon/lat (``geo.patrol.zones``) and
returns folium elements. Each zone is its own ``folium.Polygon`` inside one
FeatureGroup, so that Leaflet.draw can edit and delete it; its SVG path carries the
classes ``psq-zone psq-zone-<id>`` by which web/static/js/zones.js finds its id.

A zone's reason and time slots are typed by users and suggestion labels hold category
names: every tooltip text goes through :func:`layers.escaping.html_text` (folium puts
it raw into the map script, see that module).
"""

from __future__ import annotations

import folium
from folium.plugins import Draw

from layers.escaping import html_text

ZONE_COLOUR = "#c1121f"
SUGGESTION_COLOUR = "#0f766e"


def leaflet_rings(geometry: dict) -> list[list]:
    """One list of lat/lon rings (outer, then holes) per part of a GeoJSON Polygon or MultiPolygon.

    Examples
    --------
    >>> leaflet_rings({"type": "MultiPolygon", "coordinates": [[[[6.8, 47.6], [6.9, 47.6], [6.8, 47.7], [6.8, 47.6]]]]})
    [[[[47.6, 6.8], [47.6, 6.9], [47.7, 6.8], [47.6, 6.8]]]]
    """
    def ring(coords):
        return [[lat, lon] for lon, lat, *_ in coords]

    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [[ring(r) for r in polygon] for polygon in polygons]


def zone_group(zones: list[dict], name: str = "Zones de patrouille") -> folium.FeatureGroup:
    """The zones, one polygon each, in one FeatureGroup (the editable layers of Leaflet.draw).

    Examples
    --------
    >>> zone = {"id": 7, "reason": "Trafic", "time_slots_text": "ven 20:00-02:00",
    ...         "geometry": {"type": "Polygon", "coordinates": [[[6.8, 47.6], [6.9, 47.6], [6.8, 47.7], [6.8, 47.6]]]}}
    >>> group = zone_group([zone])
    >>> [type(c).__name__ for c in group._children.values()]
    ['Polygon']

    A hostile reason stays text: nothing of it can end the map script or its template literal.

    >>> zone["reason"] = "</script><script>alert(2)</script>`${alert(3)}`"
    >>> m = folium.Map(tiles=None)
    >>> _ = zone_group([zone]).add_to(m)
    >>> script = m.get_root().render()
    >>> "<script>alert" in script, "${alert" in script, "&lt;/script&gt;&lt;script&gt;alert(2)" in script
    (False, False, True)
    """
    group = folium.FeatureGroup(name=name)
    for zone in zones:
        for rings in leaflet_rings(zone["geometry"]):  # a zone of several parts: one layer per part
            _zone_polygon(zone, rings).add_to(group)
    return group


def _zone_polygon(zone: dict, rings: list) -> folium.Polygon:
    slots = f" ({zone['time_slots_text']})" if zone.get("time_slots_text") else ""
    return folium.Polygon(rings, color=ZONE_COLOUR, weight=3, fill=True, fill_color=ZONE_COLOUR, fill_opacity=0.25,
                          class_name=f"psq-zone psq-zone-{zone['id']}",
                          tooltip=html_text(f"Zone n° {zone['id']} : {zone['reason']}{slots}"))


class FrenchDraw(Draw):
    """folium's Leaflet.draw with its toolbar, buttons and tooltips in French (leaflet-draw-locales).

    >>> [name for name, _ in FrenchDraw.default_js][-1]
    'leaflet_draw_locale_fr'
    """

    # The URL is a placeholder: layers.offline.localize serves every asset from web/static/vendor/.
    default_js = [*Draw.default_js, ("leaflet_draw_locale_fr", "psq-vendored:leaflet-draw-locales-fr")]


def draw_control(editable: folium.FeatureGroup) -> Draw:
    """Leaflet.draw, in French, limited to polygons; edit and delete act on ``editable``."""
    return FrenchDraw(
        feature_group=editable, show_geometry_on_click=False, position="topleft",
        draw_options={"polyline": False, "rectangle": False, "circle": False, "marker": False,
                      "circlemarker": False,
                      "polygon": {"showArea": False, "shapeOptions": {"color": ZONE_COLOUR}}},
        edit_options={"edit": True, "remove": True},
    )


def suggestion_group(suggestions: list[dict], name: str = "Zones suggérées") -> folium.FeatureGroup:
    """Suggested zones, dashed, numbered as in the page's list."""
    group = folium.FeatureGroup(name=name)
    for s in suggestions:
        for rings in leaflet_rings(s["geometry"]):
            folium.Polygon(rings, color=SUGGESTION_COLOUR, weight=2, dash_array="6 4", fill=True, fill_opacity=0.08,
                           class_name="psq-suggestion",
                           tooltip=html_text(f"Suggestion {s['n']} : {s['label']}")).add_to(group)
    return group


def zone_outline(zone: dict) -> folium.FeatureGroup:
    """One zone, not editable (briefing map)."""
    group = folium.FeatureGroup(name=f"Zone n° {zone['id']}")
    for rings in leaflet_rings(zone["geometry"]):
        folium.Polygon(rings, color=ZONE_COLOUR, weight=3, fill=True, fill_opacity=0.2,
                       class_name=f"psq-zone psq-zone-{zone['id']}").add_to(group)
    return group
