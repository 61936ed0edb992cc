"""``psq export sectors``: the sectors valid on a day, in a file ``load sectors`` reads.

GeoJSON and CSV are written in lon/lat (EPSG:4326, RFC 7946; CSV with the geometry
as WKT in a ``geometry`` column), GeoPackage in Lambert-93 as stored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
from sqlalchemy.engine import Engine

from geo.projections import METROPOLITAN_SRID
from geo.queries import named_query
from geo.vector_export import FORMATS, write_vector

__all__ = ["FORMATS", "export_sectors", "sectors_as_of"]


def sectors_as_of(engine: Engine, day: dt.date | None = None, csp: str | None = None) -> gpd.GeoDataFrame:
    """The sectors valid on ``day`` (default today), in Lambert-93.

    Examples
    --------
    >>> from geo.sector_import import load_sectors
    >>> _ = load_sectors(engine, "data/boundaries/sectors-csp-belfort.geojson", valid_from=dt.date(2024, 1, 1))
    >>> len(sectors_as_of(engine, dt.date(2025, 1, 1), csp="CSP Belfort"))
    8
    >>> len(sectors_as_of(engine, dt.date(2023, 12, 31)))
    0
    """
    with engine.connect() as conn:
        return gpd.read_postgis(
            named_query("sectors_as_of"), conn, geom_col="geom",
            params={"day": day or dt.date.today(), "csp": csp}, crs=METROPOLITAN_SRID,
        ).rename_geometry("geometry")


def export_sectors(engine: Engine, fmt: str, out: Path | None, day: dt.date | None = None,
                   csp: str | None = None) -> tuple[int, bytes | None]:
    """Write the sectors to ``out``; without ``out``, return the bytes (not for gpkg).

    Returns the number of sectors and, when no path was given, the file's content.
    """
    sectors = sectors_as_of(engine, day, csp)
    for column in ("valid_from", "valid_to"):
        sectors[column] = sectors[column].map(lambda d: d.isoformat() if d else None)
    return len(sectors), write_vector(sectors, fmt, out, layer="sector")
