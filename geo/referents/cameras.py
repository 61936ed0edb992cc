"""Video-protection cameras: their wedges, ``psq load cameras FILE``, and the share of occurrences they cover.

A camera sees a wedge (DESIGN.md section 5): a circular sector centred on the camera,
``fov`` degrees wide around its ``bearing`` (degrees clockwise from north: north is +y,
east +x in Lambert-93), ``range_m`` metres deep; ``fov`` 360 is a dome (a full disc).

- :func:`wedge` draws it as a polygon (a vertex every 2 degrees of arc), for the maps;
- :func:`in_wedge` is the exact test of a point in a wedge, on arrays: it is what counts
  coverage (the polygon's chords lie inside the true arc by at most 0.015 % of the range,
  so the drawing and the count agree to the centimetre at 100 m);
- :func:`load_cameras` loads a CSV (``id, lat, lon, bearing, fov, range, status, owner``,
  WGS84) or a GeoJSON of points with those properties, in one transaction: one bad row
  refuses the file, each bad row named with its line and field, nothing written; a
  camera is unique by (source, id), its commune and its sector (the version valid on the
  day of the load) attributed in SQL;
- :func:`list_cameras` gives the cameras a user may see, clipped in SQL;
- :func:`coverage` gives a commune's occurrences covered by the existing cameras (or by
  given ones), and its hot 200 m cells (Gi*, as the sector page finds them) each with how
  much of it is covered.

Nothing here writes the audit log: like the other loaders (geo.ingest.places), the
database's trigger records each write with the command that made it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import Grid, HotspotInputError
from geo.analysis.methods import cell_squares, gistar_cells, supported
from geo.analysis.points import Points, fetch_points, resolve_category
from geo.analysis.scopes import Scope, area_on_day, as_multipolygon, parse_scope
from geo.db.bulk import copy_rows, ewkb_hex
from geo.db.models import CAMERA_OWNERS, CAMERA_STATUSES
from geo.db.unit_of_work import connection, transaction
from geo.errors import NotFound
from geo.ingest import row_checks
from geo.ingest.occurrences import BadRowsError, lock_for_import, territory_of
from geo.ingest.row_checks import Faults, Territory
from geo.ingest.tabular_file import RowTable, read_rows, resolve_columns
from geo.settings import CELL_SIZE_M, local_today
from geo.territory.projections import METROPOLITAN_SRID

if TYPE_CHECKING:  # the scope's type only (geo.accounts' policy imports geo.referents)
    from geo.accounts.users import UserScope

#: French labels of the owners and statuses of a camera, for the pages and the maps.
CAMERA_LABELS = {
    "owner": {"commune": "Commune", "bailleur": "Bailleur social", "transporteur": "Transporteur", "autre": "Autre"},
    "status": {"existing": "existante", "proposed": "proposée"},
}
#: Words a file may use for each status and owner (lower case, accents as written or not).
STATUS_WORDS = {"existing": "existing", "existante": "existing", "existant": "existing",
                "proposed": "proposed", "proposee": "proposed", "proposée": "proposed", "propose": "proposed",
                "proposé": "proposed"}
OWNER_WORDS = {**{o: o for o in CAMERA_OWNERS}, "bailleur social": "bailleur", "transport": "transporteur",
               "other": "autre"}
# Field -> header names recognised (lower case).
FIELDS = {
    "id": ("id", "identifiant", "external_id", "code"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "x": ("x",),
    "y": ("y",),
    "bearing": ("bearing", "azimut", "azimuth", "orientation", "cap"),
    "fov": ("fov", "angle", "champ"),
    "range": ("range", "range_m", "portee", "portée"),
    "status": ("status", "statut", "etat", "état"),
    "owner": ("owner", "proprietaire", "propriétaire"),
}
REQUIRED = ("id", "fov", "range", "status", "owner")
#: The largest range stored (the CHECK of migration 0013), in metres.
MAX_RANGE_M = 1000.0
#: Degrees of arc between two vertices of a drawn wedge.
ARC_STEP = 2.0
#: A hot cell is left uncovered when less than this share of its occurrences is covered.
UNCOVERED_SHARE = 0.5
#: The default period of a coverage: the 365 days up to yesterday (as ``psq hotspots``).
DEFAULT_DAYS = 365

_TO_WGS84 = Transformer.from_crs(METROPOLITAN_SRID, 4326, always_xy=True)


# -- the wedge ----------------------------------------------------------------------------

def wedge(x: float, y: float, bearing: float, fov: float, range_m: float) -> shapely.Polygon:
    """The wedge a camera at (x, y) sees, in Lambert-93 metres: from ``bearing - fov/2`` to ``bearing + fov/2``
    clockwise from north, ``range_m`` deep; a disc when ``fov`` is 360.

    Examples
    --------
    >>> w = wedge(0, 0, 350, 40, 100)      # across north: from 330 to 10 degrees
    >>> w.contains(shapely.Point(100 * np.sin(np.radians(5)), 90)), w.contains(shapely.Point(40, 80))
    (True, False)
    >>> round(wedge(0, 0, 0, 360, 100).area / (np.pi * 100 ** 2), 4)
    0.9998
    """
    if fov >= 360:
        angles = np.arange(0.0, 360.0, ARC_STEP)
        return shapely.Polygon(np.column_stack(_arc(x, y, angles, range_m)))
    count = max(int(np.ceil(fov / ARC_STEP)), 1)
    angles = bearing - fov / 2 + fov * np.arange(count + 1) / count
    xs, ys = _arc(x, y, angles, range_m)
    return shapely.Polygon([(x, y), *zip(xs, ys)])


def _arc(x: float, y: float, angles: np.ndarray, range_m: float) -> tuple[np.ndarray, np.ndarray]:
    theta = np.radians(angles)  # clockwise from north: east is sin, north is cos
    return x + range_m * np.sin(theta), y + range_m * np.cos(theta)


def in_wedge(px, py, x: float, y: float, bearing: float, fov: float, range_m: float) -> np.ndarray:
    """Whether each point (``px``, ``py`` arrays) lies in the wedge, its boundary included (the exact test).

    >>> in_wedge(np.array([0.0, 5.0, 30.0, 0.0]), np.array([50.0, 99.0, 80.0, 101.0]), 0, 0, 350, 40, 100).tolist()
    [True, True, False, False]
    """
    dx, dy = np.asarray(px, float) - x, np.asarray(py, float) - y
    near = np.hypot(dx, dy) <= range_m + 1e-9
    if fov >= 360:
        return near
    angle = np.degrees(np.arctan2(dx, dy))  # clockwise from north
    off = np.abs((angle - bearing + 180.0) % 360.0 - 180.0)
    return near & ((off <= fov / 2 + 1e-9) | ((dx == 0) & (dy == 0)))


def covered_by(px, py, cameras: Sequence) -> np.ndarray:
    """Whether each point lies in the union of the cameras' wedges (anything with x, y, bearing, fov, range_m)."""
    px, py = np.asarray(px, float), np.asarray(py, float)
    covered = np.zeros(len(px), bool)
    if not len(px) or not len(cameras):
        return covered
    # Each camera tests only the points within its range (a k-d tree), not every point: 30x faster than the
    # plain loop on 200,000 points and 300 cameras (bench/cameras.py).
    tree = cKDTree(np.column_stack([px, py]))
    for c in cameras:
        near = np.asarray(tree.query_ball_point((c.x, c.y), c.range_m + 1e-6), dtype=np.int64)
        near = near[~covered[near]]
        covered[near] = in_wedge(px[near], py[near], c.x, c.y, c.bearing, c.fov, c.range_m)
    return covered


