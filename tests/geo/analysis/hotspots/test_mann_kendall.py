"""Vectorised Mann-Kendall equals pymannkendall.original_test series by series."""

from __future__ import annotations

import numpy as np
import pymannkendall
import pytest

from geo.analysis.hotspots import HotspotInputError, mann_kendall


def random_series(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = 12 + seed % 5
    series = rng.integers(0, 4, (120, steps)).astype(float)            # many ties
    series[:40] += np.arange(steps) * rng.uniform(-0.6, 0.6, (40, 1))   # trends, some significant
    series[40:60] = np.round(rng.normal(size=(20, steps)), 1)           # z-like values with ties
    series[60] = 2.0                                                    # constant: S = 0, var = 0
    return series


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_equals_pymannkendall_with_ties(seed):
    series = random_series(seed)
    result = mann_kendall(series, sen=True)
    labels = result.labels()
    for row, x in enumerate(series):
        ref = pymannkendall.original_test(x)
        assert result.s[row] == ref.s
        assert result.var_s[row] == pytest.approx(ref.var_s, rel=1e-12)
        assert result.z[row] == pytest.approx(ref.z, rel=1e-12, abs=1e-12)
        assert result.p[row] == pytest.approx(ref.p, rel=1e-9, abs=1e-12)
        assert labels[row] == ref.trend
        assert result.tau[row] == pytest.approx(ref.Tau, rel=1e-12)
        assert result.slope[row] == pytest.approx(ref.slope, rel=1e-12, abs=1e-15)
        assert result.intercept[row] == pytest.approx(ref.intercept, rel=1e-12, abs=1e-12)
    assert set(labels) == {"increasing", "decreasing", "no trend"}


def test_alpha_changes_the_trend_threshold():
    x = np.array([[1, 2, 1, 3, 2, 4, 3, 5, 4, 6]], float)
    for alpha in (0.01, 0.05, 0.10):
        assert mann_kendall(x, alpha=alpha).labels()[0] == pymannkendall.original_test(x[0], alpha=alpha).trend


def test_a_single_series_is_one_row():
    assert mann_kendall([1, 2, 3, 4]).s.tolist() == [6]


@pytest.mark.parametrize(("series", "message"), [
    ([[1.0, 2.0]], "the Mann-Kendall test needs series of at least 3 time steps, one per row"),
    ([[1.0, np.nan, 3.0]], "every value of a Mann-Kendall series must be a finite number (no NaN)"),
])
def test_bad_series_are_refused(series, message):
    with pytest.raises(HotspotInputError) as error:
        mann_kendall(series)
    assert str(error.value) == message
