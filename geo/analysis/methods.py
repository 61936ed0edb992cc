"""The four hotspot methods of DESIGN.md section 5 on the occurrences of a scope, one path each.

Every caller computes them here: the sector page (`geo.analysis.sector_view`), the stored
runs of ``psq hotspots`` (`geo.analysis.runs`) and the patrol zones' contents and
suggestions (`geo.patrol.zones`). The statistics themselves are the pure engine's
(`geo.analysis.hotspots`); this module turns a scope's points into its grid's counts,
calls the engine and gives one row per cell of the scope:

- :func:`gistar_cells`: Getis-Ord Gi* with Benjamini-Hochberg FDR on the square grid;
- :func:`density_cells`: the quartic kernel density;
- :func:`emerging_cells`: the space-time cube of complete time steps (:func:`complete_steps`) and the
  emerging hot spot categories;
- :func:`dbscan_clusters`: ``ST_ClusterDBSCAN`` in PostGIS (the one query
  ``sql/queries/occurrence_clusters.sql``), with the defaults of `geo.settings`.

Cells are squares of `geo.settings.CELL_SIZE_M` anchored at the Lambert-93 origin
(:func:`cell_squares`); days and weeks are local days of `geo.settings.LOCAL_TZ`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import (
    CATEGORIES,
    Grid,
    HotspotInputError,
    count_points,
    emerging_hotspots_together,
    gistar_together,
    kde_grid,
)
from geo.analysis.hotspots.gistar import DEFAULT_BAND_FACTOR
from geo.analysis.hotspots.grid import grid_frame
from geo.analysis.hotspots.neighbourhood import band_kernel, window_sum
from geo.analysis.hotspots.significance import gi_bin
from geo.analysis.points import Points
from geo.db.queries import named_query
from geo.db.unit_of_work import connection
from geo.formats import number
from geo.settings import CELL_SIZE_M, DBSCAN_EPS_M, DBSCAN_MIN_POINTS, LOCAL_TZ, SRID, local_today

#: "Significant" in a cell row: FDR-adjusted p at most 5 %.
SIGNIFICANCE = 0.05
#: The emerging category of a cell with no trend (the others are hot or cold spots).
NO_PATTERN = "no pattern"
#: The emerging analysis's default span: 104 weekly steps (two years) up to the last day.
EMERGING_WEEKS = 104


@dataclasses.dataclass(frozen=True)
class Cells:
    """A statistic on the cells of a scope: one row per scope cell (``i``, ``j``, ...), and what was noted.

    ``outside``: occurrences not counted (in edge cells whose centre lies outside the
    scope); ``bandwidth``: the kernel density's, in metres (None for the other methods);
    ``supported``: false when the occurrences are too few for any cell to be significant
    (the last warning says so; the pages show :func:`supported`'s sentence instead of classes).
    """

    frame: pd.DataFrame
    warnings: tuple[str, ...] = ()
    outside: int = 0
    bandwidth: float | None = None
    supported: bool = True


def cell_squares(i, j, size: float = CELL_SIZE_M) -> np.ndarray:
    """The square of each cell ``(i, j)`` of the grid anchored at the origin, as polygons in EPSG:2154.

    Examples
    --------
    >>> cell_squares([4946], [33664])[0].bounds
    (989200.0, 6732800.0, 989400.0, 6733000.0)
    """
    i, j = np.asarray(i), np.asarray(j)
    return shapely.box(i * size, j * size, (i + 1) * size, (j + 1) * size)


def with_squares(frame: pd.DataFrame, size: float = CELL_SIZE_M) -> gpd.GeoDataFrame:
    """The rows of a cell frame (``i``, ``j``) with their square as geometry (EPSG:2154)."""
    return gpd.GeoDataFrame(frame, geometry=cell_squares(frame.i, frame.j, size), crs=SRID)


def gistar_cells(points: Points, grid: Grid, band: float | None = None, apart: bool = False) -> Cells:
    """Gi* of every scope cell from the points' counts: ``i``, ``j``, ``count``, ``z``, ``p``, ``p_fdr``,
    ``gi_bin``, ``significant`` (``p_fdr`` at most `SIGNIFICANCE`).

    With ``apart``, each category of the points is analysed on its own counts, the false
    discovery rate controlled over all of them together, one row per category and cell
    (column ``category``, the code).

    Parameters
    ----------
    points : Points
        The occurrences (Lambert-93); those outside the scope's cells are counted in ``outside``.
    grid : Grid
        The scope's grid and mask.
    band : float, optional
        Distance band in metres; default 1.5 x cell size (queen neighbours).
    apart : bool
        Analyse each category apart.

    Raises
    ------
    HotspotInputError
        When Gi* is undefined (every cell has the same count). When the occurrences are too
        few for any cell to be significant, ``supported`` is false.

    Examples
    --------
    >>> grid = Grid(0, 0, 6, 6, size=200)
    >>> x, y = np.array([50.0, 60, 70, 250, 250, 1100]), np.array([50.0, 60, 70, 50, 250, 1100])
    >>> points = Points(x, y, np.zeros(6, "datetime64[us]"), np.arange(6), np.full(6, "a", object))
    >>> cells = gistar_cells(points, grid)
    >>> cells.frame.loc[0, ["i", "j", "count", "gi_bin"]].tolist(), cells.outside
    ([0, 0, 3, 3], 0)
    """
    codes = list(dict.fromkeys(points.category)) if apart else [None]
    counted = {code: count_points(grid, points.x[keep], points.y[keep])
               for code, keep in ((c, _of(points, c)) for c in codes)}
    results = gistar_together({code: c.counts for code, c in counted.items()}, grid, band=band)
    frames = []
    for code, result in results.items():
        frame = result.to_frame(grid, counted[code].counts)
        frame["significant"] = frame.p_fdr <= SIGNIFICANCE
        frames.append(frame if code is None else frame.assign(category=code))
    return _cells(frames, apart, results.values(), count_points(grid, points.x, points.y).outside)


def _of(points: Points, code: str | None) -> np.ndarray:
    """Which points are of category ``code`` (None: all)."""
    return np.ones(len(points.x), bool) if code is None else points.category == code


def _cells(frames: list[pd.DataFrame], apart: bool, results, outside: int) -> Cells:
    """The cells of one or several analyses together: a grid too sparse for any finding speaks only if all are."""
    results = list(results)
    any_supported = any(r.supported for r in results)
    warnings = tuple(dict.fromkeys(w for r in results if r.supported or not any_supported for w in r.warnings))
    frame = pd.concat(frames, ignore_index=True) if apart else frames[0]
    return Cells(frame, warnings, outside, supported=any_supported)


def supported(cells: Cells, occurrences: int) -> Cells:
    """``cells`` if its data can support a finding, else the refusal a page shows instead of classes.

    >>> supported(Cells(pd.DataFrame(), ("only 2 occurrences in 40 cells: even all in one place, no hot spot "
    ...                                  "could be significant",), supported=False), 2)
    Traceback (most recent call last):
    ...
    geo.analysis.hotspots.errors.HotspotInputError: only 2 occurrences in 40 cells: even all in one place, no hot spot could be significant
    >>> try:
    ...     supported(Cells(pd.DataFrame(), ("too few",), supported=False), 2)
    ... except HotspotInputError as error:
    ...     print(error.user_message)
    Trop peu de faits (2) pour qu’un point chaud soit significatif, même s’ils étaient tous au même endroit.
    """
    if cells.supported:
        return cells
    raise HotspotInputError(cells.warnings[-1], user_message=(
        f"Trop peu de faits ({occurrences}) pour qu’un point chaud soit significatif, même s’ils étaient tous au "
        "même endroit."))


def density_cells(points: Points, grid: Grid, bandwidth: float | None = None) -> Cells:
    """Quartic kernel density of every scope cell (per km²): ``i``, ``j``, ``count``, ``density``.

    ``bandwidth`` in metres, by default from the data (the result's ``bandwidth``).
    Raises HotspotInputError without any occurrence, or too few to estimate a bandwidth.

    Examples
    --------
    >>> grid = Grid(0, 0, 3, 3, size=200)
    >>> points = Points(np.array([300.0]), np.array([300.0]), np.zeros(1, "datetime64[us]"), np.arange(1),
    ...                 np.array(["a"], object))
    >>> cells = density_cells(points, grid, bandwidth=200)
    >>> cells.frame.density.round(1).tolist()[3:6], cells.bandwidth
    ([0.0, 23.9, 0.0], 200.0)
    """
    if len(points.x) == 0:
        raise HotspotInputError("there is no occurrence to estimate a density from")
    counted = count_points(grid, points.x, points.y)
    density = kde_grid(grid, points.x, points.y, bandwidth=bandwidth)
    return Cells(grid_frame(grid, count=counted.counts, density=density.density), (), counted.outside,
                 float(density.bandwidth))


@dataclasses.dataclass(frozen=True)
class Steps:
    """The complete time steps of an emerging analysis: ISO weeks (Monday to Sunday) or calendar months.

    ``starts``: the local start of each step, oldest first. A step is complete when every
    one of its days lies in the period and has ended: the current week or month is never
    one, nor a step that the period's first or last day cuts. The missing part of a step is
    never counted as zeros: the analysis simply ends with the last complete step.
    """

    kind: str
    starts: tuple[dt.datetime, ...]

    @property
    def first_day(self) -> dt.date:
        return self.starts[0].date()

    @property
    def last_day(self) -> dt.date:
        """The last day of the last step."""
        last = pd.Timestamp(self.starts[-1])
        end = last + (pd.DateOffset(weeks=1) if self.kind == "week" else pd.DateOffset(months=1))
        return (end - pd.Timedelta(days=1)).date()

    def __len__(self) -> int:
        return len(self.starts)

    def describe(self) -> str:
        """What was used, for the command line.

        >>> complete_steps(dt.date(2026, 1, 1), dt.date(2026, 1, 22), "week", today=dt.date(2026, 3, 1)).describe()
        '2 complete weeks, Monday 2026-01-05 to Sunday 2026-01-18'
        """
        if not self.starts:
            return f"no complete {self.kind}"
        unit = self.kind + ("s" if len(self) > 1 else "")
        if self.kind == "week":
            return f"{len(self)} complete {unit}, Monday {self.first_day} to Sunday {self.last_day}"
        return f"{len(self)} complete {unit}, {self.first_day:%Y-%m} to {self.last_day:%Y-%m}"

    def describe_fr(self) -> str:
        """What was used, for the pages.

        >>> complete_steps(dt.date(2026, 1, 1), dt.date(2026, 1, 22), "week", today=dt.date(2026, 3, 1)).describe_fr()
        '2 semaines complètes, du lundi 05/01/2026 au dimanche 18/01/2026'
        """
        if self.kind == "week":
            return (f"{len(self)} semaine{'s' if len(self) > 1 else ''} complète{'s' if len(self) > 1 else ''}, "
                    f"du lundi {self.first_day:%d/%m/%Y} au dimanche {self.last_day:%d/%m/%Y}")
        return f"{len(self)} mois complets, de {self.first_day:%m/%Y} à {self.last_day:%m/%Y}"


def complete_steps(first: dt.date, last: dt.date, step: str, today: dt.date | None = None) -> Steps:
    """The complete steps inside [first, last], none later than yesterday (see :class:`Steps`).

    Examples
    --------
    A period from a Thursday to a Wednesday holds one complete week; today's week is not one:

    >>> steps = complete_steps(dt.date(2026, 1, 1), dt.date(2026, 1, 14), "week", today=dt.date(2026, 3, 1))
    >>> [d.date().isoformat() for d in steps.starts], steps.last_day.isoformat()
    (['2026-01-05'], '2026-01-11')
    >>> len(complete_steps(dt.date(2026, 1, 1), dt.date(2026, 3, 31), "week", today=dt.date(2026, 3, 4)))
    8
    >>> [d.date().isoformat() for d in complete_steps(dt.date(2026, 1, 15), dt.date(2026, 4, 30), "month").starts]
    ['2026-02-01', '2026-03-01', '2026-04-01']
    """
    end = min(last, (today or local_today()) - dt.timedelta(days=1))
    if step == "week":
        start = first + dt.timedelta(days=(7 - first.weekday()) % 7)  # the first Monday on or after first
        stop = end - dt.timedelta(days=(end.weekday() + 1) % 7)  # the last Sunday on or before end
        count = max(((stop - start).days + 1) // 7, 0)
        return Steps("week", tuple(dt.datetime.combine(start + dt.timedelta(weeks=k), dt.time()) for k in range(count)))
    if step == "month":
        start = pd.Period(first, "M") + (0 if first.day == 1 else 1)
        stop = pd.Period(end, "M") - (0 if (end + dt.timedelta(days=1)).day == 1 else 1)
        months = pd.period_range(start, stop, freq="M") if stop >= start else []
        return Steps("month", tuple(p.to_timestamp().to_pydatetime() for p in months))
    raise HotspotInputError(f"unknown step '{step}': choose week or month")


def last_complete_weeks(last: dt.date, count: int, today: dt.date | None = None) -> Steps:
    """The ``count`` complete weeks ending with the last complete week on or before ``last`` (and yesterday).

    >>> steps = last_complete_weeks(dt.date(2026, 12, 2), 104, today=dt.date(2026, 12, 2))
    >>> len(steps), steps.first_day.isoformat(), steps.last_day.isoformat()
    (104, '2024-12-02', '2026-11-29')
    """
    end = min(last, (today or local_today()) - dt.timedelta(days=1))
    stop = end - dt.timedelta(days=(end.weekday() + 1) % 7)
    return complete_steps(stop - dt.timedelta(weeks=count) + dt.timedelta(days=1), stop, "week", today)


def emerging_cells(points: Points, grid: Grid, steps: Steps, band: float | None = None,
                   lag: int = 1, apart: bool = False) -> Cells:
    """Emerging hot spot category of every scope cell over complete time steps.

    Each point falls in its step; the points outside the steps (before the first, or in
    an incomplete step after the last) are left out. One row
    per scope cell: ``i``, ``j``, ``count`` (all steps), ``neighbourhood`` (all steps, the
    cell and its neighbours in the scope: what its class is read from), ``z``, ``p``, ``p_fdr`` and
    ``gi_bin`` of the final step, ``emerging_category``, ``trend`` (Mann-Kendall: 1, 0,
    -1), ``significant``. With ``apart``, each category of the points has its own cube,
    the FDR of each step runs over all of them together, and there is one row per
    category and cell (column ``category``, the code).

    Parameters
    ----------
    points : Points
    grid : Grid
    steps : Steps
        The complete steps (:func:`complete_steps`); at least 10.
    band : float, optional
        Spatial distance band in metres; default 1.5 x cell size (queen).
    lag : int
        Earlier steps in the neighbourhood (default 1).
    apart : bool
        Analyse each category apart (the view of all categories).

    Raises
    ------
    HotspotInputError
        When Gi* is undefined. When no step holds enough occurrences for any cell to be
        significant (of any category, with ``apart``), ``supported`` is false.

    Examples
    --------
    >>> grid = Grid(0, 0, 9, 9, size=200)
    >>> steps = complete_steps(dt.date(2026, 1, 5), dt.date(2026, 3, 29), "week", today=dt.date(2026, 6, 1))
    >>> at = np.repeat(np.asarray(steps.starts[-3:], "datetime64[us]"), 20) + np.timedelta64(1, "h")
    >>> points = Points(np.full(60, 900.0), np.full(60, 900.0), at, np.arange(60), np.full(60, "a", object))
    >>> cells = emerging_cells(points, grid, steps)           # hot in the last three of 13 weeks
    >>> cell = cells.frame.set_index(["i", "j"]).loc[(4, 4)]
    >>> int(cell["count"]), cell.emerging_category
    (60, 'consecutive hot spot')
    """
    points = points.between(steps.first_day, steps.last_day)
    starts = steps.starts
    index = np.searchsorted(np.asarray(starts, "datetime64[us]"), points.at, side="right") - 1
    codes = list(dict.fromkeys(points.category)) if apart else [None]
    cubes = {code: count_points(grid, points.x[keep], points.y[keep], step_index=index[keep],
                                n_steps=len(starts)).counts for code, keep in ((c, _of(points, c)) for c in codes)}
    results = emerging_hotspots_together(cubes, grid, band=band, k=lag)
    names = np.array(CATEGORIES + ("outside the scope",))
    kernel = band_kernel(DEFAULT_BAND_FACTOR * grid.size if band is None else band, grid.size)
    frames = []
    for code, result in results.items():
        z_final, q_final = result.z[-1], result.p_fdr[-1]
        total = cubes[code].sum(axis=0)
        around = window_sum(np.where(grid.mask, total, 0).astype(float), kernel).round().astype(np.int64)
        frame = grid_frame(grid, count=total, neighbourhood=around, z=z_final, p=result.p[-1], p_fdr=q_final,
                           gi_bin=gi_bin(z_final, q_final), emerging_category=names[result.category])
        frame["trend"] = result.trend.trend
        frame["significant"] = frame.p_fdr <= SIGNIFICANCE
        frames.append(frame if code is None else frame.assign(category=code))
    return _cells(frames, apart, results.values(), count_points(grid, points.x, points.y).outside)


def dbscan_clusters(bind: Engine | Connection, area, first: dt.date, last: dt.date, category: str | None = None,
                    *, eps: float = DBSCAN_EPS_M, min_points: int = DBSCAN_MIN_POINTS,
                    apart: bool = False) -> gpd.GeoDataFrame:
    """DBSCAN clusters of the occurrences inside ``area`` between two local days (both included).

    ``ST_ClusterDBSCAN(geom, eps, minpoints)`` in Lambert-93, the occurrences in id order
    (repeatable). One row per cluster, numbered from 1: ``cluster_id``, ``category_code``
    (None unless ``apart``), ``occurrences``, and the convex hull of its occurrences as
    geometry (EPSG:2154).

    Parameters
    ----------
    bind : Engine or Connection
    area : shapely (Multi)Polygon
        EPSG:2154.
    first, last : datetime.date
    category : str, optional
        One category code; None for all.
    eps, min_points : float, int
        Neighbourhood radius in metres and smallest cluster; default
        `geo.settings.DBSCAN_EPS_M` and `geo.settings.DBSCAN_MIN_POINTS`.
    apart : bool
        Cluster each category on its own: all categories together, a dense centre makes
        one cluster of everything (one hull over half a sector) that says nothing.
    """
    with connection(bind) as conn:
        rows = conn.execute(named_query("occurrence_clusters"), {
            "area": shapely.to_wkb(area), "first": first, "last": last, "tz": LOCAL_TZ, "category": category,
            "eps": eps, "minpoints": min_points, "apart": apart}).all()
    return gpd.GeoDataFrame({"cluster_id": [int(r.cluster_id) for r in rows],
                             "category_code": [r.category_code for r in rows],
                             "occurrences": [int(r.occurrences) for r in rows]},
                            geometry=[shapely.from_wkb(bytes(r.hull)) for r in rows], crs=SRID)


def dbscan_description(eps: float = DBSCAN_EPS_M, min_points: int = DBSCAN_MIN_POINTS, apart: bool = False) -> str:
    """The parameters of :func:`dbscan_clusters`, in French, as a page states them.

    >>> dbscan_description(100.0, 10, apart=True)
    'DBSCAN : rayon de 100 m, au moins 10 faits par agrégat, chaque catégorie à part'
    """
    return (f"DBSCAN : rayon de {number(eps)} m, au moins {number(min_points)} faits par agrégat"
            + (", chaque catégorie à part" if apart else ""))


__all__ = [
    "EMERGING_WEEKS", "NO_PATTERN", "SIGNIFICANCE", "Cells", "cell_squares", "dbscan_clusters", "dbscan_description", "density_cells", "emerging_cells",
    "gistar_cells", "Steps", "complete_steps", "last_complete_weeks", "with_squares",
]
