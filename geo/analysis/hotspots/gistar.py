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

Small data: with a single occurrence S > 0, so Gi* is defined and computed; but the
normal approximation behind its p-values needs far more data, and one occurrence in a
large scope comes out as a very "significant" hot spot. The result then carries a
warning, for the caller to show next to the map: below 30 cells (ArcGIS's rule of thumb
for Hot Spot Analysis: at least 30 features), and below 30 occurrences (the same
threshold, our choice).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import sparse

from geo.analysis.hotspots.errors import HotspotInputError
from geo.analysis.hotspots.grid import Grid, grid_frame
from geo.analysis.hotspots.neighbourhood import band_kernel, cardinality, window_sum
from geo.analysis.hotspots.significance import fdr_bh, gi_bin, two_sided_p

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

    ``gi_bin`` is read from ``p_fdr`` when ``fdr`` is true (the default), from ``p``
    otherwise; see `geo.analysis.hotspots.significance`.
    """

    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    gi_bin: np.ndarray
    moments: Moments
    fdr: bool
    warnings: tuple[str, ...] = ()

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
    >>> grid = Grid(0, 0, 5, 5, size=200)
    >>> counts = np.zeros((5, 5)); counts[0, 0] = counts[0, 1] = counts[1, 0] = 4; counts[4, 4] = 1
    >>> result = gistar(counts, grid)
    >>> result.z.round(2)[:2, :2]
    array([[4.08, 3.13],
           [3.13, 2.3 ]])
    >>> result.gi_bin[:2, :2]
    array([[3, 2],
           [2, 0]], dtype=int8)
    >>> for note in result.warnings:
    ...     print(note)
    only 25 cells in the scope: Gi* is unreliable on fewer than 30 units
    only 13 occurrences in the scope: the normal p-values of Gi* need far more, and a hot spot may be a single occurrence
    """
    kernel = band_kernel(DEFAULT_BAND_FACTOR * grid.size if band is None else band, grid.size)
    z, moments, notes = gistar_z(counts, grid.mask, kernel)
    p = np.full(z.shape, np.nan)
    q = np.full(z.shape, np.nan)
    p[grid.mask] = two_sided_p(z[grid.mask])
    q[grid.mask] = fdr_bh(p[grid.mask])
    return GiStar(z, p, q, gi_bin(z, q if fdr else p), moments, fdr, notes + small_data_warnings(moments))


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
    values = np.asarray(values)
    mask = np.asarray(mask, bool)
    if values.shape != mask.shape:
        raise HotspotInputError(f"the counts have shape {values.shape}, the scope mask {mask.shape}")
    x = values.astype(np.float64, order="C")  # C order: _standardise writes through ravel()
    np.copyto(x, 0.0, where=~mask)
    n = np.count_nonzero(mask)
    moments = scope_moments(x, n)
    counts = cardinality(mask, kernel)
    z = window_sum(x, kernel, out=x)
    _standardise(z, counts, int(kernel.sum()), moments)
    np.copyto(z, np.nan, where=~mask)
    whole = np.count_nonzero(mask & (counts == n)) if n <= kernel.sum() else 0
    return z, moments, _degenerate_note(whole)


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
    p = two_sided_p(z)
    q = fdr_bh(p)
    return GiStar(z, p, q, gi_bin(z, q if fdr else p), moments, fdr, notes + small_data_warnings(moments))


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


def small_data_warnings(moments: Moments) -> tuple[str, ...]:
    """Warnings for results that are computed but rest on too little data."""
    notes = []
    if moments.n < MIN_RELIABLE:
        notes.append(f"only {moments.n} cells in the scope: Gi* is unreliable on fewer than {MIN_RELIABLE} units")
    if moments.total < MIN_RELIABLE:
        notes.append(
            f"only {_plural(moments.total, 'occurrence')} in the scope: the normal p-values of Gi* need far more,"
            " and a hot spot may be a single occurrence")
    return tuple(notes)


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
