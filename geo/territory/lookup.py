"""Read access to the territory: CSPs, their sectors on a day, the communes around."""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
from sqlalchemy.engine import Engine

from geo.db.queries import named_query
from geo.db.unit_of_work import connection
from geo.settings import local_today
from geo.territory.projections import METROPOLITAN_SRID


@dataclasses.dataclass(frozen=True)
class SectorSummary:
    code: str
    name: str
    area_km2: float
    population: int  # estimated: commune population pro rata of the area covered
    communes: list[str]


def list_csps(engine: Engine, day: dt.date | None = None) -> list[dict]:
    with connection(engine) as conn:
        rows = conn.execute(named_query("csp_list"), {"day": day or local_today()}).mappings().all()
    return [dict(r) for r in rows]


def sector_summaries(engine: Engine, csp: str, day: dt.date | None = None) -> list[SectorSummary]:
    with connection(engine) as conn:
        rows = conn.execute(named_query("sector_summary"), {"csp": csp, "day": day or local_today()}).all()
    return [SectorSummary(r.code, r.name, r.area_km2, r.population, list(r.communes)) for r in rows]


def communes_around(engine: Engine, sectors: gpd.GeoDataFrame, margin_m: float = 3000) -> gpd.GeoDataFrame:
    """The communes within ``margin_m`` metres of the sectors' bounding box."""
    xmin, ymin, xmax, ymax = sectors.to_crs(METROPOLITAN_SRID).total_bounds
    params = {"xmin": xmin - margin_m, "ymin": ymin - margin_m, "xmax": xmax + margin_m, "ymax": ymax + margin_m}
    with connection(engine) as conn:
        return gpd.read_postgis(named_query("communes_in_box"), conn, geom_col="geom", params=params,
                                crs=METROPOLITAN_SRID).rename_geometry("geometry")


__all__ = ["SectorSummary", "communes_around", "list_csps", "sector_summaries", "sectors_as_of"]


def sectors_as_of(engine: Engine, day: dt.date | None = None, csp: str | None = None) -> gpd.GeoDataFrame:
    """The sectors valid on ``day`` (default today), in Lambert-93.

    Examples
    --------
    >>> from geo.ingest.sectors import load_sectors
    >>> _ = load_sectors(engine, "data/boundaries/sectors-csp-belfort.geojson", valid_from=dt.date(2024, 1, 1))
    >>> len(sectors_as_of(engine, dt.date(2025, 1, 1), csp="CSP Belfort"))
    8
    >>> len(sectors_as_of(engine, dt.date(2023, 12, 31)))
    0
    """
    with connection(engine) as conn:
        return gpd.read_postgis(
            named_query("sectors_as_of"), conn, geom_col="geom",
            params={"day": day or local_today(), "csp": csp}, crs=METROPOLITAN_SRID,
        ).rename_geometry("geometry")
