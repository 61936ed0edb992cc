"""Distance-band kernels and window sums against scipy's correlation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from geo.analysis.hotspots import HotspotInputError
from geo.analysis.hotspots.neighbourhood import band_kernel, cardinality, window_sum


@pytest.mark.parametrize(("ratio", "cells"), [(0.5, 1), (1.0, 5), (1.5, 9), (2.0, 13), (2.5, 21), (3.2, 37)])
def test_kernels_hold_the_cells_within_the_band(ratio, cells):
    kernel = band_kernel(ratio * 200, 200)
    assert kernel.sum() == cells
    assert np.array_equal(kernel, kernel.T) and np.array_equal(kernel, kernel[::-1])


@pytest.mark.parametrize("ratio", [0.5, 1.5, 2.5, 4.2])
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (17, 23), (4, 9, 11)])
def test_window_sum_equals_correlation_with_zeros_beyond_the_edges(ratio, shape):
    rng = np.random.default_rng(len(shape) + int(ratio * 10))
    values = rng.poisson(2.0, shape).astype(float)
    kernel = band_kernel(ratio, 1.0)
    weights = kernel.astype(float).reshape((1,) * (len(shape) - 2) + kernel.shape)
    expected = ndimage.correlate(values, weights, mode="constant")
    assert np.array_equal(window_sum(values, kernel), expected)
    in_place = values.copy()
    assert np.array_equal(window_sum(in_place, kernel, out=in_place), expected)


def test_cardinality_counts_scope_cells_only():
    mask = np.array([[True, True, False], [False, True, True]])
    assert cardinality(mask, band_kernel(1.5, 1.0)).tolist() == [[3, 4, 3], [3, 4, 3]]
    assert cardinality(np.ones((40, 40), bool), band_kernel(12, 1.0)).max() == band_kernel(12, 1.0).sum()


def test_a_band_must_be_positive():
    with pytest.raises(HotspotInputError, match="^the distance band must be positive, not 0$"):
        band_kernel(0, 200)
