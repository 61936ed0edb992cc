"""Emerging hot spot analysis of a space-time cube of counts (DESIGN.md section 5).

1. Space-time Gi* per cell and step: the neighbours of cell c at step t are its spatial
   neighbours (itself included, within the band, in the scope) at steps
   ``max(0, t - k) .. t``; X̄, S and n are those of all the scope's cells over the same
   steps. So at step t the weight sum of a cell is ``(steps in the window) x (its
   spatial neighbour count)`` and ``n = (steps in the window) x (scope cells)``.
2. p-values two-sided and exact (`geo.analysis.hotspots.significance.window_tests`): given
   the N occurrences of the step's window (all scope cells over the same steps), a cell's
   space-time window count is Binomial(N, m / n) under complete spatial randomness, the
   normal approximation of z being far from the truth on the sparse counts of a week
   (measured on noise: the approximation labelled a cell in 45 to 85 % of analyses at
   0.02 to 0.1 occurrences per cell-week). Benjamini-Hochberg FDR per step, over the scope's
   cells, and over the cells of every cube analysed together (several categories apart in
   one view: :func:`emerging_hotspots_together`). A bin is significant when its
   FDR-adjusted p is at most ``alpha``: 0.05 by default, not Esri's 0.10, so that on data
   with no pattern at most 5 % of analyses label any cell (bench/calibration.py);
   sig hot = significant and z > 0, sig cold = significant and z < 0 (z > 0 exactly when
   the window holds more than N m / n).
3. Mann-Kendall trend (alpha 0.05) of each cell's z series.
4. Categories by the rules and precedence of `geo.analysis.hotspots.patterns`.

A step whose window has the same count in every cell (typically no occurrence at all
yet) has no defined Gi*: its z is set to 0 (not significant) and the result's
``warnings`` name those steps; if that is every step, the analysis raises. Where no step
holds enough occurrences for any cell to be significant, even all in one place,
``supported`` is false and a warning says so.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

from geo.analysis.hotspots.errors import HotspotInputError
from geo.analysis.hotspots.gistar import DEFAULT_BAND_FACTOR, _degenerate_note, _is_count, _plural, mean_variance
from geo.analysis.hotspots.grid import Grid, grid_frame
from geo.analysis.hotspots.mann_kendall import MannKendall, mann_kendall
from geo.analysis.hotspots.neighbourhood import band_kernel, cardinality, window_sum
from geo.analysis.hotspots.patterns import CATEGORIES, classify
from geo.analysis.hotspots.significance import (
    NOT_COUNTS,
    SUPPORT_ALPHA,
    best_attainable_q,
    fdr_bh,
    two_sided_p,
    window_tests,
)

MIN_STEPS = 10
DEFAULT_ALPHA = SUPPORT_ALPHA
TREND_ALPHA = 0.05


@dataclasses.dataclass(frozen=True, eq=False)
class Emerging:
    """Results of an emerging hot spot analysis.

    ``z``, ``p`` and ``p_fdr`` have shape (steps, ni, nj), NaN outside the scope; ``hot``
    and ``cold`` (steps, ni, nj) booleans; ``category`` (ni, nj) codes into `CATEGORIES`,
    -1 outside the scope; ``trend`` the Mann-Kendall test of each scope cell's z series
    (in the order of ``Grid.ids``); ``supported`` false when no step holds enough
    occurrences for any cell to be significant.
    """

    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    trend: MannKendall
    category: np.ndarray
    warnings: tuple[str, ...] = ()
    supported: bool = True

    def to_frame(self, grid: Grid) -> pd.DataFrame:
        """One row per scope cell: ids, category name, trend, steps sig hot / cold, final z."""
        names = np.array(CATEGORIES + ("outside the scope",))
        return grid_frame(
            grid, category=names[self.category], hot_steps=self.hot.sum(axis=0), cold_steps=self.cold.sum(axis=0),
            final_z=self.z[-1],
        ).assign(trend_z=self.trend.z, trend_p=self.trend.p, trend=self.trend.labels())


def emerging_hotspots(cube: np.ndarray, grid: Grid, band: float | None = None, k: int = 1,
                      alpha: float = DEFAULT_ALPHA, trend_alpha: float = TREND_ALPHA) -> Emerging:
    """Emerging hot spot categories of every scope cell.

    Parameters
    ----------
    cube : numpy.ndarray, shape (steps, ni, nj)
        Counts per time step (oldest first) and cell, at least 10 steps.
    grid : Grid
    band : float, optional
        Spatial distance band in metres; default 1.5 x size (queen).
    k : int
        Number of earlier steps in the neighbourhood (default 1).
    alpha, trend_alpha : float
        FDR level of a significant bin (0.10) and of the Mann-Kendall trend (0.05).

    Examples
    --------
    >>> grid = Grid(0, 0, 9, 9, size=200)
    >>> cube = np.ones((12, 9, 9)); cube[:, 0, 0] = 0
    >>> cube[-3:, 3:6, 3:6] = 8          # a cluster appears in the last three weeks
    >>> result = emerging_hotspots(cube, grid)
    >>> CATEGORIES[result.category[4, 4]]
    'consecutive hot spot'
    """
    return emerging_hotspots_together({None: cube}, grid, band, k, alpha, trend_alpha)[None]


def emerging_hotspots_together(cubes: Mapping[Hashable, np.ndarray], grid: Grid, band: float | None = None,
                               k: int = 1, alpha: float = DEFAULT_ALPHA,
                               trend_alpha: float = TREND_ALPHA) -> dict[Hashable, Emerging]:
    """Emerging hot spots of several cubes on one grid (several categories apart), FDR over all of them.

    One view that tests several categories apart makes as many tests per step as
    categories times cells: the Benjamini-Hochberg procedure of each step runs over all
    of them together, so that the view's false discovery rate is ``alpha``, not that of
    each category. Each cube gets its own z, moments and exact p (its own N).

    Examples
    --------
    >>> grid = Grid(0, 0, 9, 9, size=200)
    >>> quiet = np.zeros((12, 9, 9)); quiet[:, 0, 0] = 1
    >>> busy = np.ones((12, 9, 9)); busy[-3:, 3:6, 3:6] = 8
    >>> results = emerging_hotspots_together({"a": quiet, "b": busy}, grid)
    >>> CATEGORIES[results["b"].category[4, 4]], results["a"].supported
    ('consecutive hot spot', False)
    >>> print(results["a"].warnings[0])
    at most 2 occurrences in a step's window: even all in one place, no cell could be significant
    """
    kernel = band_kernel(DEFAULT_BAND_FACTOR * grid.size if band is None else band, grid.size)
    tests = {key: space_time_tests(cube, grid, kernel, k) for key, cube in cubes.items()}
    p, q = _joint_p(tests, grid.mask)
    results = {}
    for index, (key, test) in enumerate(tests.items()):
        scoped, q_scoped = test.z[:, grid.mask], q[index]
        sig = q_scoped <= alpha
        hot, cold = sig & (scoped > 0), sig & (scoped < 0)
        trend = mann_kendall(scoped.T, alpha=trend_alpha)
        support = _support(test, grid, int(kernel.sum()), q.shape[0] * q.shape[2], alpha)
        results[key] = Emerging(
            test.z, _to_grid(p[index], grid, np.nan), _to_grid(q_scoped, grid, np.nan), _to_grid(hot, grid, False),
            _to_grid(cold, grid, False), trend, _category_grid(classify(hot.T, cold.T, trend.trend), grid),
            test.notes + support[1], support[0])
    return results


@dataclasses.dataclass(frozen=True, eq=False)
class SpaceTimeTests:
    """What the tests of one cube need: z, window counts and cells, N and n per step, whether counts."""

    z: np.ndarray
    window: np.ndarray
    cells: np.ndarray
    totals: np.ndarray
    n: np.ndarray
    counts: bool
    notes: tuple[str, ...]


def space_time_tests(cube: np.ndarray, grid: Grid, kernel: np.ndarray, k: int) -> SpaceTimeTests:
    """z of every cell and step, with the window counts, window cells, N and n of the exact test."""
    _check_cube(cube, grid, k)
    z, notes = space_time_z(cube, grid.mask, kernel, k)
    x = np.where(grid.mask, cube, 0.0)
    steps = np.minimum(np.arange(x.shape[0]), k) + 1
    window = _trailing_sum(window_sum(x, kernel), k)
    cells = steps[:, None, None] * cardinality(grid.mask, kernel)
    totals = _trailing_sum(x.sum(axis=(1, 2)), k)
    return SpaceTimeTests(z, window, cells, totals, steps * grid.n_cells, _is_count(cube, np.broadcast_to(
        grid.mask, np.shape(cube))), notes)


def _joint_p(tests: dict, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p and q of every cube, step and scope cell, shape (cubes, steps, cells): BH per step over all cubes."""
    stacked = list(tests.values())
    if all(t.counts for t in stacked):
        window = np.stack([np.rint(t.window[:, mask]).astype(np.int64) for t in stacked])
        cells = stacked[0].cells[:, mask][None]
        totals = np.stack([np.rint(t.totals).astype(np.int64) for t in stacked])[:, :, None]
        steps = np.arange(window.shape[1])[None, :, None]
        return window_tests(window, cells, totals, stacked[0].n[None, :, None], family=steps)
    z = np.stack([t.z[:, mask] for t in stacked])
    p = two_sided_p(z)
    flat = np.moveaxis(p, 0, 1).reshape(p.shape[1], -1)  # (steps, cubes x cells): one BH family per step
    q = np.moveaxis(fdr_bh(flat, axis=1).reshape(p.shape[1], p.shape[0], p.shape[2]), 1, 0)
    return p, q


