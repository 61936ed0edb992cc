"""The map every page starts from: no tiles unless configured, offline assets."""

from __future__ import annotations

import folium


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
                   zoom_control=True, control_scale=True, prefer_canvas=False)
    if tiles_url:
        folium.TileLayer(tiles=tiles_url, attr=attribution or " ", name="Fond de carte", max_zoom=18).add_to(m)
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m
