"""``psq load problems FILE``: the recurring problems a GPO works on.

A problem has a category, a title, a place (a point for a spot, a line for a street or a
bus line, a polygon for a square or a housing estate), the partner who raised it, a
status and the day it was reported. Rows are checked like occurrences; the place is
attributed to the sector valid on the reported day and to the commune, through a point
on its surface. Re-importing updates what changed (a new status is recorded as a dated
transition, if the lifecycle allows it) and never duplicates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS
from sqlalchemy.engine import Connection, Engine

from geo.db.bulk import copy_rows, ewkb_hex
from geo.db.queries import named_query
from geo.db.unit_of_work import transaction
from geo.ingest import row_checks
from geo.ingest.occurrences import DEFAULT_TZ, BadRowsError, lock_for_import, territory_of, write_rejects
from geo.ingest.row_checks import Faults, Territory
from geo.ingest.tabular_file import RowTable, read_rows, resolve_columns
from geo.problems.status import resolve_status, transition_error
from geo.settings import LOCAL_TZ, local_today
from geo.territory.projections import METROPOLITAN_SRID

FIELDS = {
    "id": ("id", "identifiant", "external_id"),
    "category": ("category", "categorie", "catégorie", "type"),
    "title": ("title", "titre", "intitule", "intitulé"),
    "description": ("description", "commentaire"),
    "partner": ("partner", "partenaire", "signale_par", "source_partenaire"),
    "status": ("status", "statut", "etat", "état"),
    "reported_on": ("reported_on", "date", "date_signalement", "signale_le"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "x": ("x",),
    "y": ("y",),
    "wkt": ("wkt", "geometry", "geometrie", "géométrie"),
}
KINDS = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}


@dataclasses.dataclass
class ProblemLoadReport:
    file: str
    source: str
    read: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    outside_sectors: int = 0
    rejects_file: Path | None = None

    def lines(self) -> list[str]:
        out = [f"{self.file}: {self.read} rows read, {self.added} problems added, {self.updated} updated, "
               f"{self.unchanged} unchanged (source '{self.source}'), {self.rejected} rejected."]
        if self.outside_sectors:
            out.append(f"{self.outside_sectors} of them lie outside every sector: kept, with no sector.")
        if self.rejects_file:
            out.append(f"Rejected rows, each with its reason, are in {self.rejects_file}.")
        return out


def check_problems(table: RowTable, *, mapping: dict[str, str] | None = None, crs: str | None = None,
                   tz: str = DEFAULT_TZ, territory: Territory | None = None,
                   today: dt.date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row; return (good rows with Lambert-93 geometries, bad rows with reasons)."""
    columns = resolve_columns(table, mapping or {}, FIELDS, ("id", "category", "title"), point_or=("wkt",))
    rows = table.rows
    faults = Faults(len(rows))
    territory = territory or Territory.metropolitan_france()
    today = today or local_today()
    get = lambda f: row_checks.text(rows[columns[f]]) if f in columns else pd.Series("", index=rows.index)  # noqa: E731

    ids = get("id")
    row_checks.check_ids(ids, rows["line"], faults, table.where)
    codes = row_checks.check_categories(get("category"), faults)
    titles = get("title")
    faults.add(titles == "", "missing title")
    statuses_text = get("status")
    statuses = statuses_text.map(lambda s: resolve_status(s) if s else "signale")
    faults.add(statuses.isna(), "unknown status '{}' (statuses: signale, priorise, en_traitement, resolu, reouvert)",
               statuses_text)
    # Without a date, a problem is reported on the day it is loaded.
    reported_text = get("reported_on")
    reported_text = reported_text.where(reported_text != "", today.isoformat())
    reported = row_checks.parse_dates(reported_text, tz, faults).dt.tz_convert(tz).dt.tz_localize(None)
    geometries = _geometries(rows, columns, table, crs, territory, faults)

    bad_mask = faults.bad()
    good = pd.DataFrame({
        "line": rows["line"].to_numpy(), "external_id": ids.to_numpy(), "category": codes.to_numpy(),
        "title": titles.to_numpy(), "description": get("description").to_numpy(),
        "partner": get("partner").to_numpy(), "status": statuses.to_numpy(),
        "reported_on": reported.dt.date.to_numpy(), "geometry": geometries,
    })[~bad_mask].reset_index(drop=True)
    reasons = faults.reasons()
    bad = rows[bad_mask].drop(columns=[c for c in ("geometry",) if c in rows]).copy()
    bad["reason"] = [reasons[p] for p in np.flatnonzero(bad_mask)]
    return good, bad


