"""Mann-Kendall trend test, vectorised over many series (one per row).

The same test as ``pymannkendall.original_test`` (Mann 1945, Kendall 1975, Gilbert
1987), for a whole space-time cube at once:

- ``S = sum over i < j of sign(x_j - x_i)``;
- ``var(S) = (n(n-1)(2n+5) - sum over tie groups of t(t-1)(2t+5)) / 18``;
- ``z = (S - 1) / sqrt(var S)`` if S > 0, ``(S + 1) / sqrt(var S)`` if S < 0, 0 if
  S = 0 (continuity correction);
- two-sided ``p = 2 (1 - Phi(|z|))``; a trend when ``|z| > Phi^-1(1 - alpha / 2)``;
- optionally Sen's slope (median of the pairwise slopes) and the Conover intercept.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import ndtri

from geo.analysis.hotspots.errors import HotspotInputError
from geo.analysis.hotspots.significance import two_sided_p

TREND_LABELS = {1: "increasing", 0: "no trend", -1: "decreasing"}
# Pairwise slopes of this many values are held in memory at once for Sen's slope.
_SEN_CHUNK_VALUES = 4_000_000


@dataclasses.dataclass(frozen=True, eq=False)
class MannKendall:
    """Per-series results; ``trend`` is +1 (increasing), -1 (decreasing) or 0 (no trend)."""

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    trend: np.ndarray
    tau: np.ndarray
    slope: np.ndarray | None = None
    intercept: np.ndarray | None = None

    def labels(self) -> np.ndarray:
        """Trends as pymannkendall names them: 'increasing', 'decreasing', 'no trend'."""
        return np.array([TREND_LABELS[t] for t in (-1, 0, 1)])[self.trend + 1]


def mann_kendall(series, alpha: float = 0.05, sen: bool = False) -> MannKendall:
    """Mann-Kendall test of each row of ``series`` (shape (m, n), n time steps).

    Examples
    --------
    >>> result = mann_kendall([[1, 2, 3, 4, 5, 6], [3, 1, 3, 1, 3, 1], [6, 5, 5, 3, 2, 1]], sen=True)
    >>> result.s.tolist(), result.labels().tolist()
    ([15, -3, -14], ['increasing', 'no trend', 'decreasing'])
    >>> result.slope.tolist()
    [1.0, 0.0, -1.0]
    """
    x = _series(series)
    m, n = x.shape
    ranks, starts = dense_ranks(x)
    s = mk_score(ranks)
    var_s = (n * (n - 1) * (2 * n + 5) - tie_sum(starts)) / 18.0
    root = np.sqrt(var_s)
    z = np.zeros(m)
    np.divide(s - np.sign(s), root, out=z, where=s != 0)
    h = np.abs(z) > ndtri(1 - alpha / 2)
    trend = (np.sign(z) * h).astype(np.int8)
    slope, intercept = sens_slope(x) if sen else (None, None)
    return MannKendall(s, var_s, z, two_sided_p(z), trend, s / (0.5 * n * (n - 1)), slope, intercept)


def dense_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ranks of each row (ties share a rank), and where tie groups start in sorted order.

    Ranks keep every comparison of the values and fit in one or two bytes, so that the
    O(n²) pair comparisons of S move eight times less memory than the float values.
    """
    order = np.argsort(x, axis=1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=1)
    starts = np.ones(x.shape, bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    dtype = np.int8 if x.shape[1] < 128 else np.int16 if x.shape[1] < 32768 else np.int32
    ranks = np.empty(x.shape, dtype)
    np.put_along_axis(ranks, order, np.cumsum(starts, axis=1, dtype=dtype), axis=1)
    return ranks, starts


def mk_score(x: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """S of each row: pairs that increase minus pairs that decrease (int64).

    Rows are taken a chunk at a time so that each lag's arrays stay in the CPU cache.
    """
    s = np.empty(x.shape[0], np.int64)
    for start in range(0, x.shape[0], chunk):
        rows = x[start:start + chunk]
        total = np.zeros(rows.shape[0], np.int64)
        for lag in range(1, x.shape[1]):
            total += np.sign(rows[:, lag:] - rows[:, :-lag]).sum(axis=1, dtype=np.int64)
        s[start:start + chunk] = total
    return s


def tie_sum(starts: np.ndarray) -> np.ndarray:
    """Sum over the tie groups of each row of t(t-1)(2t+5), exactly (int64).

    ``starts`` marks, in each row's sorted order, the first value of each tie group.
    """
    m, n = starts.shape
    first = np.flatnonzero(starts)
    sizes = np.diff(np.append(first, m * n))
    return np.bincount(first // n, weights=sizes * (sizes - 1) * (2 * sizes + 5), minlength=m).astype(np.int64)


def sens_slope(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sen's slope (median pairwise slope) and Conover's intercept of each row."""
    m, n = x.shape
    i, j = np.triu_indices(n, k=1)
    run = (j - i).astype(float)
    slope = np.empty(m)
    chunk = max(1, _SEN_CHUNK_VALUES // i.size)
    for start in range(0, m, chunk):
        rows = x[start:start + chunk]
        slope[start:start + chunk] = np.median((rows[:, j] - rows[:, i]) / run, axis=1)
    return slope, np.median(x, axis=1) - (n - 1) / 2 * slope


def _series(series) -> np.ndarray:
    x = np.asarray(series, float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] < 3:
        raise HotspotInputError("the Mann-Kendall test needs series of at least 3 time steps, one per row")
    if not np.isfinite(x).all():
        raise HotspotInputError("every value of a Mann-Kendall series must be a finite number (no NaN)")
    return x
