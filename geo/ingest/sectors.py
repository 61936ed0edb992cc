"""``psq load sectors FILE``: police sectors in, checked, with their history kept.

The whole file is one transaction: if anything is wrong, nothing is written and the
error names each feature at fault. Re-importing a changed sector closes the old
version (``valid_to``) and keeps it, so "the sectors as of date D" stays answerable;
a sector of the CSP that the file no longer holds is closed the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import geopandas as gpd
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer
from sqlalchemy.engine import Engine

from geo.db.bulk import copy_rows, ewkb_hex
from geo.db.queries import named_query
from geo.db.unit_of_work import transaction
from geo.ingest import sector_checks as checks
from geo.ingest.occurrences import lock_for_import
from geo.ingest.vector_file import VectorFileError, crs_label, feature_label, read_vector_file
from geo.settings import LOCAL_TZ, SAME_BOUNDARY_M, local_today
from geo.territory.projections import METROPOLITAN_SRID

CODE_FIELDS = ("code", "code_secteur", "secteur", "id_secteur")
NAME_FIELDS = ("name", "nom", "libelle", "nom_secteur")
CSP_FIELDS = ("csp", "circonscription")

#: The open lower bound of a sector's first version: valid on any day before the next
#: version (a user loads his sectors, then years of occurrences, and all are attributed).
OPEN_START = dt.date(1, 1, 1)


@dataclasses.dataclass
class SectorLoadReport:
    file: str
    valid_from: dt.date
    #: New sectors with no earlier version, valid from the beginning (no --valid-from given).
    open_start: list[str] = dataclasses.field(default_factory=list)
    added: list[str] = dataclasses.field(default_factory=list)
    changed: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    retired: list[str] = dataclasses.field(default_factory=list)
    #: Unchanged first versions whose start moved earlier (an earlier --valid-from).
    extended: list[str] = dataclasses.field(default_factory=list)
    #: Occurrences that had no sector and now have one of the versions written.
    attributed: int = 0
    warnings: list[str] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{self.file}: {len(self.added)} sectors added, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.retired)} no longer in the file."
            + (f" Previous versions closed on {self.valid_from}." if self.changed or self.retired else "")
        ]
        for label, codes in (("Added", self.added), ("Changed", self.changed), ("Closed", self.retired)):
            if codes:
                out.append(f"{label}: {', '.join(codes)}.")
        if self.extended:
            out.append(f"Unchanged, now valid from {self.valid_from}: {', '.join(self.extended)}.")
        if self.attributed:
            out.append(f"{self.attributed} occurrences that lay in no sector on their day are now attributed.")
        if self.open_start:
            out.append(f"First versions of {', '.join(self.open_start)} are valid from the beginning (no --valid-from "
                       "given): occurrences of any earlier date are attributed to them.")
        out.extend("Warning: " + w for w in self.warnings)
        return out


@dataclasses.dataclass
class SectorFile:
    """A checked sector file: one row per sector, geometry in Lambert-93."""

    sectors: gpd.GeoDataFrame  # columns code, name, csp, geometry (EPSG:2154)
    warnings: list[str]


def read_sectors(
    path: str | Path,
    *,
    csp: str | None = None,
    layer: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    repair: bool = False,
    crs: str | None = None,
) -> SectorFile:
    """Read and check a sector file; raise :class:`VectorFileError` listing every fault.

    Examples
    --------
    >>> checked = read_sectors("data/boundaries/sectors-csp-belfort.geojson")
    >>> list(checked.sectors.columns), checked.sectors.crs.to_epsg()
    (['code', 'name', 'csp', 'geometry'], 2154)
    """
    name = Path(path).name
    raw = read_vector_file(path, layer=layer, crs=crs)

    def fail(problems: list[str]) -> None:
        if problems:
            raise VectorFileError([f"{name}: {p}" for p in problems])

    try:
        code_col = checks.field_named(raw, code_field, CODE_FIELDS, "code", "--code-field")
        name_col = checks.field_named(raw, name_field, NAME_FIELDS, "name", "--name-field")
        csp_col = None if csp else checks.field_named(raw, None, CSP_FIELDS, "CSP", "--csp NAME")
    except VectorFileError as exc:
        fail(exc.problems)

    codes = [_text(v) for v in raw[code_col]]
    problems = checks.missing_values(raw, code_col, "code", codes)
    problems += checks.missing_values(raw, name_col, "name", codes)
    if csp_col:
        problems += checks.missing_values(raw, csp_col, "CSP (give one for the whole file with --csp)", codes)
    problems += checks.duplicate_codes(codes)
    problems += checks.non_polygons(raw.geometry, codes)
    fail(problems)

    warnings: list[str] = []
    geometries = list(raw.geometry)
    if any(g.has_z for g in geometries):
        geometries = list(shapely.force_2d(geometries))
        warnings.append("heights (Z) were dropped: sectors are flat.")
    invalid = checks.invalid_polygons(geometries, codes, crs_label(raw.crs))
    if invalid and not repair:
        fail([sentence + " Fix it or load with --repair." for _, sentence in invalid])
    for index, sentence in invalid:
        before = geometries[index]
        geometries[index] = checks.repair(before)
        warnings.append(f"{sentence} Repaired with make_valid: {_repair_summary(before, geometries[index], raw.crs)}.")

    sectors = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [_text(v) for v in raw[name_col]],
            "csp": [csp.strip()] * len(raw) if csp else [_text(v) for v in raw[csp_col]],
        },
        geometry=gpd.GeoSeries(geometries, crs=raw.crs),
    )
    fail(_outside_metropolitan_france(sectors))
    sectors = sectors.to_crs(METROPOLITAN_SRID)
    sectors["geometry"] = [_as_valid_multipolygon(g) for g in sectors.geometry]

    for csp_name, group in sectors.groupby("csp", sort=True):
        fail(checks.overlaps(group.geometry, list(group.code)))
        for area, point in checks.gaps(group.geometry):
            lon, lat = Transformer.from_crs(METROPOLITAN_SRID, 4326, always_xy=True).transform(point.x, point.y)
            warnings.append(
                f"{csp_name} has a gap of {checks.format_area(area)} that no sector covers, "
                f"around ({lon:.5f}, {lat:.5f})."
            )
    return SectorFile(sectors, [f"{name}: {w}" for w in warnings])


def load_sectors(engine: Engine, path: str | Path, *, valid_from: dt.date | None = None, **options) -> SectorLoadReport:
    """Check a sector file and write it in one transaction, keeping history.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
    path : str or Path
    valid_from : datetime.date, optional
        First day of validity of new and changed sectors. Default: the beginning of
        time (``OPEN_START``) for the first version of a sector (no earlier version of
        that code in that CSP), today for any later version.
    **options
        Passed to :func:`read_sectors` (csp, layer, code_field, name_field, repair, crs).

    Examples
    --------
    >>> report = load_sectors(engine, "data/boundaries/sectors-csp-belfort.geojson",
    ...                       valid_from=dt.date(2024, 1, 1))
    >>> report.lines()[0]
    'sectors-csp-belfort.geojson: 8 sectors added, 0 changed, 0 unchanged, 0 no longer in the file.'
    """
    checked = read_sectors(path, **options)
    first_from = valid_from or OPEN_START
    valid_from = valid_from or local_today()
    report = SectorLoadReport(Path(path).name, valid_from, warnings=checked.warnings)
    with transaction(engine) as conn:
        # The occurrence table too: the new versions take the occurrences they cover (occurrence_reattribute).
        lock_for_import(conn, "sector", "csp", "occurrence")
        csp_ids = {name: _csp_id(conn, name) for name in sorted(set(checked.sectors.csp))}
        conn.execute(sa.text(
            "CREATE TEMPORARY TABLE sector_staging (csp_id integer, code text, name text, geom geometry) ON COMMIT DROP"
        ))
        copy_rows(conn, "sector_staging", ["csp_id", "code", "name", "geom"], (
            (csp_ids[r.csp], r.code, r.name, ewkb_hex(r.geometry, METROPOLITAN_SRID))
            for r in checked.sectors.itertuples()
        ))
        plan = conn.execute(sa.text(_PLAN), {"csp_ids": list(csp_ids.values()), "tolerance": SAME_BOUNDARY_M}).all()
        too_early = [r for r in plan if r.status in ("changed", "retired") and r.current_from >= valid_from]
        if too_early:
            raise VectorFileError([
                f"{report.file}: sector {r.code} already has a version valid from {r.current_from}; the new "
                f"version must start later: give --valid-from after {r.current_from}."
                for r in too_early
            ])
        closing = [r.current_id for r in plan if r.status in ("changed", "retired")]
        if closing:
            conn.execute(sa.text("UPDATE sector SET valid_to = :day WHERE id = ANY(:ids)"),
                         {"day": valid_from, "ids": closing})
        first = [r.code for r in plan if r.status == "added" and not r.has_history]
        written: list[int] = []
        for day, codes in ((first_from, first), (valid_from, [r.code for r in plan if r.status in ("added", "changed")
                                                               and r.code not in first])):
            written += conn.execute(sa.text(
                "INSERT INTO sector (csp_id, code, name, geom, valid_from, source) "
                "SELECT csp_id, code, name, geom, :day, :source FROM sector_staging WHERE code = ANY(:codes) "
                "RETURNING id"), {"day": day, "source": report.file, "codes": codes}).scalars().all()
        # An unchanged first version re-loaded with an earlier --valid-from starts earlier: the
        # way to cover occurrences loaded before the sectors' first day.
        earlier = [r for r in plan if r.status == "unchanged" and not r.has_history and r.current_from > first_from]
        if earlier:
            conn.execute(sa.text("UPDATE sector SET valid_from = :day WHERE id = ANY(:ids)"),
                         {"day": first_from, "ids": [r.current_id for r in earlier]})
            report.extended = [r.code for r in earlier]
        report.attributed = conn.execute(named_query("occurrence_reattribute"), {
            "ids": written + [r.current_id for r in earlier], "tz": LOCAL_TZ}).rowcount
    for row in plan:
        getattr(report, row.status).append(row.code)
    report.open_start = first if first_from == OPEN_START else []
    return report


# Compare each sector of the file with the current version of the same code in the
# same CSP (same name, boundaries within :tolerance metres of each other: unchanged);
# current sectors of those CSPs missing from the file are "retired". The same vertices (a file loaded
# again) are unchanged without the Hausdorff distance, which costs the product of the vertex counts.
# ``has_history``: an earlier, closed version of that code exists (a sector coming back is not a first version).
_PLAN = """
SELECT st.code,
       CASE WHEN cur.id IS NULL THEN 'added'
            WHEN cur.name = st.name AND (ST_OrderingEquals(cur.geom, st.geom)
                                         OR ST_HausdorffDistance(cur.geom, st.geom) <= :tolerance) THEN 'unchanged'
            ELSE 'changed' END AS status,
       cur.id AS current_id, cur.valid_from AS current_from,
       EXISTS (SELECT 1 FROM sector old WHERE old.csp_id = st.csp_id AND old.code = st.code
               AND old.valid_to IS NOT NULL) AS has_history