def to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 metres to (lat, lon) degrees."""
    lon, lat = _TO_WGS84.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lat), np.asarray(lon)


# -- the cameras --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Camera:
    """A camera: Lambert-93 ``x``, ``y`` and WGS84 ``lat``, ``lon``; bearing clockwise from north, fov in degrees."""

    id: int | None
    external_id: str
    x: float
    y: float
    lat: float
    lon: float
    bearing: float
    fov: float
    range_m: float
    status: str
    owner: str
    commune_insee: str | None

    def wedge(self) -> shapely.Polygon:
        """Its wedge in Lambert-93."""
        return wedge(self.x, self.y, self.bearing, self.fov, self.range_m)

    @property
    def owner_label(self) -> str:
        return CAMERA_LABELS["owner"].get(self.owner, self.owner)

    @property
    def status_label(self) -> str:
        return CAMERA_LABELS["status"].get(self.status, self.status)


def _scope_clause(scope: UserScope) -> tuple[str, dict]:
    """The SQL condition on ``c`` (camera) for what the user may see, and its parameters (fail closed)."""
    if scope.sees_everything:
        return "true", {}
    if scope.role == "chef_secteur":
        return ("c.sector_id IN (SELECT s.id FROM sector s "
                "WHERE (s.csp_id || ':' || s.code) = ANY(CAST(:keys AS text[])))", {"keys": list(scope.sector_keys)})
    if scope.role == "maire" and scope.commune_insee:
        return "c.commune_insee = :mayor", {"mayor": scope.commune_insee}
    return "false", {}


def list_cameras(bind: Engine | Connection, scope: UserScope, commune: str | None = None, *,
                 near=None, status: str | None = None) -> list[Camera]:
    """The cameras the user may see (admin and référent: all; a chief: those of his sectors; a mayor: those of his
    town; anyone else: none), of one commune if given, by source and id.

    ``near``: a Lambert-93 geometry; only the cameras whose wedge can reach it (within
    their range). ``status``: ``existing`` or ``proposed`` only.

    Examples
    --------
    >>> from geo.accounts.users import UserScope
    >>> list_cameras(engine, UserScope("partenaire"))
    []
    """
    clause, params = _scope_clause(scope)
    rows = _camera_rows(bind, clause, {**params, "commune": commune, "status": status,
                                       "near": None if near is None else shapely.to_wkb(near)})
    return [_camera(r) for r in rows]


def _camera_rows(bind, clause: str, params: dict):
    with connection(bind) as conn:
        return conn.execute(sa.text(
            "SELECT c.id, c.external_id, ST_X(c.geom) AS x, ST_Y(c.geom) AS y, c.bearing, c.fov, c.range_m, "
            "c.status, c.owner, c.commune_insee FROM camera c WHERE " + clause +
            " AND (CAST(:commune AS text) IS NULL OR c.commune_insee = :commune)"
            " AND (CAST(:status AS text) IS NULL OR c.status = :status)"
            " AND (CAST(:near AS bytea) IS NULL OR ST_DWithin(c.geom, ST_GeomFromWKB(:near, 2154), c.range_m))"
            " ORDER BY c.source, c.external_id"), params).all()


def _camera(r) -> Camera:
    lat, lon = to_wgs84([r.x], [r.y])
    return Camera(r.id, r.external_id, float(r.x), float(r.y), float(lat[0]), float(lon[0]), float(r.bearing),
                  float(r.fov), float(r.range_m), r.status, r.owner, r.commune_insee)


# -- loading ------------------------------------------------------------------------------

class BadCamerasError(BadRowsError):
    """Rows of a camera file that cannot be loaded: the headline, then each row with its reason."""

    outcome = "nothing was written"


@dataclasses.dataclass
class CameraLoadReport:
    file: str
    source: str
    read: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def lines(self) -> list[str]:
        return [f"{self.file}: {self.read} rows read, {self.added} cameras added, {self.updated} updated, "
                f"{self.unchanged} unchanged (source '{self.source}')."]


def check_cameras(table: RowTable, territory: Territory | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row; return (good rows: line, external_id, x, y, bearing, fov, range_m, status, owner; bad rows
    with their reasons)."""
    columns = resolve_columns(table, {}, FIELDS, REQUIRED)
    rows = table.rows
    faults = Faults(len(rows))
    get = lambda f: row_checks.text(rows[columns[f]]) if f in columns else pd.Series("", index=rows.index)  # noqa: E731
    ids = get("id")
    row_checks.check_ids(ids, rows["line"], faults, table.where)
    x, y = _coordinates(table, columns, territory or Territory.metropolitan_france(), faults)
    fov = _number(get("fov"), "fov", faults, lambda v: (v > 0) & (v <= 360), "above 0 and at most 360")
    range_m = _number(get("range"), "range", faults, lambda v: (v > 0) & (v <= MAX_RANGE_M),
                      f"above 0 and at most {MAX_RANGE_M:g} metres")
    bearing_text = get("bearing")
    dome = (fov >= 360) & (bearing_text == "")  # a dome looks everywhere: no bearing needed
    bearing = _number(bearing_text.where(~dome, "0"), "bearing", faults, lambda v: (v >= 0) & (v < 360),
                      "at least 0 and below 360 (degrees clockwise from north)")
    status = _word(get("status"), "status", STATUS_WORDS, CAMERA_STATUSES, faults)
    owner = _word(get("owner"), "owner", OWNER_WORDS, CAMERA_OWNERS, faults)
    bad_mask = faults.bad()
    good = pd.DataFrame({"line": rows["line"].to_numpy(), "external_id": ids.to_numpy(), "x": x, "y": y,
                         "bearing": bearing, "fov": fov, "range_m": range_m, "status": status.to_numpy(),
                         "owner": owner.to_numpy()})[~bad_mask].reset_index(drop=True)
    reasons = faults.reasons()
    bad = rows[bad_mask].drop(columns=[c for c in ("geometry",) if c in rows]).copy()
    bad["reason"] = [reasons[p] for p in np.flatnonzero(bad_mask)]
    return good, bad


