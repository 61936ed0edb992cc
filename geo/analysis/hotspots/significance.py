"""Two-sided normal p-values, Benjamini-Hochberg FDR, and ArcGIS-style confidence bins.

Classes follow ArcGIS's ``Gi_Bin``: +3/-3, +2/-2, +1/-1 for hot/cold spots at 99, 95
and 90 % confidence, 0 otherwise. The confidence of a cell is read from its p-value,
``p <= 0.01``, ``0.05``, ``0.10`` (inclusive), rather than from rounded z thresholds
(2.58, 1.96, 1.65), so the classes are exact at the boundaries. With FDR (the default
of the analyses, as in ArcGIS's Hot Spot Analysis with the FDR correction on) the
p-value used is the Benjamini-Hochberg adjusted one: a cell is in bin 3 exactly when
the BH procedure at level 0.01 rejects it, and so on. This is what ArcGIS describes:
with FDR correction the critical p-value of each confidence level is lowered so that
the expected share of false positives stays at that level.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))


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
