"""The three areas of an assessment on a map: the response area R, its ring D and the control area C.

Drawn in that order from the largest (C, grey) to the smallest (R, red), each with a tooltip
naming it; the colours are those of the page's before/after chart (``AREA_COLOURS``).

>>> import shapely
>>> group = assessment_layer(shapely.box(0, 0, 100, 100).buffer(0), shapely.box(-200, -200, 300, 300).difference(
...     shapely.box(0, 0, 100, 100)), None, crs=2154)
>>> len(group._children)
2
"""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.escaping import html_text

#: area key -> (colour, French name).
AREA_COLOURS = {"R": ("#d7301f", "Zone de l'action (R)"), "D": ("#fd8d3c", "Couronne autour (D)"),
                "C": ("#6b7280", "Zone témoin (C)")}


def assessment_layer(area, ring, control, crs: int = 2154, name: str = "Zones de l'évaluation") -> folium.FeatureGroup:
    """R, D and C (shapely geometries in ``crs``; None or empty: not drawn) as one layer."""
    group = folium.FeatureGroup(name=name)
    for key, geometry in (("C", control), ("D", ring), ("R", area)):
        if geometry is None or geometry.is_empty:
            continue
        colour, label = AREA_COLOURS[key]
        frame = gpd.GeoDataFrame({"texte": [html_text(label)]}, geometry=[geometry], crs=crs).to_crs(4326)
        folium.GeoJson(frame.to_json(drop_id=True), tooltip=folium.GeoJsonTooltip(["texte"], labels=False),
                       style_function=lambda f, c=colour, k=key: {
                           "color": c, "weight": 2 if k == "R" else 1, "fillColor": c,
                           "fillOpacity": 0.35 if k == "R" else 0.18}).add_to(group)
    return group


__all__ = ["AREA_COLOURS", "assessment_layer"]
