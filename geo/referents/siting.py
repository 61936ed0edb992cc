"""New camera sites: the maximal covering location problem (PySAL spopt MCLP) with the occurrences as demand.

:func:`propose_sites` chooses at most ``p`` new cameras among candidate sites so as to
cover the most occurrences of a commune (DESIGN.md section 5):

- demand: the occurrences of the selection (as :func:`geo.referents.cameras.coverage`
  counts them), grouped by identical location, each place weighing
  its count; the occurrences already inside an existing camera's wedge weigh 0 (they are
  left out): a new camera gains only what no camera sees yet;
- candidates: the sites of a file (``id, lat, lon``, :func:`read_candidates`) or, by
  default, the points of a grid every ``grid_step`` metres (anchored at the Lambert-93
  origin) inside the commune. The database holds no street map (the base map of
  geo.territory.basemap has the communes and sectors only), so a grid point is not known
  to stand on public space: it is a place to survey, kept only when some uncovered
  occurrence lies within ``range_m`` of it (which keeps the problem small). With a field
  of view under 360 degrees, each site gives 8 orientations (every 45 degrees) and at
  most one of them may be chosen (a constraint added to spopt's problem before solving);
- the problem is reduced without changing its optimum: candidates that cover nothing
  new are left out, and so (for domes, ``fov`` 360) is a candidate whose demand another
  covers too; demand places that the same candidates cover are merged (their weights
  summed), those no candidate reaches are left out;
- spopt writes every (demand, candidate) pair into its problem, and with thousands of
  places and thousands of candidates (a city's 50 m grid) building it takes minutes and
  gigabytes; so the MCLP first chooses among the `POOL_SIZE` (300) candidates that alone
  cover the most, then the choice is *proved* optimal over every candidate, or the pool
  doubles (up to `MAX_POOL`). The proof: a choice of k cameras holding one from outside
  the pool covers at most what the best k - 1 cover plus ``a``, the most any outside
  candidate covers alone; so no choice of p beats the pool's optimum when, for every k < p,
  the linear relaxation's bound of the pool's best k plus (p - k) ``a`` does not exceed it
  (:func:`_proved_optimal`, the relaxations solved by HiGHS through scipy). ``Proposal.exact``
  says whether the proof held, ``Proposal.pool`` from how many candidates the MCLP chose;
- the 0/1 coverage goes to ``MCLP.from_cost_matrix`` as a cost matrix (0: covered, 1:
  not; service radius 0.5), solved by CBC; a solution that is not optimal is refused.

The chosen cameras are reported in greedy order of their marginal gain within the chosen
set; a chosen camera that would gain nothing (fewer useful sites than ``p``) is not
proposed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pulp
import shapely
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.spatial import cKDTree
from sqlalchemy.engine import Connection, Engine

from geo.errors import PsqError
from geo.ingest import row_checks
from geo.ingest.occurrences import BadRowsError
from geo.ingest.row_checks import Faults, Territory
from geo.ingest.tabular_file import read_rows, resolve_columns
from geo.ingest.vector_file import VectorFileError
from geo.referents.cameras import Camera, covered_by, in_wedge, list_cameras, select_occurrences, to_wgs84
from geo.territory.projections import METROPOLITAN_SRID

if TYPE_CHECKING:
    from geo.accounts.users import UserScope

#: Bounds of the parameters (both included).
P_RANGE = (1, 20)
RANGE_M = (5.0, 300.0)
FOV_RANGE = (1.0, 360.0)
GRID_STEP_M = (10.0, 1000.0)
#: Degrees between two orientations of a site (8 per site) when the field of view is under 360.
ORIENTATION_STEP = 45
#: The candidate cameras first given to the MCLP: those that alone cover the most (see the module's text).
POOL_SIZE = 300
#: The largest pool tried when the optimum over the smaller one is not proved optimal over every candidate.
MAX_POOL = 1200
CANDIDATE_FIELDS = {"id": ("id", "identifiant", "code", "site"), "lat": ("lat", "latitude"),
                    "lon": ("lon", "lng", "long", "longitude")}


class SitingError(PsqError, ValueError):
    """A proposal that cannot be computed as asked: an English sentence, and its French ``user_message``."""


class BadCandidatesError(BadRowsError):
    """Lines of a candidate file that cannot be read: the headline, then each line with its reason."""

    outcome = "nothing was proposed"


@dataclasses.dataclass(frozen=True)
class Site:
    """A chosen camera: its candidate id, place (Lambert-93 and WGS84), orientation and marginal gain."""

    id: str
    x: float
    y: float
    lat: float
    lon: float
    bearing: float
    fov: float
    range_m: float
    gain: int

    def camera(self) -> Camera:
        """The site as a proposed camera (for coverage and the maps)."""
        return Camera(None, self.id, self.x, self.y, self.lat, self.lon, self.bearing, self.fov, self.range_m,
                      "proposed", "autre", None)


@dataclasses.dataclass(frozen=True)
class Proposal:
    """The chosen sites (greedy order), the occurrences covered by existing and chosen cameras, and the gains.

    ``gains[k]`` is what ``sites[k]`` adds to the existing cameras and the sites before it;
    ``covered = already_covered + sum(gains)``; ``share`` is over every occurrence of the
    selection (None without any). ``candidates``: the candidate cameras (site and
    orientation) covering some uncovered occurrence; ``pool``: those the MCLP chose from
    (see the module's text); ``exact``: the choice is proved optimal over every candidate,
    not only over the pool.
    """

    commune: str
    first: dt.date
    last: dt.date
    categories: tuple[str, ...]
    p: int
    range_m: float
    fov: float
    occurrences: int
    already_covered: int
    covered: int
    share: float | None
    sites: tuple[Site, ...]
    existing: tuple[Camera, ...]
    candidates: int
    pool: int
    exact: bool = True

    @property
    def chosen(self) -> list[str]:
        return [s.id for s in self.sites]

    @property
    def gains(self) -> list[int]:
        return [s.gain for s in self.sites]


def check_parameters(p: int, range_m: float, fov: float, grid_step: float = 50) -> None:
    """Refuse a parameter out of its bounds, in one sentence."""
    checks = (("p", p, P_RANGE, "the number of new cameras", "Le nombre de caméras à proposer"),
              ("range", range_m, RANGE_M, "the range in metres", "La portée (en mètres)"),
              ("fov", fov, FOV_RANGE, "the field of view in degrees", "Le champ de vision (en degrés)"),
              ("grid step", grid_step, GRID_STEP_M, "the grid's step in metres", "Le pas de la grille (en mètres)"))
    for name, value, (low, high), what, french in checks:
        if not (low <= value <= high) or (name == "p" and int(value) != value):
            raise SitingError(f"{name} {value:g}: {what} must be from {low:g} to {high:g}.",
                              user_message=f"{french} doit être de {low:g} à {high:g} (et non {value:g}).")


def read_candidates(path: str | Path) -> list[tuple[str, float, float]]:
    """The candidate sites of a CSV (or GeoJSON) file ``id, lat, lon`` (WGS84): (id, lat, lon) rows.

    Raises :class:`BadCandidatesError` naming each bad line and its fault.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = p.write_text("id,lat,lon\\nA,47.638,6.8628\\n")
    >>> read_candidates(p)
    [('A', 47.638, 6.8628)]
    """
    table = read_rows(path)
    columns = resolve_columns(table, {}, CANDIDATE_FIELDS, ("id",))
    if "lat" not in columns or "lon" not in columns:
        raise VectorFileError(f"{table.name}: the candidate sites need lat and lon columns (WGS84).")
    rows = table.rows
    faults = Faults(len(rows))
    ids = row_checks.text(rows[columns["id"]])
    row_checks.check_ids(ids, rows["line"], faults, table.where)
    lat, lon = row_checks.text(rows[columns["lat"]]), row_checks.text(rows[columns["lon"]])
    row_checks.check_coordinates(lat, lon, ("lat", "lon"), CRS.from_epsg(4326), Territory.metropolitan_france(),
                                 faults)
    bad = faults.bad()
    if bad.any():
        reasons = faults.reasons()
        raise BadCandidatesError(table.name, len(rows), [(f"{table.where} {rows['line'].iloc[k]}", reasons[k])
                                                         for k in np.flatnonzero(bad)])
    return [(i, float(a), float(b)) for i, a, b in zip(ids, row_checks.to_number(lat), row_checks.to_number(lon))]


@dataclasses.dataclass(frozen=True)
class _Sites:
    """Candidate sites in Lambert-93 with their ids."""

    ids: list[str]
    x: np.ndarray
    y: np.ndarray


def grid_sites(area, step: float) -> _Sites:
    """Points every ``step`` metres (multiples of ``step`` in Lambert-93) inside ``area``, numbered G1, G2..."""
    xmin, ymin, xmax, ymax = area.bounds
    xs = np.arange(np.ceil(xmin / step), np.floor(xmax / step) + 1) * step
    ys = np.arange(np.ceil(ymin / step), np.floor(ymax / step) + 1) * step
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys, indexing="ij"))
    shapely.prepare(area)
    inside = shapely.contains_xy(area, gx, gy)
    gx, gy = gx[inside], gy[inside]
    return _Sites([f"G{k + 1}" for k in range(len(gx))], gx, gy)


def _file_sites(rows: Sequence[tuple[str, float, float]]) -> _Sites:
    to_l93 = Transformer.from_crs(4326, METROPOLITAN_SRID, always_xy=True)
    ids = [str(r[0]) for r in rows]
    x, y = to_l93.transform(np.array([r[2] for r in rows], float), np.array([r[1] for r in rows], float))
    return _Sites(ids, np.atleast_1d(np.asarray(x)), np.atleast_1d(np.asarray(y)))


@dataclasses.dataclass
class _Options:
    """Candidate cameras: site index, bearing, id, and the demand places each covers."""

    site: list[int] = dataclasses.field(default_factory=list)
    bearing: list[float] = dataclasses.field(default_factory=list)
    id: list[str] = dataclasses.field(default_factory=list)
    covers: list[np.ndarray] = dataclasses.field(default_factory=list)


def _options(sites: _Sites, dx: np.ndarray, dy: np.ndarray, range_m: float, fov: float) -> _Options:
    """Every candidate camera (each site, each orientation) that covers some demand place."""
    bearings = [0.0] if fov >= 360 else [float(b) for b in range(0, 360, ORIENTATION_STEP)]
    tree = cKDTree(np.column_stack([dx, dy]))
    near = tree.query_ball_point(np.column_stack([sites.x, sites.y]), range_m + 1e-6)
    options = _Options()
    for s, places in enumerate(near):
        if not places:
            continue
        places = np.asarray(sorted(places))
        for bearing in bearings:
            inside = places[in_wedge(dx[places], dy[places], sites.x[s], sites.y[s], bearing, fov, range_m)]
            if len(inside):
                options.site.append(s)
                options.bearing.append(bearing)
                options.id.append(sites.ids[s] if fov >= 360 else f"{sites.ids[s]}@{bearing:g}")
                options.covers.append(inside)
    return options


def _undominated(matrix: np.ndarray) -> np.ndarray:
    """Columns (candidates) whose covered set no other column contains (the first of equal ones kept).

    >>> _undominated(np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1]], bool)).tolist()
    [False, False, True]
    """
    a = sparse.csc_matrix(matrix).astype(np.int32)
    size = np.asarray(a.sum(axis=0)).ravel()
    overlap = (a.T @ a).tocoo()  # sparse: only candidates sharing some demand
    j, k, shared = overlap.row, overlap.col, overlap.data
    inside = (j != k) & (shared == size[j]) & ((size[k] > size[j]) | ((size[k] == size[j]) & (k < j)))
    dominated = np.zeros(matrix.shape[1], bool)
    dominated[j[inside]] = True
    return ~dominated


def solve_mclp(matrix: np.ndarray, weights: np.ndarray, p: int, site_of: Sequence[int] | None = None) -> list[int]:
    """The columns of ``matrix`` (demand x candidates, 0/1) an optimal MCLP chooses, at most one per site.

    ``p`` is lowered to the number of sites when there are fewer (spopt asks exactly p).

    >>> solve_mclp(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]]), np.array([1, 2, 5]), 1)
    [2]
    """
    from spopt.locate import MCLP

    site_of = list(range(matrix.shape[1])) if site_of is None else list(site_of)
    p = min(p, len(set(site_of)))
    cost = np.where(matrix > 0, 0.0, 1.0)
    model = MCLP.from_cost_matrix(cost, np.asarray(weights, float), service_radius=0.5, p_facilities=p,
                                  name="camera_sites")
    groups = pd.Series(range(len(site_of))).groupby(site_of).apply(list)
    for members in groups:
        if len(members) > 1:  # one orientation per site: spopt has no such constraint, add it to its problem
            model.problem += pulp.lpSum(model.fac_vars[j] for j in members) <= 1
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False))
    except RuntimeError:  # spopt's "Model is not solved"
        status = pulp.LpStatus.get(model.problem.status, str(model.problem.status))
        raise SitingError(f"the solver found no optimal choice of sites (status: {status}).",
                          user_message="Le solveur n'a pas trouvé de choix optimal des sites.") from None
    if pulp.LpStatus[model.problem.status] != "Optimal":
        raise SitingError(f"the solver found no optimal choice of sites (status: "
                          f"{pulp.LpStatus[model.problem.status]}).",
                          user_message="Le solveur n'a pas trouvé de choix optimal des sites.")
    return [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]


def propose_sites(bind: Engine | Connection, scope: UserScope, commune: str, p: int, *,
                  candidates: Sequence[tuple[str, float, float]] | None = None, range_m: float = 60,
                  fov: float = 360, categories: Sequence[str] | None = None, first: dt.date | None = None,
                  last: dt.date | None = None, grid_step: float = 50) -> Proposal:
    """At most ``p`` new cameras (``range_m`` deep, ``fov`` wide) covering the most uncovered occurrences of a commune.

    ``candidates``: (id, lat, lon) sites (:func:`read_candidates`); default a grid of
    ``grid_step`` metres over the commune. Raises :class:`SitingError` for a parameter
    out of bounds (p 1 to 20, range 5 to 300 m, fov 1 to 360 degrees) or a solver failure.

    Examples
    --------
    >>> from geo.accounts.users import UserScope
    >>> from geo.ingest.communes import load_communes
    >>> _ = load_communes(engine, "90")
    >>> proposal = propose_sites(engine, UserScope("admin"), "90010", 2)
    >>> proposal.occurrences, proposal.chosen, proposal.share
    (0, [], None)
    """
    check_parameters(p, range_m, fov, grid_step)
    selection = select_occurrences(bind, scope, commune, categories=categories, first=first, last=last)
    existing = list_cameras(bind, scope, near=selection.scope.geometry, status="existing")
    points = selection.points
    already = covered_by(points.x, points.y, existing)
    px, py = points.x[~already], points.y[~already]
    # Demand places: identical locations, weighted by their counts (exact coordinates: the gains, counted on the
    # occurrences themselves, then agree with the problem's coverage even on a wedge's edge).
    places, weights = np.unique(np.column_stack([px, py]), axis=0, return_counts=True)
    sites = _file_sites(candidates) if candidates is not None else grid_sites(selection.scope.geometry, grid_step)
    options = _options(sites, places[:, 0], places[:, 1], range_m, fov) if len(places) else _Options()
    chosen, pool, exact = _choose(options, len(places), weights, p, fov)
    site_list = _ordered_sites(options, chosen, sites, px, py, range_m, fov)
    n, covered = len(points.x), int(already.sum()) + sum(s.gain for s in site_list)
    return Proposal(commune, selection.first, selection.last, selection.categories, int(p), float(range_m),
                    float(fov), n, int(already.sum()), covered, covered / n if n else None, tuple(site_list),
                    tuple(existing), len(options.id), pool, exact)


def _choose(options: _Options, n_places: int, weights: np.ndarray, p: int,
            fov: float) -> tuple[list[int], int, bool]:
    """The options an optimal MCLP chooses on the reduced problem, how many candidates it chose from, and
    whether the choice is proved optimal over every candidate (see the module's text)."""
    if not options.id:
        return [], 0, True
    lengths = [len(rows) for rows in options.covers]
    matrix = sparse.csc_matrix((np.ones(sum(lengths), bool), np.concatenate(options.covers),
                                np.concatenate([[0], np.cumsum(lengths)])), shape=(n_places, len(options.id)))
    keep = np.arange(len(options.id))
    if fov >= 360:  # one option per site: a dominated candidate is never needed
        keep = keep[_undominated(matrix)]
    alone = matrix[:, keep].T @ weights
    order = keep[np.argsort(-alone, kind="stable")]
    alone = np.sort(alone)[::-1]
    size = POOL_SIZE
    while True:
        pool = order[:size]
        outside = float(alone[size]) if size < len(alone) else 0.0
        patterns, merged = _merged_demand(matrix[:, pool].toarray(), weights)
        site_of = [options.site[j] for j in pool]
        chosen = solve_mclp(patterns, merged, p, site_of)
        best = float(merged[patterns[:, chosen].any(axis=1)].sum())
        exact = outside == 0 or _proved_optimal(patterns, merged, site_of, p, best, outside)
        if exact or size >= min(MAX_POOL, len(order)):
            return [int(pool[j]) for j in chosen], len(pool), exact
        size *= 2


def _merged_demand(matrix: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Places covered by the same candidates as one demand (weights summed); places no candidate reaches left out."""
    reached = matrix.any(axis=1)
    patterns, group = np.unique(matrix[reached], axis=0, return_inverse=True)
    return patterns, np.bincount(group.ravel(), weights=weights[reached], minlength=len(patterns))


def _proved_optimal(patterns: np.ndarray, weights: np.ndarray, site_of: Sequence[int], p: int, best: float,
                    outside: float) -> bool:
    """Whether no choice of ``p`` cameras, candidates outside the pool allowed, covers more than ``best``.

    A choice of k holding an outside camera covers at most what the best k - 1 cover plus ``outside`` (the most
    an outside candidate covers alone); unrolled, at most the pool's best k plus (p - k) ``outside`` for some
    k < p, each bounded above by its linear relaxation.

    >>> patterns = np.array([[1, 0], [0, 1]], bool)
    >>> _proved_optimal(patterns, np.array([5.0, 4.0]), [0, 1], 2, 9.0, 1.0), _proved_optimal(
    ...     patterns, np.array([5.0, 4.0]), [0, 1], 2, 9.0, 4.5)
    (True, False)
    """
    return all(_relaxed_best(patterns, weights, site_of, k) + (p - k) * outside <= best + 1e-6 for k in range(p))


def _relaxed_best(patterns: np.ndarray, weights: np.ndarray, site_of: Sequence[int], k: int) -> float:
    """An upper bound of the demand ``k`` cameras of the pool cover: the MCLP's linear relaxation (HiGHS)."""
    if k == 0:
        return 0.0
    from scipy.optimize import linprog

    n_demand, n_candidates = patterns.shape
    # Variables: x (candidates) then y (demand). y_i <= sum of the x covering i; sum x <= k; one per site.
    cover = sparse.hstack([-sparse.csr_matrix(patterns, dtype=float), sparse.identity(n_demand, format="csr")])
    sites = pd.factorize(pd.Series(site_of))[0]
    per_site = sparse.csr_matrix((np.ones(n_candidates), (sites, np.arange(n_candidates))),
                                 shape=(sites.max() + 1, n_candidates))
    rows = sparse.vstack([cover, sparse.hstack([sparse.csr_matrix(np.ones((1, n_candidates))),
                                                sparse.csr_matrix((1, n_demand))]),
                          sparse.hstack([per_site, sparse.csr_matrix((per_site.shape[0], n_demand))])]).tocsr()
    bounds = np.concatenate([np.zeros(n_demand), [k], np.ones(per_site.shape[0])])
    result = linprog(np.concatenate([np.zeros(n_candidates), -np.asarray(weights, float)]), A_ub=rows, b_ub=bounds,
                     bounds=(0, 1), method="highs")
    if result.status != 0:
        return float("inf")  # no bound: nothing proved
    return -float(result.fun)


def _ordered_sites(options: _Options, chosen: list[int], sites: _Sites, px: np.ndarray, py: np.ndarray,
                   range_m: float, fov: float) -> list[Site]:
    """The chosen cameras in greedy order of marginal gain over the uncovered occurrences; those gaining nothing
    are dropped."""
    masks = {j: in_wedge(px, py, sites.x[options.site[j]], sites.y[options.site[j]], options.bearing[j], fov, range_m)
             for j in chosen}
    seen = np.zeros(len(px), bool)
    ordered = []
    remaining = list(chosen)
    while remaining:
        gains = [int((masks[j] & ~seen).sum()) for j in remaining]
        best = int(np.argmax(gains))
        if gains[best] == 0:
            break
        j = remaining.pop(best)
        seen |= masks[j]
        x, y = sites.x[options.site[j]], sites.y[options.site[j]]
        lat, lon = to_wgs84([x], [y])
        ordered.append(Site(options.id[j], float(x), float(y), float(lat[0]), float(lon[0]), options.bearing[j],
                            float(fov), float(range_m), gains[best]))
    return ordered


__all__ = ["FOV_RANGE", "MAX_POOL", "ORIENTATION_STEP", "POOL_SIZE", "P_RANGE", "RANGE_M", "BadCandidatesError", "Proposal", "Site",
           "SitingError", "check_parameters", "grid_sites", "propose_sites", "read_candidates", "solve_mclp"]
