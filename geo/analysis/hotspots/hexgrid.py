"""Hexagonal grid anchored at the Lambert-93 origin: the hexagon option of DESIGN.md section 5.

Layout
------
Pointy-top regular hexagons (two vertices due north and south, two vertical edges), so
that the hexagons form east-west rows, like the rows of the square grid. Hexagon
``(0, 0)`` is centred on the Lambert-93 origin (x = y = 0, EPSG:2154), so a hexagon
keeps its id across runs, time steps and study areas, as the square cells do.

Size convention
---------------
A hexagon of size ``s`` has the area of an ``s`` x ``s`` square, so that "200 m
hexagons" and 200 m squares hold the same number of occurrences on average. Since a
regular hexagon of circumradius R has area ``3 sqrt(3) / 2 R²``::

    R = s sqrt(2 / (3 sqrt(3))) ≈ 0.6204 s          (centre to vertex = side)
    w = sqrt(3) R ≈ 1.0746 s                        (flat to flat = centre to centre)
    row pitch = 3 R / 2 ≈ 0.9306 s                  (between rows of centres)

Ids
---
Axial coordinates ``(q, r)``: ``r`` counts rows northwards, ``q`` counts hexagons
eastwards along the row; the centre of ``(q, r)`` is at ``x = (q + r / 2) w``,
``y = 3 r R / 2``. The six neighbours are ``(q ± 1, r)``, ``(q, r ± 1)``,
``(q + 1, r - 1)`` and ``(q - 1, r + 1)``; the number of steps between two hexagons
is ``max(|dq|, |dr|, |dq + dr|)``.

Tie rule
--------
A point on a boundary goes to the northernmost of the hexagons that share it, and
among equally northern ones to the easternmost: to the hexagon with the greatest
``(r, q)``. So a hexagon keeps its west, south-west and south-east edges and its south
and south-west vertices, the hexagonal counterpart of ``floor`` on the square grid
(where a cell keeps its west and south edges). The rule holds exactly in the lattice
coordinates ``x / (w / 2)`` and ``y / (R / 2)`` as computed in floating point: exactly
for points whose lattice coordinates are exact (the vertices of hexagon (0, 0), the
vertical edges ``x = ±w / 2``); a point within a rounding error of another edge may go
to either side, but always to exactly one hexagon.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import shapely
from scipy import sparse

from geo.analysis.hotspots.errors import HotspotInputError
from geo.analysis.hotspots.gistar import GiStar, gistar_sparse
from geo.analysis.hotspots.grid import DEFAULT_CELL_SIZE, PointCounts, _finite_coordinates

RADIUS_FACTOR = math.sqrt(2 / (3 * math.sqrt(3)))

# Lattice coordinates beyond this many half-steps would overflow the int64 keys of a
# scope (r * 2**32 + q); the bound is 1e11 m for 200 m hexagons, far beyond France.
MAX_LATTICE = 2**30

# Vertices of a pointy-top hexagon, counter-clockwise from the north-east one, in units
# of (w / 2, R / 2): integer multiples, so that neighbours share bit-identical vertices.
_VERTEX_STEPS = np.array([(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1)])

# Which corner of a lattice triangle is the hexagon centre, by (upper triangle, (i - j) mod 3);
# see `hex_ids`.
_CENTRE_DA = np.array([[0, 0, 1], [1, 0, 1]])
_CENTRE_DC = np.array([[0, 1, 0], [1, 1, 0]])


def hex_circumradius(size: float = DEFAULT_CELL_SIZE) -> float:
    """Circumradius R (centre to vertex, also the side) of the hexagon of area ``size²``.

    Examples
    --------
    >>> round(hex_circumradius(200), 3)
    124.081
    >>> R = hex_circumradius(200); round(3 * math.sqrt(3) / 2 * R * R, 6)
    40000.0
    """
    if not 0 < size < math.inf:
        raise HotspotInputError(f"the cell size must be positive, not {size}")
    return size * RADIUS_FACTOR


def hex_ids(x, y, size: float = DEFAULT_CELL_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Axial ids ``(q, r)`` of the hexagons holding points (EPSG:2154 metres).

    The fractional cube coordinates' pairwise differences ``A = q - s`` and
    ``C = r - q`` (``s = -q - r``) are floored rather than rounded: the lines where
    ``A``, ``C`` or ``A + C`` is an integer cut the plane into triangles, each with one
    corner on a hexagon centre, and flooring makes every cell half-open, which is the
    documented tie rule (module docstring). Away from boundaries this is the same
    hexagon as the usual cube rounding.

    Parameters
    ----------
    x, y : array_like
        Coordinates in metres, Lambert-93.
    size : float
        Hexagon size: its area is ``size²``.

    Returns
    -------
    q, r : numpy.ndarray of int64

    Examples
    --------
    >>> q, r = hex_ids([0.0, 120.0, 652_500.0], [0.0, 0.0, 6_862_000.0], size=200)
    >>> q.tolist(), r.tolist()
    ([0, 1, -15398], [0, 0, 36868])
    """
    half_w, half_r = _half_steps(size)
    x, y = _finite_coordinates(x, y)
    a = x / half_w
    c = (y / half_r - a) / 2
    if x.size and max(np.abs(a).max(), np.abs(c).max()) >= MAX_LATTICE:
        raise HotspotInputError(
            f"coordinates beyond {MAX_LATTICE * half_w:.3g} m of the Lambert-93 origin are off the hexagon lattice")
    i, j = np.floor(a), np.floor(c)
    upper = ((a - i) + (c - j) >= 1).astype(np.intp)
    corner = np.mod(i - j, 3).astype(np.intp)
    a_centre = i + _CENTRE_DA[upper, corner]
    c_centre = j + _CENTRE_DC[upper, corner]
    q = (a_centre - c_centre) / 3
    return q.astype(np.int64), (c_centre + q).astype(np.int64)


