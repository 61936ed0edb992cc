"""Folium layers of hotspot results: Gi* classes, emerging categories, density, clusters.

Each function takes the cells (or clusters) of a stored run as a GeoDataFrame (any CRS)
and returns a FeatureGroup with a tooltip per feature; colours are kept here, in one
place, with the French labels shown in legends. Text shown in a tooltip (class and trend
labels, category labels) goes through :func:`layers.escaping.html_text`: folium's
GeoJsonTooltip sets it as innerHTML.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
from folium.plugins import HeatMap

from layers.escaping import html_text

# ArcGIS's hot spot palette: reds for hot, blues for cold, by confidence.
#: The smallest |gi_bin| drawn: 95 % confidence with FDR, the app's "significant".
SIGNIFICANT_BIN = 2
GI_BIN_STYLE = {
    3: ("#d62f27", "Point chaud (99 %)"),
    2: ("#ed7551", "Point chaud (95 %)"),
    1: ("#fab984", "Point chaud (90 %)"),
    -1: ("#c0ccbe", "Point froid (90 %)"),
    -2: ("#849eba", "Point froid (95 %)"),
    -3: ("#4575b5", "Point froid (99 %)"),
}

EMERGING_STYLE = {
    "new hot spot": ("#ff00ff", "Nouveau point chaud"),
    "consecutive hot spot": ("#ff7f00", "Point chaud consécutif"),
    "intensifying hot spot": ("#b2182b", "Point chaud qui s'intensifie"),
    "persistent hot spot": ("#e31a1c", "Point chaud persistant"),
    "diminishing hot spot": ("#fb9a99", "Point chaud qui diminue"),
    "sporadic hot spot": ("#fdbf6f", "Point chaud sporadique"),
    "oscillating hot spot": ("#cab2d6", "Point chaud oscillant"),
    "historical hot spot": ("#a6761d", "Ancien point chaud"),
    "new cold spot": ("#1f78b4", "Nouveau point froid"),
    "consecutive cold spot": ("#a6cee3", "Point froid consécutif"),
    "intensifying cold spot": ("#08306b", "Point froid qui s'intensifie"),
    "persistent cold spot": ("#2171b5", "Point froid persistant"),
    "diminishing cold spot": ("#6baed6", "Point froid qui diminue"),
    "sporadic cold spot": ("#9ecae1", "Point froid sporadique"),
    "oscillating cold spot": ("#c6dbef", "Point froid oscillant"),
    "historical cold spot": ("#737373", "Ancien point froid"),
}


def _lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(4326) if frame.crs and frame.crs.to_epsg() != 4326 else frame


def gistar_layer(cells: gpd.GeoDataFrame, name: str = "Points chauds (Gi*)") -> folium.FeatureGroup:
    """Significant Gi* cells coloured by confidence: 95 and 99 % (FDR), hot or cold; the others are not drawn.

    The 90 % classes (``gi_bin`` ±1) are not drawn: on data with no pattern, one analysis
    in twenty may show one (bench/RESULTS.md), and a chief would read it as a hot spot.

    Examples
    --------
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"gi_bin": [3, 0, 1], "count": [9, 0, 2], "z": [4.1, 0.2, 1.7]},
    ...                          geometry=[shapely.box(990000, 6720000, 990200, 6720200),
    ...                                    shapely.box(990200, 6720000, 990400, 6720200),
    ...                                    shapely.box(990400, 6720000, 990600, 6720200)], crs=2154)
    >>> layer = gistar_layer(cells)
    >>> len(layer._children)
    1
    """
    shown = _lonlat(cells[cells["gi_bin"].abs() >= SIGNIFICANT_BIN].copy())
    shown["classe"] = shown["gi_bin"].map(lambda b: html_text(GI_BIN_STYLE[int(b)][1]))
    shown["z"] = shown["z"].round(2)
    group = folium.FeatureGroup(name=name)
    if len(shown):
        folium.GeoJson(
            shown[["classe", "count", "z", "gi_bin", "geometry"]].to_json(drop_id=True),
            style_function=lambda f: {"color": GI_BIN_STYLE[f["properties"]["gi_bin"]][0], "weight": 0,
                                      "fillColor": GI_BIN_STYLE[f["properties"]["gi_bin"]][0], "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(["classe", "count", "z"], aliases=["Classe", "Faits", "z"]),
        ).add_to(group)
    return group


def emerging_layer(cells: gpd.GeoDataFrame, name: str = "Problèmes récurrents",
                   pane: str | None = None) -> folium.FeatureGroup:
    """Cells with an emerging hot or cold spot category, each category in its colour.

    A ``category`` column (the label of the problem category, when each category was
    analysed apart) goes into the tooltip; a cell may then be drawn once per category.
    ``pane``: a ``folium.map.CustomPane`` of the map, to keep these cells above layers
    loaded later (the cell counts).
    """
    shown = _lonlat(cells[cells["emerging_category"].isin(EMERGING_STYLE)].copy())
    shown["tendance"] = shown["emerging_category"].map(lambda c: html_text(EMERGING_STYLE[c][1]))
    fields, aliases = ["tendance", "count"], ["Tendance", "Faits en 104 semaines"]
    if "category" in shown:
        shown["category"] = shown["category"].map(html_text)
        fields, aliases = ["category", *fields], ["Catégorie", *aliases]
    group = folium.FeatureGroup(name=name)
    if len(shown):
        folium.GeoJson(
            shown[[*fields, "emerging_category", "geometry"]].to_json(drop_id=True),
            style_function=lambda f: {
                # A dark outline sets these cells apart from the cell counts' warm colours.
                "color": "#111827", "weight": 2,
                "fillColor": EMERGING_STYLE[f["properties"]["emerging_category"]][0], "fillOpacity": 0.75},
            tooltip=folium.GeoJsonTooltip(fields, aliases=aliases),
            **({"pane": pane} if pane else {}),
        ).add_to(group)
    return group


def density_layer(cells: gpd.GeoDataFrame, name: str = "Densité (noyau quartique)") -> folium.FeatureGroup:
    """A heat layer from the cell centres weighted by their density (cells, never raw points)."""
    shown = _lonlat(cells[cells["density"] > 0])
    group = folium.FeatureGroup(name=name, show=False)
    if len(shown):
        centres = shown.geometry.centroid if shown.crs.is_projected else shown.to_crs(2154).geometry.centroid.to_crs(4326)
        weights = shown["density"].to_numpy() / float(shown["density"].max())
        HeatMap(np.column_stack([centres.y, centres.x, weights]).round(5).tolist(), radius=18, blur=22,
                min_opacity=0.2, max_zoom=16).add_to(group)
    return group


def cluster_layer(clusters: gpd.GeoDataFrame, name: str = "Agrégats (DBSCAN)") -> folium.FeatureGroup:
    """The hull of each DBSCAN cluster, with its number of occurrences."""
    shown = _lonlat(clusters.copy())
    group = folium.FeatureGroup(name=name, show=False)
    if len(shown):
        folium.GeoJson(
            shown[["cluster_id", "occurrences", "geometry"]].to_json(drop_id=True),
            style_function=lambda f: {"color": "#542788", "weight": 2, "fillColor": "#998ec3", "fillOpacity": 0.25,
                                      "dashArray": "4 3"},
            tooltip=folium.GeoJsonTooltip(["cluster_id", "occurrences"], aliases=["Agrégat", "Faits"]),
        ).add_to(group)
    return group
