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
from layers.style import ZONE_COLOUR, ZONE_PANE, suggestion_path, zone_path

#: The class of the numbers drawn on zones and suggestions (web/static/app.css).
LABEL_CLASS = "psq-map-label"


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


def number_label(text: str) -> folium.Tooltip:
    """A number always shown just above a shape's centre (the zone's, or the suggestion's of the page's
    list): above, not on it, so that a small zone's outline stays visible under its number."""
    return folium.Tooltip(html_text(text), permanent=True, direction="top", offset=(0, -12), class_name=LABEL_CLASS)


def in_zone_pane(polygon: folium.Polygon) -> folium.Polygon:
    """The polygon drawn in the zones' pane, above the cell counts (folium's path options drop ``pane``)."""
    polygon.options["pane"] = ZONE_PANE
    return polygon


def _zone_polygon(zone: dict, rings: list) -> folium.Polygon:
    slots = f" ({zone['time_slots_text']})" if zone.get("time_slots_text") else ""
    return in_zone_pane(folium.Polygon(
        rings, **zone_path(), class_name=f"psq-zone psq-zone-{zone['id']}", tooltip=number_label(f"n° {zone['id']}"),
        popup=folium.Popup(html_text(f"Zone n° {zone['id']} : {zone['reason']}{slots}"))))


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
                      "polygon": {"showArea": False,
                                  "shapeOptions": {"color": ZONE_COLOUR, "weight": 5, "pane": ZONE_PANE}}},
        edit_options={"edit": True, "remove": True},
    )


def suggestion_group(suggestions: list[dict], name: str = "Zones suggérées") -> folium.FeatureGroup:
    """Suggested zones, dashed, each its own colour and labelled with its number in the page's list."""
    group = folium.FeatureGroup(name=name)
    for s in suggestions:
        for rings in leaflet_rings(s["geometry"]):
            in_zone_pane(folium.Polygon(
                rings, **suggestion_path(s["n"]), class_name=f"psq-suggestion psq-suggestion-{s['n']}",
                tooltip=number_label(str(s["n"])),
                popup=folium.Popup(html_text(f"Suggestion {s['n']} : {s['label']}")))).add_to(group)
    return group


def zone_outline(zone: dict) -> folium.FeatureGroup:
    """One zone, not editable, labelled with its number (briefing map)."""
    group = folium.FeatureGroup(name=f"Zone n° {zone['id']}")
    for rings in leaflet_rings(zone["geometry"]):
        in_zone_pane(folium.Polygon(rings, **zone_path(), class_name=f"psq-zone psq-zone-{zone['id']}",
                                    tooltip=number_label(f"n° {zone['id']}"))).add_to(group)
    return group