def _coordinates(table: RowTable, columns: dict[str, str], territory: Territory,
                 faults: Faults) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 x, y (NaN where refused): a file's points, else lat/lon in WGS84 (x/y: Lambert-93)."""
    rows = table.rows
    if table.where == "feature":
        shapes = np.asarray(rows["geometry"], dtype=object)
        faults.add(pd.Series([s is None for s in shapes]), "missing geometry")
        points = row_checks.check_shapes(shapes, CRS.from_user_input(table.crs), territory, faults, kinds={"Point"},
                                         wrong_kind="a camera is a point, not a {}")
        x = np.array([p.x if p is not None else np.nan for p in points])
        y = np.array([p.y if p is not None else np.nan for p in points])
        return x, y
    if "lat" in columns and "lon" in columns:
        first, second, names, crs = rows[columns["lat"]], rows[columns["lon"]], ("lat", "lon"), CRS.from_epsg(4326)
    else:
        first, second, names, crs = rows[columns["x"]], rows[columns["y"]], ("x", "y"), CRS.from_epsg(2154)
    return row_checks.check_coordinates(row_checks.text(first), row_checks.text(second), names, crs, territory,
                                        faults)


def _number(values: pd.Series, name: str, faults: Faults, within, bounds: str) -> np.ndarray:
    numbers = row_checks.to_number(values).to_numpy(dtype=float)
    faults.add(values == "", f"missing {name}")
    finite = np.isfinite(numbers)
    faults.add((values != "") & ~finite, name + " '{}' is not a number", values)
    with np.errstate(invalid="ignore"):
        faults.add(finite & ~within(numbers), name + " {} must be " + bounds, values)
    return numbers