def _support(test: SpaceTimeTests, grid: Grid, holding: int, tests: int, alpha: float) -> tuple[bool, tuple[str, ...]]:
    """Whether any step could make a cell significant, even with all its occurrences in one place."""
    if not test.counts:
        return True, (NOT_COUNTS,)
    full = test.cells[:, grid.mask].max(axis=1)
    best = [best_attainable_q(int(round(n_t)), int(cells), int(m), holding, tests)
            for n_t, cells, m in zip(test.totals, test.n, full)]
    if min(best) <= alpha:
        return True, ()
    total = int(round(test.totals.max()))
    return False, (f"at most {_plural(total, 'occurrence')} in a step's window: even all in one place, no cell "
                   "could be significant",)


def space_time_z(cube: np.ndarray, mask: np.ndarray, kernel: np.ndarray, k: int = 1) -> tuple[np.ndarray, tuple[str, ...]]:
    """Space-time Gi* z of every cell and step (NaN outside the scope), and warnings."""
    x = np.where(mask, cube, 0.0)
    counts = cardinality(mask, kernel).astype(float)
    steps = np.minimum(np.arange(x.shape[0]), k) + 1
    wx = _trailing_sum(window_sum(x, kernel), k)
    totals = _trailing_sum(x.sum(axis=(1, 2)), k)
    squares = _trailing_sum(np.einsum("tij,tij->t", x, x), k)
    n = steps * np.count_nonzero(mask)
    mean, std = _step_moments(totals, squares, n)
    undefined = std == 0
    _check_defined(undefined, totals, mean)
    weights = steps[:, None, None] * counts
    spread = (n[:, None, None] * weights - weights**2) / (n[:, None, None] - 1)
    denominator = std[:, None, None] * np.sqrt(spread)
    z = np.zeros_like(wx)
    np.divide(wx - mean[:, None, None] * weights, denominator, out=z, where=denominator > 0)
    z[:, ~mask] = np.nan
    whole = np.count_nonzero(mask & (counts == n[0])) if n[0] <= kernel.sum() else 0
    return z, _undefined_note(undefined) + _degenerate_note(whole)


