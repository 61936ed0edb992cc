"""Getis-Ord Gi* hot spots, on the grid as a convolution, and on irregular units.

The statistic is exactly DESIGN.md section 5 (and esda's ``G_Local(y, w,
transform="B", star=True)`` ``Zs``)::

    Gi* = (sum_j w_ij x_j - X̄ sum_j w_ij) / (S sqrt((n sum_j w_ij² - (sum_j w_ij)²) / (n - 1)))

with binary weights, ``w_ii = 1``, and X̄ and S the mean and *population* standard
deviation over the n units of the scope. On the grid, the neighbours of a cell are the
scope's cells whose centre lies within the distance band (default 1.5 x size: the
queen neighbours); cells outside the scope mask are absent, not zeros: they are never
neighbours and count neither in n, X̄ nor S, so a cell at the edge of the scope simply
has fewer neighbours (``sum_j w_ij`` is smaller there).

Results are grid-shaped arrays. Outside the scope, ``z``, ``p`` and ``p_fdr`` are NaN
and ``gi_bin`` is 0, by contract (those cells are not part of the study area); inside
the scope no value is ever NaN. A cell whose neighbourhood holds every cell of the
scope has ``Gi* = 0/0`` (its local mean is the global mean): it gets ``z = 0`` and the
result says so in ``warnings``.

Significance. z is esda's, exactly, and is reported; the p-values, the FDR and the bins
are not read from z's normal approximation, which is far from the truth on sparse counts
(one occurrence in a quiet area gives z near 5; measured on noise, with FDR, a 95 % hot
spot showed in 52 % of runs at 0.2 occurrences per cell). They come from the exact test of
`geo.analysis.hotspots.significance.window_tests`: given the N occurrences of the scope,
under complete spatial randomness a cell's window count is Binomial(N, m / n), m the
scope cells of its window. Why this test and not esda's conditional permutations:

- it is the null hypothesis a hot spot map asks about (occurrences fall anywhere in the
  scope alike), and it is exact for any sparsity, with no Monte Carlo error and no floor
  on p (999 permutations cannot give less than 0.001, too coarse for FDR over thousands
  of cells); the same data give the same answer every time;
- esda's conditional permutation keeps each cell's own value fixed and permutes the
  others around it: for Gi*, which includes the cell, one cell holding most occurrences
  with quiet neighbours is never significant (the demo's park cell, 327 gatherings in a
  year), though it is the plainest hot spot there is;
- it is fast: counts are small integers, so each distinct case (w, m) is computed once.

On the permutation null's own ground the two agree: where a cell's own count is 0
(fixing it changes nothing), the exact p matches esda's ``p_sim`` up to Monte Carlo error
(tests/geo/analysis/hotspots/test_calibration.py). z and the exact p have the same sign
convention (z > 0 exactly when the window holds more than N m / n), so the bin's sign is z's.
Values that are not counts (non-negative integers) get the normal approximation's p, and
a warning says so.

Too little data: where even the N occurrences all in one cell could not make a
significant hot spot (their best attainable BH q above 0.05), ``supported`` is false and
a warning says so in one sentence: the callers show it instead of classes. Below 30 cells
(ArcGIS's rule of thumb: at least 30 features) a warning says the scope is small.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from geo.analysis.hotspots.errors import HotspotInputError
from geo.analysis.hotspots.grid import Grid, grid_frame
from geo.analysis.hotspots.neighbourhood import band_kernel, cardinality, window_sum
from geo.analysis.hotspots.significance import (
    NOT_COUNTS,
    SUPPORT_ALPHA,
    best_attainable_q,
    fdr_bh,
    gi_bin,
    two_sided_p,
    window_tests,
)

DEFAULT_BAND_FACTOR = 1.5
MIN_RELIABLE = 30


@dataclasses.dataclass(frozen=True, eq=False)
class Moments:
    """Size, mean and population standard deviation of the values of a scope."""

    n: int
    total: float
    mean: float
    std: float


@dataclasses.dataclass(frozen=True, eq=False)
class GiStar:
    """Gi* of every unit: z-score, two-sided p, FDR-adjusted p, confidence bin.

    ``p`` is the exact test's (see the module's docstring); ``gi_bin`` is read from
    ``p_fdr`` when ``fdr`` is true (the default), from ``p`` otherwise; see
    `geo.analysis.hotspots.significance`. ``supported`` is false when the data are too few
    for any hot spot to be significant (a warning says so).
    """

    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    gi_bin: np.ndarray
    moments: Moments
    fdr: bool
    warnings: tuple[str, ...] = ()
    supported: bool = True

    def to_frame(self, grid: Grid, counts: np.ndarray | None = None) -> pd.DataFrame:
        """One row per scope cell: ``i``, ``j``, (``count``), ``z``, ``p``, ``p_fdr``, ``gi_bin``."""
        columns = {} if counts is None else {"count": counts}
        return grid_frame(grid, **columns, z=self.z, p=self.p, p_fdr=self.p_fdr, gi_bin=self.gi_bin)


def gistar(counts: np.ndarray, grid: Grid, band: float | None = None, fdr: bool = True) -> GiStar:
    """Gi* hot spots of a count grid.

    Parameters
    ----------
    counts : numpy.ndarray, shape (ni, nj)
        Occurrences per cell (`geo.analysis.hotspots.grid.count_points`); cells outside the
        scope are ignored whatever they hold.
    grid : Grid
        The block and its scope mask.
    band : float, optional
        Distance band in metres, centre to centre; default 1.5 x cell size (queen).
    fdr : bool
        Bins from Benjamini-Hochberg adjusted p-values (default) or raw ones.

    Examples
    --------
    >>> grid = Grid(0, 0, 6, 6, size=200)
    >>> counts = np.zeros((6, 6)); counts[0, 0] = counts[0, 1] = counts[1, 0] = 4; counts[5, 5] = 1
    >>> result = gistar(counts, grid)
    >>> result.z.round(2)[:2, :2]
    array([[4.98, 3.91],
           [3.91, 2.99]])
    >>> result.gi_bin[:3, :3]
    array([[3, 3, 0],
           [3, 3, 0],
           [0, 0, 0]], dtype=int8)
    >>> result.warnings, result.supported
    ((), True)

    One occurrence alone is no hot spot, whatever its z:

    >>> lone = np.zeros((6, 6)); lone[3, 3] = 1
    >>> result = gistar(lone, grid)
    >>> round(float(result.z[3, 3]), 2), int(result.gi_bin[3, 3]), result.supported
    (1.73, 0, False)
    >>> print(result.warnings[0])
    only 1 occurrence in 36 cells: even all in one place, no hot spot could be significant
    """
    return gistar_together({None: counts}, grid, band, fdr)[None]


def gistar_together(counts: Mapping[Hashable, np.ndarray], grid: Grid, band: float | None = None,
                    fdr: bool = True) -> dict[Hashable, GiStar]:
    """Gi* of several count grids on one grid (several categories apart), the FDR over all their tests together.

    Each grid has its own z, moments and exact p (its own N); the Benjamini-Hochberg
    procedure runs over the tests of all of them, so that a view testing nine categories
    apart keeps a false discovery rate of 5 %, not nine times that.

    Examples
    --------
    >>> grid = Grid(0, 0, 6, 6, size=200)
    >>> quiet = np.zeros((6, 6)); quiet[0, 0] = 1
    >>> busy = np.ones((6, 6)); busy[2:4, 2:4] = 9
    >>> results = gistar_together({"quiet": quiet, "busy": busy}, grid)
    >>> int(results["busy"].gi_bin[2, 2]), results["quiet"].supported
    (3, False)
    """
    kernel = band_kernel(DEFAULT_BAND_FACTOR * grid.size if band is None else band, grid.size)
    parts = {key: _window_z(values, grid.mask, kernel) for key, values in counts.items()}
    scoped = grid.mask
    tests = _family_tests([part[0][scoped] for part in parts.values()], next(iter(parts.values()))[1][scoped],
                          [part[2][scoped] for part in parts.values()], [part[3] for part in parts.values()],
                          all(_is_count(values, scoped) for values in counts.values()), int(kernel.sum()))
    results = {}
    for (key, (_, _, z, moments, notes)), (p_scoped, q_scoped, test_notes, supported) in zip(parts.items(), tests):
        p = np.full(z.shape, np.nan)
        q = np.full(z.shape, np.nan)
        p[scoped], q[scoped] = p_scoped, q_scoped
        results[key] = GiStar(z, p, q, gi_bin(z, q if fdr else p), moments, fdr,
                              notes + small_scope_warning(moments) + test_notes, supported)
    return results


def _family_tests(windows: list[np.ndarray], cells: np.ndarray, zs: list[np.ndarray], moments: list[Moments],
                  counts: bool, holding: int) -> list[tuple[np.ndarray, np.ndarray, tuple[str, ...], bool]]:
    """p, BH q (one family: every unit of every grid), warnings and support of each grid's Gi* tests.

    ``holding``: the most windows that can hold one given unit (the kernel's cells), the
    most that can share the best attainable p.
    """
    if not counts:
        p = two_sided_p(np.stack(zs))
        q = fdr_bh(p.ravel()).reshape(p.shape)
        return [(p[k], q[k], (NOT_COUNTS,), True) for k in range(len(zs))]
    totals = np.array([[int(m.total)] for m in moments])
    p, q = window_tests(np.rint(np.stack(windows)).astype(np.int64), cells[None], totals, moments[0].n)
    out = []
    for k, m in enumerate(moments):
        best = best_attainable_q(int(m.total), m.n, int(cells.max()), holding, p.size)
        if best <= SUPPORT_ALPHA:
            out.append((p[k], q[k], (), True))
        else:
            out.append((p[k], q[k], (f"only {_plural(m.total, 'occurrence')} in {_plural(m.n, 'cell')}: even all "
                                     "in one place, no hot spot could be significant",), False))
    return out


def gistar_z(values: np.ndarray, mask: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, Moments, tuple[str, ...]]:
    """Gi* z-scores on a grid (NaN outside the scope), by window sums: the fast path.

    Returns the z grid, the scope's moments and warnings (cells set to 0 as 0/0).

    Examples
    --------
    >>> z, moments, notes = gistar_z(np.array([[0, 1, 5, 9]]), np.array([[True, True, True, False]]), np.ones((3, 3), bool))
    >>> z.round(4), moments.n
    (array([[-1.3887,  0.    ,  0.9258,     nan]]), 3)
    >>> notes
    ('1 cell with the whole scope as neighbourhood: Gi* is 0/0 there and set to z = 0',)
    """
    _, _, z, moments, notes = _window_z(values, mask, kernel)
    return z, moments, notes


def _window_z(values, mask, kernel) -> tuple[np.ndarray, np.ndarray, np.ndarray, Moments, tuple[str, ...]]:
    """Window sums, window cell counts, z (NaN outside the scope), moments and warnings."""
    values = np.asarray(values)
    mask = np.asarray(mask, bool)
    if values.shape != mask.shape:
        raise HotspotInputError(f"the counts have shape {values.shape}, the scope mask {mask.shape}")
    x = values.astype(np.float64, order="C")  # C order: _standardise writes through ravel()
    np.copyto(x, 0.0, where=~mask)
    n = np.count_nonzero(mask)
    moments = scope_moments(x, n)
    counts = cardinality(mask, kernel)
    window = window_sum(x, kernel, out=x)
    z = window.copy()
    _standardise(z, counts, int(kernel.sum()), moments)
    np.copyto(z, np.nan, where=~mask)
    whole = np.count_nonzero(mask & (counts == n)) if n <= kernel.sum() else 0
    return window, counts, z, moments, _degenerate_note(whole)


def _is_count(values, mask) -> bool:
    """Whether the scope's values are non-negative integers (occurrence counts)."""
    scoped = np.asarray(values)[np.asarray(mask, bool)] if np.ndim(mask) else np.asarray(values)
    return bool(np.all(scoped >= 0) and np.all(np.mod(scoped, 1) == 0))


def _standardise(z: np.ndarray, counts: np.ndarray, full: int, moments: Moments) -> None:
    """z <- (z - X̄ W) * scale(W) in place, W the neighbour count of each cell.

    Most cells have the full neighbourhood: they take scalar operations, and only the
    cells near an edge of the block or of the scope are looked up per cell.
    """
    scale = z_scale(np.arange(full + 1), moments)
    edge = np.flatnonzero(counts != full)
    edge_counts = counts.ravel()[edge]
    edge_z = (z.ravel()[edge] - moments.mean * edge_counts) * scale[edge_counts]
    z -= moments.mean * full
    z *= scale[full]
    z.ravel()[edge] = edge_z


def gistar_sparse(values, weights, fdr: bool = True) -> GiStar:
    """Gi* of irregular units (communes, sectors) with a sparse weights matrix.

    Parameters
    ----------
    values : array_like, shape (n,)
        Value of each unit (occurrences, usually).
    weights : scipy.sparse matrix or array_like, shape (n, n)
        Contiguity or distance-band weights, row i listing the neighbours of unit i. Any
        non-zero weight counts as 1 (binary weights) and the diagonal is set to 1
        (Gi* includes the unit itself), as esda's ``transform="B", star=True``.

    Examples
    --------
    >>> chain = sparse.diags([1.0, 1.0], [-1, 1], shape=(4, 4))       # 0 - 1 - 2 - 3
    >>> gistar_sparse([0, 1, 5, 9], chain).z.round(4)
    array([-1.5804, -1.4739,  1.0528,  1.5804])
    """
    x = np.asarray(values, float).ravel()
    w = binary_star_weights(weights, x.size)
    moments = scope_moments(x, x.size)
    w1 = np.asarray(w.sum(axis=1)).ravel()
    scale = z_scale(w1, moments)
    z = (w @ x - moments.mean * w1) * scale
    notes = _degenerate_note(int(np.count_nonzero(w1 == moments.n)))
    holding = int(np.asarray(w.sum(axis=0)).max())
    [(p, q, test_notes, supported)] = _family_tests([w @ x], w1.astype(np.int64), [z], [moments], _is_count(x, True),
                                                    holding)
    return GiStar(z, p, q, gi_bin(z, q if fdr else p), moments, fdr,
                  notes + small_scope_warning(moments) + test_notes, supported)


def binary_star_weights(weights, n: int) -> sparse.csr_matrix:
    """Binary CSR weights with a unit diagonal, checked against the number of units."""
    w = sparse.csr_matrix(weights, dtype=float)
    if w.shape != (n, n):
        raise HotspotInputError(f"the weights are {w.shape[0]} x {w.shape[1]} for {n} units")
    w.eliminate_zeros()
    w.data[:] = 1.0
    w = (w + sparse.identity(n, format="csr")).tocsr()
    w.data[:] = 1.0
    return w


def scope_moments(x: np.ndarray, n: int) -> Moments:
    """n, total, mean and population standard deviation, raising on undefined Gi*.

    ``x`` holds the scope's values (zeros elsewhere). Integer counts are summed
    exactly, so that "every cell equal" is detected exactly.

    Examples
    --------
    >>> scope_moments(np.array([2.0, 2.0, 2.0]), 3)
    Traceback (most recent call last):
    ...
    geo.analysis.hotspots.errors.HotspotInputError: every cell has the same count (2): Gi* is undefined when the counts do not vary
    """
    if n == 0:
        raise HotspotInputError("no cell of the grid lies in the study area: the scope is empty")
    flat = x.ravel()
    total, squares = float(flat.sum()), float(np.dot(flat, flat))
    if not np.isfinite(squares):
        raise HotspotInputError("every count in the scope must be a finite number (no NaN or infinity)")
    if total == 0 and squares == 0:
        raise HotspotInputError("no occurrence falls in the study area: Gi* needs at least one")
    mean, variance = mean_variance(total, squares, n)
    if variance <= 1e-12 * mean * mean:
        raise HotspotInputError(
            f"every cell has the same count ({mean:g}): Gi* is undefined when the counts do not vary")
    return Moments(int(n), total, mean, float(np.sqrt(variance)))


def z_scale(weight_sum: np.ndarray, moments: Moments) -> np.ndarray:
    """``1 / (S sqrt((n W - W²) / (n - 1)))`` for binary weights (W = sum of weights).

    0 where the neighbourhood holds the whole scope (``n W = W²``): Gi* is 0/0 there.
    """
    n = moments.n
    w = np.asarray(weight_sum, float)
    spread = (n * w - w * w) / (n - 1)
    scale = np.zeros_like(w)
    np.divide(1.0, moments.std * np.sqrt(spread, where=spread > 0, out=np.zeros_like(w)),
              where=spread > 0, out=scale)
    return scale


def small_scope_warning(moments: Moments) -> tuple[str, ...]:
    """A warning for a scope of fewer than 30 units (ArcGIS's rule of thumb for Gi*)."""
    if moments.n < MIN_RELIABLE:
        return (f"only {moments.n} cells in the scope: Gi* is unreliable on fewer than {MIN_RELIABLE} units",)
    return ()


def mean_variance(total: float, squares: float, n: int) -> tuple[float, float]:
    """Mean and population variance from the sum and the sum of squares of n values.

    Integer sums (counts) are combined exactly, so a zero variance is exactly zero.

    >>> mean_variance(6.0, 14.0, 3)
    (2.0, 0.6666666666666666)
    """
    if total.is_integer() and squares.is_integer() and squares < 2**53:
        return total / n, (n * int(squares) - int(total) ** 2) / n**2
    mean = total / n
    return mean, max(squares / n - mean * mean, 0.0)


def _degenerate_note(cells: int) -> tuple[str, ...]:
    if not cells:
        return ()
    return (f"{_plural(cells, 'cell')} with the whole scope as neighbourhood: Gi* is 0/0 there and set to z = 0",)


def _plural(number: float, noun: str) -> str:
    return f"{number:g} {noun}{'' if number == 1 else 's'}"
