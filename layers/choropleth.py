"""Choropleth layers: grid cells coloured by count, sectors coloured by rate.

Colours come from a sequential palette (ColorBrewer YlOrRd, 5 classes); classes are
given by their lower bounds (``breaks``), and :func:`legend` gives the (colour, label)
pairs a page shows beside the map. No colormap from branca: it would load d3 from the
internet. Sector codes and names come from imported files: every text shown in a tooltip
goes through :func:`layers.escaping.html_text` (folium's GeoJsonTooltip sets it as
innerHTML).
"""

from __future__ import annotations

import bisect
import math

import folium
import geopandas as gpd

from layers.escaping import html_text
from layers.style import NO_DATA, TREND
from layers.style import SEQUENTIAL as PALETTE

#: Lower bounds of the classes of cell counts (a mayor never sees a cell under 3).
COUNT_BREAKS = (3, 5, 10, 20, 50)


def class_of(value: float | None, breaks: tuple[float, ...]) -> int | None:
    """Index of the class of ``value`` (its largest lower bound), None for no value.

    >>> class_of(3, COUNT_BREAKS), class_of(12, COUNT_BREAKS), class_of(500, COUNT_BREAKS), class_of(None, (0,))
    (0, 2, 4, None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return max(bisect.bisect_right(breaks, value) - 1, 0)


def colour_of(value: float | None, breaks: tuple[float, ...]) -> str:
    """The palette colour of ``value``.

    >>> colour_of(4, COUNT_BREAKS), colour_of(None, COUNT_BREAKS)
    ('#ffffb2', '#e2e8f0')
    """
    index = class_of(value, breaks)
    return NO_DATA if index is None else PALETTE[index]


def quantile_breaks(values: list[float], n: int = 5) -> tuple[float, ...]:
    """Lower bounds of up to ``n`` classes of about equal size, rounded to 1 decimal.

    >>> quantile_breaks([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 5)
    (0.0, 2.8, 4.6, 6.4, 8.2)
    >>> quantile_breaks([], 5)
    (0.0,)
    """
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    if not data:
        return (0.0,)
    cuts = [0.0]
    for q in range(1, n):
        position = q * (len(data) - 1) / n
        low, high = math.floor(position), math.ceil(position)
        cut = round(data[low] + (data[high] - data[low]) * (position - low), 1)
        if cut > cuts[-1]:
            cuts.append(cut)
    return tuple(cuts)


def legend(breaks: tuple[float, ...], fmt: str = "{:g}", unit: str = "") -> list[tuple[str, str]]:
    """(colour, label) of each class, for the legend beside the map.

    >>> legend((3, 5, 10))
    [('#ffffb2', '3 à 4'), ('#fecc5c', '5 à 9'), ('#fd8d3c', '10 et plus')]
    >>> legend((0.0, 2.5), "{:.1f}", " ‰")[1]
    ('#fecc5c', '2,5 ‰ et plus')
    """
    items = []
    integral = all(float(b).is_integer() for b in breaks) and fmt == "{:g}"
    for index, low in enumerate(breaks):
        text = fmt.format(low).replace(".", ",")
        if index + 1 == len(breaks):
            label = f"{text}{unit} et plus"
        elif integral:
            label = f"{text} à {fmt.format(breaks[index + 1] - 1)}{unit}"
        else:
            label = f"{text} à {fmt.format(breaks[index + 1]).replace('.', ',')}{unit}"
        items.append((PALETTE[index], label))
    return items


def cell_layer(geojson: dict, breaks: tuple[float, ...] = COUNT_BREAKS,
               name: str = "Faits par carreau de 200 m") -> folium.FeatureGroup:
    """Grid cells (GeoJSON features with a ``count`` property) coloured by count.

    Examples
    --------
    >>> square = {"type": "Polygon", "coordinates": [[[6.8, 47.6], [6.81, 47.6], [6.81, 47.61], [6.8, 47.6]]]}
    >>> layer = cell_layer({"type": "FeatureCollection", "features": [
    ...     {"type": "Feature", "properties": {"cell": "1_1", "count": 7}, "geometry": square}]})
    >>> layer.layer_name
    'Faits par carreau de 200 m'
    """
    group = folium.FeatureGroup(name=name)
    if geojson["features"]:
        folium.GeoJson(
            geojson,
            style_function=lambda f: {"color": "#7f1d1d", "weight": 0.5, "fillOpacity": 0.75,
                                      "fillColor": colour_of(f["properties"]["count"], breaks)},
            highlight_function=lambda f: {"weight": 2},
            tooltip=folium.GeoJsonTooltip(["count"], aliases=["Faits sur la période"]),
        ).add_to(group)
    return group


def rate_layer(shapes: gpd.GeoDataFrame, breaks: tuple[float, ...],
               name: str = "Faits pour 1 000 habitants") -> folium.FeatureGroup:
    """Sectors coloured by their ``rate`` column, with code, name and rate on hover.

    Parameters
    ----------
    shapes : GeoDataFrame
        Columns ``code``, ``name``, ``rate`` (None without population) and a geometry.

    Examples
    --------
    >>> import shapely
    >>> shapes = gpd.GeoDataFrame({"code": ["A"], "name": ["Nord"], "rate": [2.5]},
    ...                           geometry=[shapely.box(990000, 6700000, 991000, 6701000)], crs=2154)
    >>> rate_layer(shapes, (0.0, 2.0)).layer_name
    'Faits pour 1 000 habitants'
    >>> shapes.loc[0, "name"] = "<img src=x onerror=alert(1)>"
    >>> [geojson] = rate_layer(shapes, (0.0, 2.0))._children.values()
    >>> geojson.data["features"][0]["properties"]["name"]
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    rates = {code: "–" if r is None or r != r else f"{r:.1f} ‰".replace(".", ",")
             for code, r in zip(shapes.code, shapes.rate)}
    colours = {code: colour_of(rate, breaks) for code, rate in zip(shapes.code, shapes.rate)}
    return _sector_choropleth(shapes, colours, ("taux", "Pour 1 000 hab.", rates), name)


#: Colour and French label of each Mann-Kendall trend word (geo.analysis.commune_figures.TREND_WORDS).
TREND_STYLE = TREND


def trend_layer(shapes: gpd.GeoDataFrame, name: str = "Tendance sur 12 mois") -> folium.FeatureGroup:
    """Sectors coloured by the Mann-Kendall trend of their monthly counts (``trend`` column), hidden at first.

    Examples
    --------
    >>> import shapely
    >>> shapes = gpd.GeoDataFrame({"code": ["A"], "name": ["Nord"], "trend": ["hausse"]},
    ...                           geometry=[shapely.box(990000, 6700000, 991000, 6701000)], crs=2154)
    >>> trend_layer(shapes).show
    False
    """
    styles = {code: TREND_STYLE.get(t, ("#ffffff", t)) for code, t in zip(shapes.code, shapes.trend)}
    return _sector_choropleth(shapes, {c: s[0] for c, s in styles.items()},
                              ("tendance", "Tendance", {c: s[1] for c, s in styles.items()}), name,
                              show=False, keep=("trend",))


def _sector_choropleth(shapes: gpd.GeoDataFrame, colours: dict[str, str], shown: tuple[str, str, dict[str, str]],
                       name: str, show: bool = True, keep: tuple[str, ...] = ()) -> folium.FeatureGroup:
    """Sectors filled with ``colours[code]``.

    ``shown`` is (property, French label, text by code): the tooltip gives code, name
    and that text. ``keep``: columns of ``shapes`` also carried as properties.
    """
    field, alias, values = shown
    gdf = shapes[["code", "name", *keep, "geometry"]].copy().to_crs(2154)
    gdf["geometry"] = gdf.geometry.simplify(2.0, preserve_topology=True)
    gdf[field] = gdf["code"].map(values)
    for column in ("code", "name", field):
        gdf[column] = gdf[column].map(html_text)
    fill = {html_text(code): colour for code, colour in colours.items()}  # keyed as the features' code now
    group = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(
        gdf.to_crs(4326).to_json(drop_id=True),
        style_function=lambda f: {"color": "#334155", "weight": 2, "fillOpacity": 0.8,
                                  "fillColor": fill[f["properties"]["code"]]},
        highlight_function=lambda f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(["code", "name", field], aliases=["Secteur", "Nom", alias]),
    ).add_to(group)
    return group


__all__ = ["COUNT_BREAKS", "PALETTE", "TREND_STYLE", "cell_layer", "class_of", "colour_of", "legend",
           "quantile_breaks", "rate_layer", "trend_layer"]