def _trailing_sum(values: np.ndarray, k: int) -> np.ndarray:
    """Sum over steps max(0, t - k) .. t along axis 0 (exact for integer counts)."""
    total = np.cumsum(values, axis=0)
    total[k + 1:] -= total[:-k - 1].copy()
    return total


def _step_moments(totals: np.ndarray, squares: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [mean_variance(float(t), float(s), int(m)) for t, s, m in zip(totals, squares, n)]
    mean = np.array([p[0] for p in pairs])
    variance = np.array([p[1] for p in pairs])
    return mean, np.where(variance > 1e-12 * mean**2, np.sqrt(variance), 0.0)


def _check_cube(cube: np.ndarray, grid: Grid, k: int) -> int:
    cube = np.asarray(cube)
    if cube.ndim != 3 or cube.shape[1:] != grid.shape:
        raise HotspotInputError(f"the cube has shape {cube.shape}, expected (steps, {grid.ni}, {grid.nj})")
    if cube.shape[0] < MIN_STEPS:
        raise HotspotInputError(
            f"emerging hot spot analysis needs at least {MIN_STEPS} time steps, the cube has {cube.shape[0]}")
    if not 0 <= k < cube.shape[0]:
        raise HotspotInputError(f"k (earlier steps in the neighbourhood) must be between 0 and {cube.shape[0] - 1}")
    if grid.n_cells == 0:
        raise HotspotInputError("no cell of the grid lies in the study area: the scope is empty")
    if not np.isfinite(cube[:, grid.mask]).all():
        raise HotspotInputError("every count in the scope must be a finite number (no NaN or infinity)")
    return cube.shape[0]


def _check_defined(undefined: np.ndarray, totals: np.ndarray, mean: np.ndarray) -> None:
    if not undefined.all():
        return
    if not totals.any():
        raise HotspotInputError("no occurrence falls in the study area during the period: Gi* needs at least one")
    raise HotspotInputError(
        f"every cell has the same count ({mean[-1]:g}) in every time step: Gi* is undefined when the counts do not vary")


def _undefined_note(undefined: np.ndarray) -> tuple[str, ...]:
    if not undefined.any():
        return ()
    steps = ", ".join(str(s) for s in np.flatnonzero(undefined))
    return (f"steps {steps}: every cell has the same count in the window, Gi* is undefined and set to z = 0",)


def _to_grid(scoped: np.ndarray, grid: Grid, fill) -> np.ndarray:
    out = np.full((scoped.shape[0], *grid.shape), fill, dtype=scoped.dtype)
    out[:, grid.mask] = scoped
    return out


def _category_grid(codes: np.ndarray, grid: Grid) -> np.ndarray:
    out = np.full(grid.shape, -1, np.int8)
    out[grid.mask] = codes
    return out
