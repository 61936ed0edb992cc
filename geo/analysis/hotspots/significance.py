"""Exact tests of window counts, Benjamini-Hochberg FDR, and ArcGIS-style confidence bins.

The p-values of Gi* and of the emerging analysis are those of :func:`window_tests`: the
exact conditional test of a window count under complete spatial randomness (binomial,
given the scope's total), valid on sparse counts where the normal approximation of z is
far from the truth (`geo.analysis.hotspots.gistar` says why this test). The normal
``two_sided_p`` remains for values that are not counts, and for the calibration
benchmark's "before".

Classes follow ArcGIS's ``Gi_Bin``: +3/-3, +2/-2, +1/-1 for hot/cold spots at 99, 95
and 90 % confidence, 0 otherwise. The confidence of a cell is read from its p-value,
``p <= 0.01``, ``0.05``, ``0.10`` (inclusive), rather than from rounded z thresholds
(2.58, 1.96, 1.65), so the classes are exact at the boundaries. With FDR (the default
of the analyses, as in ArcGIS's Hot Spot Analysis with the FDR correction on) the
p-value used is the Benjamini-Hochberg adjusted one: a cell is in bin 3 exactly when
the BH procedure at level 0.01 rejects it, and so on. A cell is *significant* at 95 %
(bins ±2 and ±3, ``SUPPORT_ALPHA``): on data with no pattern, at most 5 % of analyses show
one (bench/calibration.py); the 90 % bins are kept for exports, as ArcGIS's, and are not
drawn as hot spots.
"""

from __future__ import annotations

import numpy as np
from scipy.special import bdtr, bdtrc, ndtr

CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))
#: The FDR level of "significant", and of whether the data can support any finding at all.
SUPPORT_ALPHA = 0.05
#: The warning of values that the exact test cannot take.
NOT_COUNTS = "the values are not counts (non-negative integers): the p-values are the normal approximation's"


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided p-value of standard normal z-scores, accurate in the tails.

    Examples
    --------
    >>> two_sided_p(np.array([0.0, 1.959963984540054, -10.0])).round(6)
    array([1.  , 0.05, 0.  ])
    """
    return 2.0 * ndtr(-np.abs(z))


def fdr_bh(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) along an axis.

    ``q_(k) = min over l >= k of (m / l) p_(l)``, capped at 1, for the p-values sorted
    in increasing order; the hypotheses rejected at FDR level ``alpha`` are exactly
    those with ``q <= alpha`` (the same as statsmodels' ``multipletests(p,
    method="fdr_bh")``). Each slice along ``axis`` is one family of tests.

    Examples
    --------
    >>> fdr_bh(np.array([0.01, 0.04, 0.03, 0.20]))
    array([0.04      , 0.05333333, 0.05333333, 0.2       ])
    """
    p = np.moveaxis(np.asarray(p, float), axis, -1)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1)  # ties get the same q whatever their order
    ranked = np.take_along_axis(p, order, axis=-1) * (m / np.arange(1, m + 1))
    ranked = np.minimum.accumulate(ranked[..., ::-1], axis=-1)[..., ::-1]
    q = np.empty_like(ranked)
    np.put_along_axis(q, order, np.minimum(ranked, 1.0), axis=-1)
    return np.moveaxis(q, -1, axis)


