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

from geo.hotspots.errors import HotspotInputError
from geo.hotspots.significance import two_sided_p

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
    s = mk_score(x)
    var_s = (n * (n - 1) * (2 * n + 5) - tie_sum(x)) / 18.0
    root = np.sqrt(var_s)
    z = np.zeros(m)
    np.divide(s - np.sign(s), root, out=z, where=s != 0)
    h = np.abs(z) > ndtri(1 - alpha / 2)
    trend = (np.sign(z) * h).astype(np.int8)
    slope, intercept = sens_slope(x) if sen else (None, None)
    return MannKendall(s, var_s, z, two_sided_p(z), trend, s / (0.5 * n * (n - 1)), slope, intercept)


def mk_score(x: np.ndarray) -> np.ndarray:
    """S of each row: pairs that increase minus pairs that decrease (int64)."""
    s = np.zeros(x.shape[0], np.int64)
    for lag in range(1, x.shape[1]):
        later, earlier = x[:, lag:], x[:, :-lag]
        s += np.count_nonzero(later > earlier, axis=1)
        s -= np.count_nonzero(later < earlier, axis=1)
    return s


def tie_sum(x: np.ndarray) -> np.ndarray:
    """Sum over the tie groups of each row of t(t-1)(2t+5), exactly (int64)."""
    m, n = x.shape
    ordered = np.sort(x, axis=1)
    starts = np.ones((m, n), bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
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