def _word(values: pd.Series, name: str, words: dict[str, str], known: Sequence[str], faults: Faults) -> pd.Series:
    codes = values.str.lower().map(words)
    faults.add(values == "", f"missing {name}")
    faults.add((values != "") & codes.isna(), f"unknown {name} '{{}}' (known: {', '.join(known)})", values)
    return codes


def load_cameras(engine: Engine, path: str | Path, *, source: str | None = None) -> CameraLoadReport:
    """Check and load a file of cameras in one transaction; re-loading updates, never duplicates.

    Raises :class:`BadCamerasError` (nothing written) when a row is bad, a camera standing
    in no loaded commune included.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.ingest.communes import load_communes
    >>> _ = load_communes(engine, "90")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cameras.csv"
    >>> _ = p.write_text("id,lat,lon,bearing,fov,range,status,owner\\nC1,47.6380,6.8628,90,60,50,existante,commune\\n")
    >>> load_cameras(engine, p, source="doctest").lines()
    ["cameras.csv: 1 rows read, 1 cameras added, 0 updated, 0 unchanged (source 'doctest')."]
    """
    path = Path(path)
    table = read_rows(path)
    source = source or path.stem
    report = CameraLoadReport(path.name, source, read=len(table.rows))
    with transaction(engine) as conn:
        good, bad = check_cameras(table, territory=territory_of(conn))
        if len(bad):
            raise BadCamerasError(path.name, len(table.rows),
                                  [(f"{table.where} {line}", r) for line, r in zip(bad["line"], bad["reason"])])
        lock_for_import(conn, "camera")
        conn.execute(sa.text("CREATE TEMPORARY TABLE camera_staging (line integer, external_id text, geom geometry, "
                             "bearing float8, fov float8, range_m float8, status text, owner text) ON COMMIT DROP"))
        copy_rows(conn, "camera_staging", ["line", "external_id", "geom", "bearing", "fov", "range_m", "status",
                                           "owner"],
                  ((int(r.line), r.external_id, ewkb_hex(shapely.Point(r.x, r.y), METROPOLITAN_SRID), r.bearing, r.fov,
                    r.range_m, r.status, r.owner) for r in good.itertuples()))
        outside = conn.execute(sa.text(_OUTSIDE)).all()
        if outside:
            raise BadCamerasError(path.name, len(table.rows), [
                (f"{table.where} {r.line}", f"the point (lat {r.lat:.6f}, lon {r.lon:.6f}) lies in no loaded commune")
                for r in outside])
        added = conn.execute(sa.text(_UPSERT), {"source": source, "today": local_today()}).scalars().all()
    report.added = sum(added)
    report.updated = len(added) - report.added
    report.unchanged = len(good) - len(added)
    return report