def _geometries(rows, columns, table, crs, territory, faults) -> np.ndarray:
    """Lambert-93 geometries: from the file's features, a WKT column, or lat/lon / x/y points."""
    if "geometry" in rows or "wkt" in columns:
        if "geometry" in rows:
            shapes, source_crs = np.asarray(rows["geometry"], dtype=object), CRS.from_user_input(table.crs)
        else:
            wkt = row_checks.text(rows[columns["wkt"]])
            shapes = shapely.from_wkt(wkt.to_numpy(), on_invalid="ignore")
            faults.add((wkt != "") & pd.isna(pd.Series(shapes)), "geometry '{}' is not WKT", wkt.str.slice(0, 40))
            faults.add(wkt == "", "missing geometry")
            source_crs = CRS.from_user_input(crs or "EPSG:4326")
        return _projected_shapes(shapes, source_crs, territory, faults)
    if "lat" in columns and "lon" in columns and not crs:
        first, second, names, point_crs = rows[columns["lat"]], rows[columns["lon"]], ("lat", "lon"), CRS.from_epsg(4326)
    else:
        first, second, names, point_crs = rows[columns["x"]], rows[columns["y"]], ("x", "y"), CRS.from_user_input(crs or "EPSG:2154")
    x, y = row_checks.check_coordinates(row_checks.text(first), row_checks.text(second), names, point_crs,
                                        territory, faults)
    return shapely.points(x, y)


def _projected_shapes(shapes, source_crs, territory, faults) -> np.ndarray:
    return row_checks.check_shapes(shapes, source_crs, territory, faults, kinds=KINDS,
                                   wrong_kind="a problem's place is a point, line or polygon, not a {}")


def load_problems(engine: Engine, path: str | Path, *, source: str | None = None,
                  mapping: dict[str, str] | None = None, crs: str | None = None, encoding: str | None = None,
                  tz: str = DEFAULT_TZ, skip_invalid: bool = False, rejects: Path | None = None,
                  layer: str | None = None) -> ProblemLoadReport:
    """Check and load a problem file in one transaction (see :func:`load_occurrences`)."""
    path = Path(path)
    table = read_rows(path, encoding=encoding, layer=layer)
    source = source or path.stem
    report = ProblemLoadReport(path.name, source, read=len(table.rows))
    with transaction(engine) as conn:
        good, bad = check_problems(table, mapping=mapping, crs=crs, tz=tz, territory=territory_of(conn))
        good, bad = _check_transitions(conn, source, good, bad, table)
        report.rejected = len(bad)
        if len(bad) and not skip_invalid:
            raise BadRowsError(path.name, len(table.rows),
                               [(f"{table.where} {line}", reason) for line, reason in zip(bad["line"], bad["reason"])])
        if len(bad):
            report.rejects_file = write_rejects(bad, table, path, rejects)
        counts = write_problems(conn, good, source, file=path.name, read=report.read, rejected=report.rejected)
    report.added, report.updated, report.outside_sectors = counts
    report.unchanged = len(good) - report.added - report.updated
    return report


def _check_transitions(conn: Connection, source: str, good: pd.DataFrame, bad: pd.DataFrame, table: RowTable):
    current = dict(conn.execute(
        sa.text("SELECT external_id, status FROM problem WHERE source = :s AND external_id = ANY(:ids)"),
        {"s": source, "ids": list(good["external_id"])}).all())
    errors = [transition_error(current[e], s) if e in current else None
              for e, s in zip(good["external_id"], good["status"])]
    refused = pd.Series([e is not None for e in errors], index=good.index)
    if refused.any():
        rows = table.rows.set_index("line").loc[good.loc[refused, "line"]].reset_index()
        rows["reason"] = [e for e in errors if e]
        bad = pd.concat([bad, rows.drop(columns=[c for c in ("geometry",) if c in rows])],
                        ignore_index=True).sort_values("line")
        good = good[~refused].reset_index(drop=True)
    return good, bad


def write_problems(conn: Connection, good: pd.DataFrame, source: str, *, file: str | None, read: int,
                   rejected: int = 0) -> tuple[int, int, int]:
    """Stage, attribute and upsert problems; record status transitions.

    Returns (added, updated, outside every sector).
    """
    lock_for_import(conn, "problem", "problem_status_change", "import_batch")
    conn.execute(sa.text(
        "CREATE TEMPORARY TABLE problem_staging (external_id text, category text, title text, description text, "
        "partner text, status text, reported_on date, geom geometry) ON COMMIT DROP"))
    copy_rows(conn, "problem_staging",
              ["external_id", "category", "title", "description", "partner", "status", "reported_on", "geom"],
              ((r.external_id, r.category, r.title, r.description or None, r.partner or None, r.status,
                r.reported_on, ewkb_hex(r.geometry, METROPOLITAN_SRID)) for r in good.itertuples()))
    batch = conn.execute(sa.text(
        "INSERT INTO import_batch (kind, source, file, rows_read, rows_written, rows_already_present, "
        "rows_rejected, rows_outside_sectors) VALUES ('problems', :source, :file, :read, 0, 0, :rejected, 0) "
        "RETURNING id"), {"source": source, "file": file, "read": read, "rejected": rejected}).scalar_one()
    written = conn.execute(named_query("problem_attribute_upsert"), {"source": source, "batch": batch,
                                                                       "tz": LOCAL_TZ}).all()
    added = sum(1 for r in written if r.added)
    outside = sum(1 for r in written if r.sector_id is None)
    conn.execute(sa.text(
        "UPDATE import_batch SET rows_written = :w, rows_already_present = :a, rows_outside_sectors = :o "
        "WHERE id = :id"), {"w": len(written), "a": len(good) - len(written), "o": outside, "id": batch})
    return added, len(written) - added, outside
