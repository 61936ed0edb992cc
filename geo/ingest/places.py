"""``psq load places FILE --kind KIND``: the sensitive places near which a problem weighs more on the agenda.

Schools (``school``), transport stops (``transport``) and social housing (``housing``), from a
CSV (``lat``/``lon`` or ``x``/``y`` columns, with a ``name`` and an ``id``) or a GeoJSON or
GeoPackage of points, lines or polygons in any CRS, stored in Lambert-93 in
``sensitive_place``. Rows are checked like occurrences (geo.ingest.row_checks); one bad row
refuses the file, each bad row named with its line (or feature) and reason, nothing written.
Re-importing updates what changed and never duplicates: a place is unique by (source, id).
A file with no id column gets ids derived from each row's content (name and place).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS
from pyproj.exceptions import CRSError
from sqlalchemy.engine import Engine

from geo.db.bulk import copy_rows, ewkb_hex
from geo.db.unit_of_work import transaction
from geo.ingest import row_checks
from geo.ingest.occurrences import BadRowsError, lock_for_import, territory_of
from geo.ingest.row_checks import Faults, Territory
from geo.ingest.tabular_file import RowTable, read_rows, resolve_columns
from geo.ingest.vector_file import VectorFileError
from geo.territory.projections import METROPOLITAN_SRID

#: The kinds of place (the CHECK of migration 0012; their French names: geo.gpo.agenda.PLACE_KINDS).
KINDS = ("school", "transport", "housing")
# Field -> header names recognised without --name-field / --id-field (lower case).
FIELDS = {
    "id": ("id", "identifiant", "external_id", "code", "uai", "stop_id"),
    "name": ("name", "nom", "libelle", "libellé", "appellation_officielle", "stop_name"),
    "lat": ("lat", "latitude", "stop_lat"),
    "lon": ("lon", "lng", "long", "longitude", "stop_lon"),
    "x": ("x",),
    "y": ("y",),
}
SHAPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}


class BadPlacesError(BadRowsError):
    """Rows of a place file that cannot be loaded: the headline, then each row with its reason."""

    outcome = "nothing was written"


@dataclasses.dataclass
class PlaceLoadReport:
    file: str
    source: str
    kind: str
    read: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def lines(self) -> list[str]:
        return [(f"{self.file}: {self.read} rows read, {self.added} {self.kind} places added, {self.updated} updated, "
                 f"{self.unchanged} unchanged (source '{self.source}').")]


def check_places(table: RowTable, *, mapping: dict[str, str] | None = None, crs: str | None = None,
                 territory: Territory | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row; return (good rows: line, external_id, name, Lambert-93 geometry; bad rows with reasons)."""
    columns = resolve_columns(table, mapping or {}, FIELDS, ())
    rows = table.rows
    faults = Faults(len(rows))
    get = lambda f: row_checks.text(rows[columns[f]]) if f in columns else pd.Series("", index=rows.index)  # noqa: E731
    ids = get("id")
    if "id" in columns:
        row_checks.check_ids(ids, rows["line"], faults, table.where)
    geometries = _geometries(table, columns, crs, territory or Territory.metropolitan_france(), faults)
    bad_mask = faults.bad()
    if "id" not in columns:  # the place's content, to the centimetre, names it: a reload adds nothing
        rounded = [shapely.to_wkb(shapely.set_precision(g, 0.01), hex=True) if g is not None else ""
                   for g in geometries]
        ids, _ = row_checks.content_ids(get("name"), pd.Series(rounded, index=rows.index), keep=~bad_mask)
    good = pd.DataFrame({"line": rows["line"].to_numpy(), "external_id": ids.to_numpy(),
                         "name": get("name").to_numpy(), "geometry": geometries})[~bad_mask].reset_index(drop=True)
    reasons = faults.reasons()
    bad = rows[bad_mask].drop(columns=[c for c in ("geometry",) if c in rows]).copy()
    bad["reason"] = [reasons[p] for p in np.flatnonzero(bad_mask)]
    return good, bad


