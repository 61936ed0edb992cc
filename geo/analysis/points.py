"""Scopes and periods of a hotspot run, and the occurrences they hold.

A scope is a sector (as drawn on the last day of the period), a CSP (the union of its
sectors on that day), a commune, or a polygon drawn by a user (WKT in lon/lat). Grid
aggregation is done in numpy (`geo.analysis.hotspots.grid.count_points`): the points of the
scope travel once as two float arrays and ``np.bincount`` counts them in
milliseconds, while the full grid of the scope (zero cells included) is a mask built
from the polygon. Doing it in PostGIS would need the same cell set generated in SQL
and a GROUP BY, for no gain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from shapely import wkb
from sqlalchemy.engine import Connection

from geo.analysis.hotspots import HotspotInputError
from geo.problems.categories import resolve
from geo.settings import LOCAL_TZ
from geo.territory.projections import METROPOLITAN_SRID


@dataclasses.dataclass(frozen=True)
class Scope:
    kind: str  # sector, csp, commune, polygon
    ref: str  # code, name, INSEE code, or "drawn"
    geometry: shapely.MultiPolygon  # EPSG:2154

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclasses.dataclass(frozen=True)
class Points:
    """Occurrences of a scope and period: Lambert-93 coordinates, local times, category codes."""

    x: np.ndarray
    y: np.ndarray
    at: np.ndarray  # datetime64[us], local wall-clock time (Europe/Paris)
    ids: np.ndarray
    category: np.ndarray  # category codes (object array)

    def where(self, keep: np.ndarray) -> "Points":
        """The occurrences where the boolean array ``keep`` is true."""
        return Points(self.x[keep], self.y[keep], self.at[keep], self.ids[keep], self.category[keep])


def parse_scope(conn: Connection, text: str, day: dt.date) -> Scope:
    """``sector:CODE``, ``csp:NAME``, ``commune:INSEE`` or ``polygon:WKT`` (lon/lat).

    Raises HotspotInputError naming what was not found.
    """
    kind, sep, ref = text.partition(":")
    kind, ref = kind.strip().lower(), ref.strip()
    if not sep or not ref or kind not in ("sector", "csp", "commune", "polygon"):
        raise HotspotInputError(
            f"scope '{text}': write sector:CODE, csp:NAME, commune:INSEE or polygon:WKT (in lon/lat)"
        )
    if kind == "polygon":
        return Scope("polygon", "drawn", _drawn_polygon(ref))
    query = {
        "sector": "SELECT ST_AsBinary(geom) FROM sector WHERE code = :ref AND valid_from <= :day "
                  "AND (valid_to IS NULL OR valid_to > :day) ORDER BY csp_id LIMIT 1",
        "csp": "SELECT ST_AsBinary(ST_Multi(ST_Union(s.geom))) FROM sector s JOIN csp c ON c.id = s.csp_id "
               "WHERE c.name = :ref AND s.valid_from <= :day AND (s.valid_to IS NULL OR s.valid_to > :day)",
        "commune": "SELECT ST_AsBinary(geom) FROM commune WHERE insee = :ref",
    }[kind]
    found = conn.execute(sa.text(query), {"ref": ref, "day": day}).scalar()
    if found is None:
        what = {"sector": f"no sector with code {ref} was valid on {day}",
                "csp": f"no CSP named {ref} had sectors on {day}",
                "commune": f"no commune with INSEE code {ref} is loaded"}[kind]
        raise HotspotInputError(what)
    geometry = wkb.loads(bytes(found))
    return Scope(kind, ref, geometry if geometry.geom_type == "MultiPolygon" else shapely.MultiPolygon([geometry]))


def _drawn_polygon(text: str) -> shapely.MultiPolygon:
    try:
        shape = shapely.from_wkt(text)
    except shapely.errors.GEOSException:
        raise HotspotInputError(f"the drawn polygon is not WKT: {text[:60]}") from None
    if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid:
        raise HotspotInputError("the drawn scope must be a valid polygon in lon/lat")
    projected = shapely.transform(shape, _to_l93, interleaved=False)
    return projected if projected.geom_type == "MultiPolygon" else shapely.MultiPolygon([projected])


def _to_l93(x, y):
    return Transformer.from_crs(4326, METROPOLITAN_SRID, always_xy=True).transform(x, y)


def resolve_category(name: str | None) -> str | None:
    if name is None:
        return None
    code = resolve(name)
    if code is None:
        raise HotspotInputError(f"unknown category '{name}'")
    return code


def fetch_points(conn: Connection, scope: Scope, first: dt.date, last: dt.date, category: str | None) -> Points:
    """The occurrences inside the scope between two local days (both included)."""
    rows = conn.execute(sa.text(
        "SELECT ST_X(geom), ST_Y(geom), (occurred_at AT TIME ZONE :tz), id, category_code FROM occurrence "
        "WHERE ST_Intersects(geom, ST_GeomFromWKB(:scope, 2154)) "
        "AND occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz) "
        "AND occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz) "
        "AND (CAST(:category AS text) IS NULL OR category_code = :category) ORDER BY id"),
        {"tz": LOCAL_TZ, "scope": shapely.to_wkb(scope.geometry), "first": first, "last": last,
         "category": category}).all()
    if not rows:
        return Points(np.empty(0), np.empty(0), np.empty(0, "datetime64[us]"), np.empty(0, np.int64),
                      np.empty(0, object))
    x, y, at, ids, category = zip(*rows)
    return Points(np.asarray(x, float), np.asarray(y, float), np.asarray(at, "datetime64[us]"),
                  np.asarray(ids, np.int64), np.asarray(category, object))