def hex_centres(q, r, size: float = DEFAULT_CELL_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Centre coordinates (x, y) of hexagons.

    Examples
    --------
    >>> x, y = hex_centres([0, 1, 0], [0, 0, 1], size=200)
    >>> x.round(3).tolist(), y.round(3).tolist()
    ([0.0, 214.914, 107.457], [0.0, 0.0, 186.121])
    """
    half_w, half_r = _half_steps(size)
    q, r = _ids(q, r)
    return (2 * q + r) * half_w, (3 * r) * half_r


def hex_polygons(q, r, size: float = DEFAULT_CELL_SIZE) -> np.ndarray:
    """Hexagons as an array of shapely Polygons (EPSG:2154), vertices counter-clockwise.

    Neighbours share bit-identical vertices, so the hexagons tile the plane without
    slivers or overlaps (a contiguity builder finds them touching).

    Examples
    --------
    >>> cells = hex_polygons([0, 1], [0, 0], size=200)
    >>> [round(cell.area, 6) for cell in cells]
    [40000.0, 40000.0]
    >>> cells[0].intersection(cells[1]).geom_type
    'LineString'
    """
    half_w, half_r = _half_steps(size)
    q, r = _ids(q, r)
    steps_x = (2 * q + r)[:, None] + _VERTEX_STEPS[:, 0]
    steps_y = (3 * r)[:, None] + _VERTEX_STEPS[:, 1]
    return shapely.polygons(np.stack([steps_x * half_w, steps_y * half_r], axis=-1))


@dataclasses.dataclass(frozen=True, eq=False)
class HexScope:
    """The hexagons of a study area, in a fixed order: the units of the statistics.

    Parameters
    ----------
    q, r : array_like of int
        Axial ids of the scope's hexagons, each once; their order is the order of every
        per-cell array (counts, z-scores).
    size : float
        Hexagon size (area ``size²``).

    Attributes
    ----------
    keys : numpy.ndarray of int64
        ``r * 2**32 + q`` per hexagon: ordered by row, then along the row.

    Examples
    --------
    >>> scope = HexScope([0, 1, 0], [0, 0, 1], size=200)
    >>> scope.n_cells, scope.index_of([1, 5], [0, 5]).tolist()
    (3, [1, -1])
    """

    q: np.ndarray
    r: np.ndarray
    size: float = DEFAULT_CELL_SIZE
    keys: np.ndarray = dataclasses.field(init=False, repr=False)
    _order: np.ndarray = dataclasses.field(init=False, repr=False)

    def __post_init__(self):
        _half_steps(self.size)
        q, r = _ids(self.q, self.r)
        keys = _keys(q, r)
        order = np.argsort(keys, kind="stable")
        if np.any(keys[order][1:] == keys[order][:-1]):
            raise HotspotInputError("a hexagon appears twice in the scope: each must appear once")
        for name, value in (("q", q), ("r", r), ("keys", keys), ("_order", order)):
            object.__setattr__(self, name, value)

    @property
    def n_cells(self) -> int:
        return int(self.q.size)

    def index_of(self, q, r) -> np.ndarray:
        """Position in the scope of each hexagon ``(q, r)``, -1 for those not in it."""
        q, r = _ids(q, r)
        found = np.full(q.shape, -1, np.int64)
        on_lattice = (np.abs(q) < MAX_LATTICE) & (np.abs(r) < MAX_LATTICE)
        if not self.n_cells:
            return found
        sorted_keys = self.keys[self._order]
        keys = _keys(q[on_lattice], r[on_lattice])
        at = np.minimum(np.searchsorted(sorted_keys, keys), self.n_cells - 1)
        found[on_lattice] = np.where(sorted_keys[at] == keys, self._order[at], -1)
        return found

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        return hex_centres(self.q, self.r, self.size)

    def polygons(self) -> np.ndarray:
        return hex_polygons(self.q, self.r, self.size)


def hex_scope(area, size: float = DEFAULT_CELL_SIZE) -> HexScope:
    """The hexagons whose centre lies inside a (Multi)Polygon in EPSG:2154.

    A centre on the boundary is outside (``shapely.contains_xy``), as on the square
    grid, so that two adjacent areas never share a hexagon. The scope is ordered by row
    (``r``) from south to north, then by ``q`` from west to east.

    Examples
    --------
    >>> from shapely import box
    >>> scope = hex_scope(box(-300, -300, 300, 300), size=200)
    >>> list(zip(scope.q.tolist(), scope.r.tolist()))
    [(0, -1), (1, -1), (-1, 0), (0, 0), (1, 0), (-1, 1), (0, 1)]
    """
    if area is None or area.is_empty:
        raise HotspotInputError("the study area is empty")
    q, r = _candidates(area.bounds, size)
    x, y = hex_centres(q, r, size)
    inside = shapely.contains_xy(area, x, y)
    return HexScope(q[inside], r[inside], size)


def hex_counts(scope: HexScope, x, y) -> PointCounts:
    """Count points per hexagon of the scope.

    Returns
    -------
    PointCounts
        ``counts``: int64 array in scope order, zero for hexagons without points;
        ``outside``: the number of points in no hexagon of the scope.

    Examples
    --------
    >>> scope = HexScope([0, 1], [0, 0], size=200)
    >>> result = hex_counts(scope, [0, 10, 200, 1e7], [0, -5, 0, 0])
    >>> result.counts.tolist(), result.outside
    ([2, 1], 1)
    """
    x, y = _finite_coordinates(x, y)
    index = np.full(x.shape, -1, np.int64)
    near = _near_scope(scope, x, y)
    index[near] = scope.index_of(*hex_ids(x[near], y[near], scope.size))
    kept = index[index >= 0]
    return PointCounts(np.bincount(kept, minlength=scope.n_cells).astype(np.int64), int(x.size - kept.size))


def hex_weights(scope: HexScope, rings: int = 1) -> sparse.csr_matrix:
    """Binary weights between the scope's hexagons within ``rings`` steps, self included.

    ``rings=1`` gives the six touching neighbours, ``rings=2`` the 18 within two steps.
    Hexagons outside the scope are absent, so a hexagon at the edge of the scope has
    fewer neighbours.

    Examples
    --------
    >>> scope = HexScope([0, 1, 0, 3], [0, 0, 1, 0], size=200)
    >>> hex_weights(scope).toarray().astype(int).tolist()
    [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 1]]
    """
    rows, cols = [], []
    for dq, dr in _ring_offsets(_rings(rings)):
        target = scope.index_of(scope.q + dq, scope.r + dr)
        present = target >= 0
        rows.append(np.flatnonzero(present))
        cols.append(target[present])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    n = scope.n_cells
    return sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))


def hex_gistar(scope: HexScope, counts, rings: int = 1, fdr: bool = True) -> GiStar:
    """Gi* hot spots of counts per hexagon (`geo.analysis.hotspots.gistar.gistar_sparse`).

    Parameters
    ----------
    scope : HexScope
    counts : array_like, shape (scope.n_cells,)
        Occurrences per hexagon, in scope order (`hex_counts`).
    rings : int
        Neighbourhood in hexagon steps (default 1: the six touching neighbours).
    fdr : bool
        Bins from Benjamini-Hochberg adjusted p-values (default) or raw ones.

    Examples
    --------
    >>> from shapely import box
    >>> scope = hex_scope(box(0, 0, 2000, 2000), size=200)
    >>> counts = np.zeros(scope.n_cells); counts[scope.index_of([0, 1, 0], [5, 5, 6])] = 10
    >>> result = hex_gistar(scope, counts)
    >>> scope.n_cells, result.z[scope.index_of([0], [5])].round(2).tolist()
    (90, [6.03])
    """
    return gistar_sparse(counts, hex_weights(scope, rings), fdr=fdr)


def _half_steps(size: float) -> tuple[float, float]:
    """(w / 2, R / 2): the lattice units in x and y, checking the size."""
    radius = hex_circumradius(size)
    return math.sqrt(3) * radius / 2, radius / 2


def _ids(q, r) -> tuple[np.ndarray, np.ndarray]:
    q, r = np.asarray(q).ravel(), np.asarray(r).ravel()
    if q.shape != r.shape:
        raise HotspotInputError(f"q has {q.size} values and r {r.size}: they must pair up")
    if q.size and not (np.issubdtype(q.dtype, np.integer) and np.issubdtype(r.dtype, np.integer)):
        raise HotspotInputError("hexagon ids q and r must be integers")
    return q.astype(np.int64), r.astype(np.int64)


def _keys(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """One int64 per hexagon, ordered by r then q (|q|, |r| < 2**31)."""
    return r * 2**32 + q


def _candidates(bounds, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Every hexagon whose centre may lie in a bounding box, one block of q per row."""
    xmin, ymin, xmax, ymax = bounds
    half_w, half_r = _half_steps(size)
    rows = np.arange(math.floor(ymin / (3 * half_r)), math.ceil(ymax / (3 * half_r)) + 1)
    # Along row r the centres sit at x = (2q + r) w/2: start each row at its own q.
    first = np.floor((xmin / half_w - rows) / 2).astype(np.int64)
    per_row = math.ceil((xmax - xmin) / (2 * half_w)) + 2
    q = first[:, None] + np.arange(per_row)
    r = np.broadcast_to(rows[:, None], q.shape)
    return q.ravel(), r.ravel().astype(np.int64)


def _near_scope(scope: HexScope, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points within the bounding box of the scope's hexagons: the only ones that may count.

    Filtering first keeps far-off points (wrong projection, placeholder coordinates)
    off the lattice arithmetic, where they could exceed its range.
    """
    if not scope.n_cells:
        return np.zeros(x.shape, bool)
    cx, cy = scope.centres()
    reach = hex_circumradius(scope.size)
    return ((x >= cx.min() - reach) & (x <= cx.max() + reach)
            & (y >= cy.min() - reach) & (y <= cy.max() + reach))


def _rings(rings) -> int:
    if isinstance(rings, bool) or not isinstance(rings, (int, np.integer)) or rings < 0:
        raise HotspotInputError(f"rings must be a whole number of hexagon steps (0 or more), not {rings!r}")
    return int(rings)


def _ring_offsets(rings: int) -> list[tuple[int, int]]:
    """Axial offsets within ``rings`` steps, (0, 0) included: 1 + 3 k (k + 1) of them."""
    span = range(-rings, rings + 1)
    return [(dq, dr) for dq in span for dr in span if abs(dq + dr) <= rings]