FROM sector_staging st
LEFT JOIN sector cur ON cur.csp_id = st.csp_id AND cur.code = st.code AND cur.valid_to IS NULL
UNION ALL
SELECT cur.code, 'retired', cur.id, cur.valid_from, true
FROM sector cur
WHERE cur.valid_to IS NULL AND cur.csp_id = ANY(:csp_ids)
  AND NOT EXISTS (SELECT 1 FROM sector_staging st WHERE st.csp_id = cur.csp_id AND st.code = cur.code)
ORDER BY 1
"""


def _csp_id(conn, name: str) -> int:
    return conn.execute(sa.text(
        "INSERT INTO csp (name) VALUES (:name) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id"
    ), {"name": name}).scalar_one()


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _outside_metropolitan_france(sectors: gpd.GeoDataFrame) -> list[str]:
    """Sectors must lie where Lambert-93 is defined: metropolitan France and Corsica."""
    lon0, lat0, lon1, lat1 = CRS.from_epsg(METROPOLITAN_SRID).area_of_use.bounds
    in_lonlat = sectors.to_crs(4326)
    problems = []
    for position, (geometry, code) in enumerate(zip(in_lonlat.geometry, sectors.code), start=1):
        xmin, ymin, xmax, ymax = geometry.bounds
        if xmin < lon0 - 0.5 or xmax > lon1 + 0.5 or ymin < lat0 - 0.5 or ymax > lat1 + 0.5:
            problems.append(
                f"{feature_label(position, code)} lies outside metropolitan France and Corsica "
                f"(around {geometry.centroid.x:.4f}, {geometry.centroid.y:.4f} in lon/lat): sectors are stored in "
                "Lambert-93, and overseas territories are not supported yet."
            )
    return problems


def _as_valid_multipolygon(geometry) -> shapely.MultiPolygon:
    if not geometry.is_valid:  # reprojection can pinch a ring by a rounding error
        return checks.repair(geometry)
    if geometry.geom_type == "Polygon":
        return shapely.MultiPolygon([geometry])
    return geometry


def _repair_summary(before, after, crs) -> str:
    series = gpd.GeoSeries([shapely.buffer(before, 0), after], crs=crs).to_crs(METROPOLITAN_SRID)
    return (
        f"{len(getattr(after, 'geoms', [after]))} polygon part(s), area {checks.format_area(series.iloc[1].area)} "
        f"(the self-intersecting outline enclosed about {checks.format_area(series.iloc[0].area)})"
    )
