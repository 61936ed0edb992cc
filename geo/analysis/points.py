"""The occurrences a scope holds over a period, as arrays (the scopes: `geo.analysis.scopes`).

Grid aggregation is done in numpy (`geo.analysis.hotspots.grid.count_points`): the points of the
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
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import HotspotInputError
from geo.analysis.scopes import Scope
from geo.db.unit_of_work import connection
from geo.problems.categories import resolve
from geo.settings import LOCAL_TZ


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

    def between(self, first: dt.date, last: dt.date) -> "Points":
        """The occurrences of the local days ``first`` to ``last``, both included.

        Examples
        --------
        >>> at = np.array(["2026-01-01T23:59", "2026-01-02T00:00", "2026-01-03T08:00"], "datetime64[us]")
        >>> points = Points(np.zeros(3), np.zeros(3), at, np.arange(3), np.array(["a", "b", "c"], object))
        >>> points.between(dt.date(2026, 1, 2), dt.date(2026, 1, 3)).ids.tolist()
        [1, 2]
        """
        keep = (self.at >= np.datetime64(first, "us")) & (self.at < np.datetime64(last + dt.timedelta(days=1), "us"))
        return self.where(keep)


def resolve_category(name: str | None) -> str | None:
    if name is None:
        return None
    code = resolve(name)
    if code is None:
        raise HotspotInputError(f"unknown category '{name}'")
    return code


def fetch_points(bind: Engine | Connection, scope: Scope, first: dt.date, last: dt.date,
                 category: str | None) -> Points:
    """The occurrences inside the scope between two local days (both included), in id order."""
    with connection(bind) as conn:
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