_OUTSIDE = """
SELECT st.line, ST_Y(ST_Transform(st.geom, 4326)) AS lat, ST_X(ST_Transform(st.geom, 4326)) AS lon
FROM camera_staging st
WHERE NOT EXISTS (SELECT 1 FROM commune co WHERE ST_Intersects(co.geom, st.geom)) ORDER BY st.line
"""

# The commune containing the point, and the sector version valid today containing it (a point on a boundary:
# the first by code). Unchanged rows are left alone, so that the report tells them apart.
_UPSERT = """
INSERT INTO camera AS c (source, external_id, geom, bearing, fov, range_m, status, owner, commune_insee, sector_id)
SELECT :source, st.external_id, st.geom, st.bearing, st.fov, st.range_m, st.status, st.owner,
       (SELECT co.insee FROM commune co WHERE ST_Intersects(co.geom, st.geom) ORDER BY co.insee LIMIT 1),
       (SELECT s.id FROM sector s WHERE s.valid_from <= :today AND (s.valid_to IS NULL OR s.valid_to > :today)
          AND ST_Intersects(s.geom, st.geom) ORDER BY s.csp_id, s.code LIMIT 1)
FROM camera_staging st
ON CONFLICT (source, external_id) DO UPDATE SET geom = excluded.geom, bearing = excluded.bearing,
    fov = excluded.fov, range_m = excluded.range_m, status = excluded.status, owner = excluded.owner,
    commune_insee = excluded.commune_insee, sector_id = excluded.sector_id, loaded_at = now()
WHERE (c.bearing, c.fov, c.range_m, c.status, c.owner, c.commune_insee, c.sector_id)
      IS DISTINCT FROM (excluded.bearing, excluded.fov, excluded.range_m, excluded.status, excluded.owner,
                        excluded.commune_insee, excluded.sector_id)
   OR NOT ST_Equals(c.geom, excluded.geom)
RETURNING (xmax = 0) AS added
"""


# -- coverage -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class HotCell:
    """A hot 200 m cell (Gi*, significant, as on the sector page): its occurrences and how many are covered."""

    i: int
    j: int
    z: float
    gi_bin: int
    occurrences: int
    covered: int

    @property
    def uncovered(self) -> bool:
        """Less than half of its occurrences covered."""
        return self.covered < UNCOVERED_SHARE * self.occurrences

    def square(self) -> shapely.Polygon:
        """The cell's square in Lambert-93."""
        return cell_squares([self.i], [self.j], CELL_SIZE_M)[0]


@dataclasses.dataclass(frozen=True)
class Coverage:
    """The occurrences of a commune and period, those inside the union of the cameras' wedges, and the hot cells.

    ``share`` is None without any occurrence. ``wedges``: the cameras' wedges (Lambert-93),
    in the order of ``cameras``. ``note``: why no hot cell could be found (too few
    occurrences...), in English; ``note_fr`` the same in French.
    """

    commune: str
    first: dt.date
    last: dt.date
    categories: tuple[str, ...]
    occurrences: int
    covered: int
    share: float | None
    cameras: tuple[Camera, ...]
    wedges: tuple[shapely.Polygon, ...]
    hot_cells: tuple[HotCell, ...]
    note: str | None = None
    note_fr: str | None = None

    @property
    def uncovered_hot_cells(self) -> tuple[HotCell, ...]:
        return tuple(c for c in self.hot_cells if c.uncovered)


@dataclasses.dataclass(frozen=True)
class Selection:
    """The occurrences of a commune, some categories and a period (local days, both included)."""

    scope: Scope
    first: dt.date
    last: dt.date
    categories: tuple[str, ...]
    points: Points


def select_occurrences(bind: Engine | Connection, scope: UserScope, commune: str, *,
                       categories: Sequence[str] | None = None, first: dt.date | None = None,
                       last: dt.date | None = None) -> Selection:
    """The occurrences of a commune the user may see: category names resolved (codes, labels or aliases), the period
    by default the 365 days up to yesterday.

    Admin and référent: the whole commune; a mayor: his own; a chief: the part of the commune
    his sectors (as valid on the period's last day) cover. Raises NotFound otherwise.
    """
    last = last or local_today() - dt.timedelta(days=1)
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise HotspotInputError(f"the period starts ({first}) after it ends ({last})")
    area = _visible_area(bind, scope, commune, last)
    codes = tuple(dict.fromkeys(resolve_category(c) for c in categories or ()))
    points = fetch_points(bind, area, first, last, codes[0] if len(codes) == 1 else None)
    if len(codes) > 1:
        points = points.where(np.isin(points.category, codes))
    return Selection(area, first, last, codes, points)


