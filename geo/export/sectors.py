"""``psq export sectors``: the sectors valid on a day, in a file ``load sectors`` reads.

GeoJSON and CSV are written in lon/lat (EPSG:4326, RFC 7946; CSV with the geometry
as WKT in a ``geometry`` column), GeoPackage in Lambert-93 as stored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.engine import Engine

from geo.db.audit import audit
from geo.db.unit_of_work import transaction
from geo.export.vector import FORMATS, write_vector
from geo.territory.lookup import sectors_as_of

__all__ = ["FORMATS", "export_sectors"]


def export_sectors(engine: Engine, fmt: str, out: Path | None, day: dt.date | None = None,
                   csp: str | None = None) -> tuple[int, bytes | None]:
    """Write the sectors to ``out``; without ``out``, return the bytes (not for gpkg).

    Returns the number of sectors and, when no path was given, the file's content. The
    export is written in the audit log (``export.sectors``).
    """
    sectors = sectors_as_of(engine, day, csp)
    for column in ("valid_from", "valid_to"):
        sectors[column] = sectors[column].map(lambda d: d.isoformat() if d else None)
    content = write_vector(sectors, fmt, out, layer="sector")
    with transaction(engine) as conn:
        audit(conn, "export.sectors", target=str(out) if out else "stdout",
              details={"format": fmt, "sectors": len(sectors), "as_of": day, "csp": csp})
    return len(sectors), content
