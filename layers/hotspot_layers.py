"""Folium layers of hotspot results: Gi* classes, emerging categories, density, clusters.

Each function takes the cells (or clusters) of a stored run as a GeoDataFrame (any CRS)
and returns a FeatureGroup with a tooltip per feature, drawn in the style of
:mod:`layers.style` (colours, outlines and the French labels shown in legends). Text shown in a tooltip (class and trend
labels, category labels) goes through :func:`layers.escaping.html_text`: folium's
GeoJsonTooltip sets it as innerHTML.
"""

from __future__ import annotations

from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
from folium.plugins import HeatMap

from geo.formats import number
from layers.escaping import html_text
from layers.style import DENSITY_GRADIENT, EMERGING, GI_BIN, cluster_path, emerging_path, gi_path, neighbourhood_text

#: The smallest |gi_bin| drawn: 95 % confidence with FDR, the app's "significant".
SIGNIFICANT_BIN = 2
#: gi_bin -> (colour, label) and emerging class -> (colour, label): layers.style's, for legends and lists.
GI_BIN_STYLE = {b: (colour, label) for b, (colour, label) in GI_BIN.items()}
EMERGING_STYLE = {c: (colour, label) for c, (colour, label, _) in EMERGING.items()}


#: Builds the popup form creating a problem from one drawn row (layers.new_problem), or None: no popup.
RowForm = Callable[[dict], str]


def _with_form(shown: gpd.GeoDataFrame, columns: list[str], form: RowForm | None) -> tuple[list[str], dict]:
    """The columns to draw and the popup argument: a "create a problem here" form per feature when ``form``."""
    if form is None or not len(shown):
        return columns, {}
    shown["creer"] = [form(row) for row in shown.to_dict("records")]
    return [*columns[:-1], "creer", columns[-1]], {"popup": folium.GeoJsonPopup(["creer"], labels=False)}


def _lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(4326) if frame.crs and frame.crs.to_epsg() != 4326 else frame


def gistar_layer(cells: gpd.GeoDataFrame, name: str = "Points chauds (Gi*)", form: RowForm | None = None
                 ) -> folium.FeatureGroup:
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
    shown["texte"] = [html_text(f"{GI_BIN[int(b)][1]} : {number(n)} fait{'s' if n > 1 else ''} dans ce carreau, "
                                f"z = {number(z, 1)}") for b, n, z in zip(shown.gi_bin, shown["count"], shown.z)]
    group = folium.FeatureGroup(name=name)
    columns, popup = _with_form(shown, ["texte", "gi_bin", "geometry"], form)
    if len(shown):
        folium.GeoJson(
            shown[columns].to_json(drop_id=True),
            style_function=lambda f: gi_path(f["properties"]["gi_bin"]),
            tooltip=folium.GeoJsonTooltip(["texte"], labels=False), **popup,
        ).add_to(group)
    return group


def emerging_layer(cells: gpd.GeoDataFrame, weeks: int, name: str = "Problèmes récurrents",
                   pane: str | None = None, form: RowForm | None = None) -> folium.FeatureGroup:
    """Cells with an emerging hot or cold spot class, outlined in the class's style (layers.style).

    The class of a cell comes from its neighbourhood (the cell and those around it, over
    ``weeks`` weeks): the tooltip says how many occurrences the neighbourhood and the
    cell itself hold (columns ``neighbourhood`` and ``count``). A ``category`` column
    (the label of the problem category, when each category was analysed apart) goes
    into the tooltip; a cell may then be drawn once per category. ``pane``: a
    ``folium.map.CustomPane`` of the map, to keep these cells above layers loaded later
    (the cell counts).
    """
    shown = _lonlat(cells[cells["emerging_category"].isin(EMERGING)].copy())
    if "category" not in shown:
        shown["category"] = None
    shown["texte"] = [html_text(neighbourhood_text(EMERGING[c][1], int(around), int(n), weeks, category))
                      for c, around, n, category in zip(shown.emerging_category, shown.neighbourhood,
                                                         shown["count"], shown.category)]
    columns, popup = _with_form(shown, ["texte", "category", "emerging_category", "geometry"], form)
    shown["category"] = shown.category.map(lambda c: None if c is None else html_text(c))
    group = folium.FeatureGroup(name=name)
    if len(shown):
        folium.GeoJson(
            shown[columns].to_json(drop_id=True),
            style_function=lambda f: emerging_path(f["properties"]["emerging_category"]),
            tooltip=folium.GeoJsonTooltip(["texte"], labels=False), **popup,
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
        HeatMap(np.column_stack([centres.y, centres.x, weights]).round(5).tolist(), radius=22, blur=18,
                min_opacity=0.35, max_zoom=16, gradient=DENSITY_GRADIENT).add_to(group)
    return group


def cluster_layer(clusters: gpd.GeoDataFrame, name: str = "Agrégats (DBSCAN)", form: RowForm | None = None
                  ) -> folium.FeatureGroup:
    """The hull of each DBSCAN cluster, outlined in its category's colour, with its number of occurrences.

    ``clusters`` has ``cluster_id``, ``occurrences`` and, when each category was
    clustered apart, ``category`` (a label) and ``colour``.
    """
    shown = _lonlat(clusters.copy())
    if "colour" not in shown:
        shown["colour"] = "#542788"
    categories = shown["category"] if "category" in shown else [None] * len(shown)
    shown["texte"] = [html_text(f"{category + ' : ' if category else ''}agrégat n° {k}, {number(n)} faits")
                      for k, n, category in zip(shown.cluster_id, shown.occurrences, categories)]
    group = folium.FeatureGroup(name=name, show=False)
    columns, popup = _with_form(shown, ["texte", "colour", "geometry"], form)
    if len(shown):
        folium.GeoJson(
            shown[columns].to_json(drop_id=True),
            style_function=lambda f: cluster_path(f["properties"]["colour"]),
            tooltip=folium.GeoJsonTooltip(["texte"], labels=False), **popup,
        ).add_to(group)
    return group