def _visible_area(bind: Engine | Connection, scope: UserScope, commune: str, day: dt.date) -> Scope:
    """The commune as the scope of the selection, clipped to what the user may see (no import of geo.accounts:
    its policy imports this package)."""
    refused = NotFound(f"commune {commune} is not one you may see",
                       user_message=f"Aucune commune {commune} parmi celles que vous pouvez voir.")
    if not (scope.sees_everything or (scope.role == "maire" and scope.commune_insee == commune)
            or (scope.role == "chef_secteur" and scope.sectors)):
        raise refused
    area = parse_scope(bind, f"commune:{commune}", day)
    if scope.role != "chef_secteur":
        return area
    clipped = area.geometry.intersection(area_on_day(bind, day, keys=scope.sector_keys))
    polygons = [g for g in shapely.get_parts(clipped) if g.geom_type == "Polygon"]  # no shared edge's line
    if not polygons:
        raise refused
    return Scope(area.kind, area.ref, as_multipolygon(shapely.MultiPolygon(polygons)))


def coverage(bind: Engine | Connection, scope: UserScope, commune: str, *, categories: Sequence[str] | None = None,
             first: dt.date | None = None, last: dt.date | None = None,
             cameras: Sequence[Camera] | None = None) -> Coverage:
    """The share of a commune's occurrences inside the union of the wedges of its existing cameras (those the user
    may see whose wedge can reach the commune), or of ``cameras`` when given, and its hot cells.

    Hot cells are the commune's 200 m cells that Gi* finds hot, significant at 95 % with the
    calibrated test and FDR, exactly as the sector page does (`geo.analysis.methods`): when
    the occurrences are too few to support any finding, there is no hot cell and ``note``
    says why.

    Examples
    --------
    >>> from geo.accounts.users import UserScope
    >>> from geo.ingest.communes import load_communes
    >>> _ = load_communes(engine, "90")
    >>> result = coverage(engine, UserScope("admin"), "90010")
    >>> result.occurrences, result.share, result.hot_cells
    (0, None, ())
    """
    selection = select_occurrences(bind, scope, commune, categories=categories, first=first, last=last)
    if cameras is None:
        cameras = list_cameras(bind, scope, near=selection.scope.geometry, status="existing")
    points = selection.points
    covered = covered_by(points.x, points.y, cameras)
    hot, note, note_fr = hot_cells(points, selection.scope, covered)
    n = len(points.x)
    return Coverage(commune, selection.first, selection.last, selection.categories, n, int(covered.sum()),
                    float(covered.sum()) / n if n else None, tuple(cameras), tuple(c.wedge() for c in cameras),
                    hot, note, note_fr)


def hot_cells(points: Points, area: Scope, covered: np.ndarray) -> tuple[tuple[HotCell, ...], str | None, str | None]:
    """The hot cells of the area's 200 m grid (the sector page's rule: significant, z > 0, some occurrence), each
    with its occurrences and those ``covered``; or none and why (English, French)."""
    grid = Grid.from_polygon(area.geometry, size=CELL_SIZE_M)
    try:
        frame = supported(gistar_cells(points, grid), len(points.x)).frame
    except HotspotInputError as error:
        return (), str(error), error.user_message
    hot = frame[frame.significant & (frame.z > 0) & (frame["count"] > 0)]
    ci = np.floor(points.x / CELL_SIZE_M).astype(np.int64)
    cj = np.floor(points.y / CELL_SIZE_M).astype(np.int64)
    cells = []
    for row in hot.itertuples():
        inside = (ci == row.i) & (cj == row.j)
        cells.append(HotCell(int(row.i), int(row.j), float(row.z), int(row.gi_bin), int(row.count),
                             int(covered[inside].sum())))
    return tuple(cells), None, None


__all__ = ["ARC_STEP", "CAMERA_LABELS", "DEFAULT_DAYS", "FIELDS", "BadCamerasError", "Camera", "CameraLoadReport",
           "Coverage", "HotCell", "Selection", "check_cameras", "coverage", "covered_by", "hot_cells", "in_wedge",
           "list_cameras", "load_cameras", "select_occurrences", "to_wgs84", "wedge"]
