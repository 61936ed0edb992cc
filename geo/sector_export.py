"""``psq export sectors``: the sectors valid on a day, in a file ``load sectors`` reads.

GeoJSON and CSV are written in lon/lat (EPSG:4326, RFC 7946; CSV with the geometry
as WKT in a ``geometry`` column), GeoPackage in Lambert-93 as stored.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import geopandas as gpd
import pyogrio
from sqlalchemy.engine import Engine

from geo.projections import METROPOLITAN_SRID
from geo.queries import named_query

FORMATS = ("geojson", "gpkg", "csv")


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
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format '{fmt}': choose one of {', '.join(FORMATS)}.")
    sectors = sectors_as_of(engine, day, csp)
    for column in ("valid_from", "valid_to"):
        sectors[column] = sectors[column].map(lambda d: d.isoformat() if d else None)
    if fmt == "gpkg":
        if out is None:
            raise ValueError("A GeoPackage is a database file: give it a name with -o FILE.")
        pyogrio.write_dataframe(sectors, out, layer="sector", driver="GPKG")
        return len(sectors), None
    sectors = sectors.to_crs(4326)
    if fmt == "geojson":
        text = sectors.to_json(drop_id=True, na="null")
    else:
        frame = sectors.drop(columns="geometry").assign(geometry=sectors.geometry.to_wkt(rounding_precision=8))
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        text = buffer.getvalue()
    if out is None:
        return len(sectors), text.encode()
    Path(out).write_text(text, encoding="utf-8")
    return len(sectors), None