def _geometries(table: RowTable, columns: dict[str, str], crs: str | None, territory: Territory,
                faults: Faults) -> np.ndarray:
    """Lambert-93 geometries: the features' own (any kind but a collection), else points from lat/lon or x/y."""
    rows = table.rows
    if table.where == "feature":
        return _feature_geometries(np.asarray(rows["geometry"], dtype=object), CRS.from_user_input(table.crs),
                                   territory, faults)
    if "lat" in columns and "lon" in columns and not crs:
        first, second, names, point_crs = rows[columns["lat"]], rows[columns["lon"]], ("lat", "lon"), CRS.from_epsg(4326)
    else:
        try:
            point_crs = CRS.from_user_input(crs or "EPSG:2154")
        except CRSError:
            raise VectorFileError(f"--crs {crs}: unknown coordinate reference system.") from None
        first, second, names = rows[columns["x"]], rows[columns["y"]], ("x", "y")
        if point_crs.is_geographic:  # x/y in degrees: checked as lat, lon
            first, second, names = second, first, ("lat", "lon")
    x, y = row_checks.check_coordinates(row_checks.text(first), row_checks.text(second), names, point_crs,
                                        territory, faults)
    points = shapely.points(x, y)
    return np.where(np.isfinite(x), points, None)


def _feature_geometries(shapes: np.ndarray, source_crs: CRS, territory: Territory, faults: Faults) -> np.ndarray:
    faults.add(pd.Series([s is None for s in shapes]), "missing geometry")
    return row_checks.check_shapes(shapes, source_crs, territory, faults, kinds=SHAPES,
                                   wrong_kind="a place is a point, line or polygon, not a {}")


def load_places(engine: Engine, path: str | Path, *, kind: str, source: str | None = None,
                mapping: dict[str, str] | None = None, crs: str | None = None, encoding: str | None = None,
                layer: str | None = None) -> PlaceLoadReport:
    """Check and load a file of sensitive places of one ``kind`` in one transaction.

    ``mapping``: field (``id``, ``name``, ``lat``, ``lon``, ``x``, ``y``) -> column, for
    headers of other names. Raises :class:`BadPlacesError` (nothing written) when a row is bad.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ecoles.csv"
    >>> _ = p.write_text("id,nom,lat,lon\\nE1,École Jean Moulin,47.6389,6.8631\\n")
    >>> load_places(engine, p, kind="school", source="doctest").lines()
    ["ecoles.csv: 1 rows read, 1 school places added, 0 updated, 0 unchanged (source 'doctest')."]
    >>> with engine.begin() as conn:  # the tests' cleaning does not reach this table (no foreign key)
    ...     _ = conn.execute(sa.text("DELETE FROM sensitive_place WHERE source = 'doctest'"))
    """
    if kind not in KINDS:
        raise VectorFileError(f"--kind {kind}: unknown kind of place; kinds are {', '.join(KINDS)}.")
    path = Path(path)
    table = read_rows(path, encoding=encoding, layer=layer)
    source = source or path.stem
    report = PlaceLoadReport(path.name, source, kind, read=len(table.rows))
    with transaction(engine) as conn:
        good, bad = check_places(table, mapping=mapping, crs=crs, territory=territory_of(conn))
        if len(bad):
            raise BadPlacesError(path.name, len(table.rows),
                                 [(f"{table.where} {line}", reason) for line, reason in zip(bad["line"], bad["reason"])])
        lock_for_import(conn, "sensitive_place")
        conn.execute(sa.text("CREATE TEMPORARY TABLE place_staging (external_id text, name text, geom geometry) "
                             "ON COMMIT DROP"))
        copy_rows(conn, "place_staging", ["external_id", "name", "geom"],
                  ((r.external_id, r.name or None, ewkb_hex(r.geometry, METROPOLITAN_SRID)) for r in good.itertuples()))
        added = conn.execute(sa.text(_UPSERT), {"kind": kind, "source": source}).scalars().all()
    report.added = sum(added)
    report.updated = len(added) - report.added
    report.unchanged = len(good) - len(added)
    return report


# Unchanged rows are left alone, so that the report can tell them apart (and the audit log stays quiet).
_UPSERT = """
INSERT INTO sensitive_place AS sp (kind, name, source, external_id, geom)
SELECT :kind, st.name, :source, st.external_id, st.geom FROM place_staging st
ON CONFLICT (source, external_id) DO UPDATE SET kind = excluded.kind, name = excluded.name, geom = excluded.geom
WHERE (sp.kind, sp.name) IS DISTINCT FROM (excluded.kind, excluded.name) OR NOT ST_Equals(sp.geom, excluded.geom)
RETURNING (xmax = 0) AS added
"""


__all__ = ["FIELDS", "KINDS", "BadPlacesError", "PlaceLoadReport", "check_places", "load_places"]
