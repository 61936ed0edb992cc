"""JSON and vector-tile endpoints under ``/api/``, for the map scripts.

Every endpoint needs a login (``web.access.login_gate``: 401 when anonymous), checks
the role and the sector scope on the server (403 JSON) and answers a bad parameter
with 400 JSON and a French message. Occurrences leave the server aggregated (200 m
cells) or as vector tiles carrying their category and month only.

- ``GET /api/secteurs/<csp>/<code>/cellules?bbox=lon0,lat0,lon1,lat1&du=&au=&categorie=``
- ``GET /api/secteurs/<csp>/<code>/tuiles/<z>/<x>/<y>.mvt?du=&au=&categorie=``
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, abort, request

from geo.db.queries import named_query
from geo.db.unit_of_work import connection
from geo.settings import CELL_SIZE_M, LOCAL_TZ
from web.access import permission_required
from web.db import get_db
from web.pages.sector import find_sector, read_filters

bp = Blueprint("api", __name__, url_prefix="/api")

MVT_TYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22


#: Where Lambert-93 is defined (EPSG:2154's area of use, lon/lat): a box is clipped to it before PostGIS
#: projects it, which fails outside ("Point outside of projection domain").
LAMBERT93_LONLAT = (-9.86, 41.15, 10.38, 51.56)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``lon0,lat0,lon1,lat1`` in degrees (EPSG:4326), clipped to Lambert-93's domain (None if it lies
    outside: nothing there); aborts with 400 and a French message otherwise.

    Examples
    --------
    >>> parse_bbox("6.8,47.6,6.9,47.7")
    (6.8, 47.6, 6.9, 47.7)
    >>> parse_bbox("-180,-90,180,90"), parse_bbox("100,10,110,20")
    ((-9.86, 41.15, 10.38, 51.56), None)
    """
    if not text:
        abort(400, description="Le paramètre bbox est obligatoire : bbox=lon0,lat0,lon1,lat1 (degrés).")
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(parts) != 4 or len(values) != 4 or not all(math.isfinite(v) for v in values):
        abort(400, description=f"bbox « {text} » : attendu quatre nombres lon0,lat0,lon1,lat1 (degrés).")
    lon0, lat0, lon1, lat1 = values
    if not (-180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90):
        abort(400, description=f"bbox « {text} » : longitudes entre -180 et 180, latitudes entre -90 et 90, "
                               "et le coin sud-ouest avant le coin nord-est.")
    west, south, east, north = LAMBERT93_LONLAT
    clipped = (max(lon0, west), max(lat0, south), min(lon1, east), min(lat1, north))
    return clipped if clipped[0] < clipped[2] and clipped[1] < clipped[3] else None


def _check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        abort(400, description=f"Tuile {z}/{x}/{y} inexistante (zoom de 0 à {MAX_ZOOM}, x et y de 0 à 2^z - 1).")


@bp.route("/secteurs/<csp>/<code>/cellules")
@permission_required("sector.view")
def sector_cells(csp: str, code: str):
    """GeoJSON of the 200 m cells holding occurrences, inside the sector and the bbox."""
    filters = read_filters(request.args)
    sector = find_sector(csp, code, filters.last)
    bbox = parse_bbox(request.args.get("bbox"))  # after the scope check: a refused user learns nothing
    if bbox is None:
        return Response('{"type": "FeatureCollection", "features": []}', mimetype="application/geo+json")
    with connection(get_db()) as conn:
        body = conn.execute(named_query("sector_cells"), {
            "sector_id": sector.id, "lon0": bbox[0], "lat0": bbox[1], "lon1": bbox[2], "lat1": bbox[3],
            "first": filters.first, "last": filters.last, "category": filters.category, "cell": CELL_SIZE_M,
            "tz": LOCAL_TZ}).scalar()
    # The FeatureCollection is built by PostGIS as text: no re-encoding in Python.
    return Response(body, mimetype="application/geo+json", headers={"Cache-Control": "private, max-age=60"})


@bp.route("/secteurs/<csp>/<code>/tuiles/<int:z>/<int:x>/<int:y>.mvt")
@permission_required("sector.view")
def sector_tile(csp: str, code: str, z: int, x: int, y: int):
    """One Mapbox vector tile of the sector's occurrences (layer ``occurrences``: category, month)."""
    _check_tile(z, x, y)
    filters = read_filters(request.args)
    sector = find_sector(csp, code, filters.last)
    with connection(get_db()) as conn:
        tile = conn.execute(named_query("sector_tile"), {
            "sector_id": sector.id, "z": z, "x": x, "y": y, "first": filters.first, "last": filters.last,
            "category": filters.category, "tz": LOCAL_TZ}).scalar()
    return Response(bytes(tile or b""), mimetype=MVT_TYPE, headers={"Cache-Control": "private, max-age=60"})