def gi_bin(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Confidence bin of each cell: sign of z times 3, 2, 1 at 99, 95, 90 %, else 0.

    ``p`` is the p-value to test (FDR-adjusted or not, the caller's choice); NaN gives 0.

    Examples
    --------
    >>> gi_bin(np.array([3.0, -2.0, 1.7, 1.0, 2.0]), np.array([0.01, 0.05, 0.10, 0.100001, np.nan]))
    array([ 3, -2,  1,  0,  0], dtype=int8)
    """
    level = np.zeros(np.shape(p), np.int8)
    for value, alpha in reversed(CONFIDENCE_LEVELS):
        level[p <= alpha] = value
    return np.where(z > 0, level, np.where(z < 0, -level, 0)).astype(np.int8)


# -- the exact test of window counts -------------------------------------------------------


def window_tests(window, cells, total, scope_cells, family=0) -> tuple[np.ndarray, np.ndarray]:
    """Exact two-sided p-values of window counts under complete spatial randomness, and their BH q-values.

    Under complete spatial randomness, given the total N of occurrences in the n cells of
    a scope, each occurrence falls in any cell with probability 1/n, independently of the
    others: the count W of a window of m cells is exactly Binomial(N, m / n), however
    sparse the data. The p-value is ``min(1, 2 min(P(W >= w), P(W <= w)))``; the q-value
    is the Benjamini-Hochberg adjusted p within each family of tests (``family``).

    Counts are small integers, so a grid of 100,000 cells holds a few hundred distinct
    cases (w, m, N, n): each tail is computed once per case, and the BH procedure runs
    on the cases, each weighted by how many tests share it (ties are one case).

    Parameters
    ----------
    window, cells : array_like of int, one shape
        The count of each window and the number of scope cells it covers.
    total, scope_cells : int or array_like of int, broadcastable to that shape
        N and n, for example one per time step (shape (steps, 1)).
    family : int or array_like of int, broadcastable
        The BH family of each test (0: one family for all).

    Examples
    --------
    One occurrence in a scope of 100 cells: its window of 9 cells holds it, which
    happens with probability 9 %, nothing like the z of 5 the normal approximation gives.

    >>> p, q = window_tests(np.array([1, 0]), np.array([9, 9]), 1, 100)
    >>> p.round(3), q.round(3)
    (array([0.18, 1.  ]), array([0.36, 1.  ]))

    Twenty occurrences, twelve of them in one window (1.8 expected), two in another, none
    in a corner window of 4 cells (0.8 expected):

    >>> p, q = window_tests(np.array([12, 2, 0]), np.array([9, 9, 4]), 20, 100)
    >>> bool(p[0] < 1e-7), p[1:].round(3)
    (True, array([1.   , 0.884]))
    """
    window = np.asarray(window, np.int64)
    cells = np.broadcast_to(np.asarray(cells, np.int64), window.shape)
    small = np.broadcast_arrays(*(np.asarray(a, np.int64) for a in (family, total, scope_cells)))
    groups, group = np.unique(np.stack([a.ravel() for a in small], axis=1), axis=0, return_inverse=True)
    group = np.broadcast_to(group.reshape(small[0].shape), window.shape)
    w_span, m_span = int(window.max(initial=0)) + 1, int(cells.max(initial=0)) + 1
    key = ((group * m_span + cells) * w_span + window).ravel()
    cases, inverse, counts = _distinct(key, len(groups) * m_span * w_span)
    w, m, g = cases % w_span, cases // w_span % m_span, cases // (w_span * m_span)
    fam, n_total, n_cells = groups[g, 0], groups[g, 1], groups[g, 2]
    share = np.divide(m, n_cells, out=np.zeros(len(m)), where=n_cells > 0)
    upper = np.where(w > 0, bdtrc(np.maximum(w - 1, 0), n_total, share), 1.0)
    lower = bdtr(np.minimum(w, n_total), n_total, share)
    p_case = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    q_case = _grouped_bh(p_case, counts, fam)
    return p_case[inverse].reshape(window.shape), q_case[inverse].reshape(window.shape)


def best_attainable_q(total: int, scope_cells: int, window_cells: int, holding: int, tests: int) -> float:
    """The smallest BH q-value any placement of the occurrences could give a hot spot.

    The most extreme window holds all ``total`` occurrences: its p is ``2 (m / n)^N``;
    at most ``holding`` windows can hold the same place, and the family has ``tests``
    tests. Above `SUPPORT_ALPHA`, the data are too few for any finding.

    >>> round(best_attainable_q(1, 500, 9, 9, 500), 3), round(best_attainable_q(3, 500, 9, 9, 500), 6)
    (1.0, 0.000648)
    """
    p = min(1.0, 2.0 * (window_cells / scope_cells) ** total) if scope_cells else 1.0
    return min(1.0, p * tests / max(holding, 1))


def _distinct(key: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True, return_counts=True)``, by counting when the keys span little."""
    if span > 4 * key.size + 65536:
        return np.unique(key, return_inverse=True, return_counts=True)
    counts = np.bincount(key, minlength=span)
    cases = np.flatnonzero(counts)
    index = np.zeros(span, np.int64)
    index[cases] = np.arange(len(cases))
    return cases, index[key], counts[cases]


def _grouped_bh(p: np.ndarray, counts: np.ndarray, family: np.ndarray) -> np.ndarray:
    """BH q-values of distinct p-values, each standing for ``counts`` tests, within each family.

    ``q = min over l at or after k of p_l M / C_l``: M the tests of the family, C_l the
    tests with a p-value up to p_l (ties included), capped at 1.

    >>> _grouped_bh(np.array([0.01, 0.04, 0.03, 0.20]), np.ones(4, int), np.zeros(4, int)).round(6)
    array([0.04    , 0.053333, 0.053333, 0.2     ])
    """
    order = np.lexsort((p, family))
    p_sorted, c_sorted, f_sorted = p[order], counts[order], family[order]
    cumulative = np.cumsum(c_sorted)
    starts = np.flatnonzero(np.r_[True, f_sorted[1:] != f_sorted[:-1]])
    sizes = np.add.reduceat(c_sorted, starts)
    offset = np.repeat(cumulative[starts] - c_sorted[starts], np.diff(np.r_[starts, len(p)]))
    within = cumulative - offset
    family_size = np.repeat(sizes, np.diff(np.r_[starts, len(p)]))
    raw = np.minimum(p_sorted * family_size / within, 1.0)
    # Reverse running minimum within each family: later families are lifted above every earlier value.
    lift = 2.0 * np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(p)]))
    q_sorted = np.minimum.accumulate((raw + lift)[::-1])[::-1] - lift
    q = np.empty_like(q_sorted)
    q[order] = q_sorted
    return q
