"""Kernel density: the fast binned convolution against the exact sum over points."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import cKDTree

from geo.analysis.hotspots import Grid, HotspotInputError, default_bandwidth, kde_grid, kde_points
from geo.analysis.hotspots.kde import binning_error_bound, quartic


def random_points(rng, n, low, high):
    return rng.uniform(low, high, n), rng.uniform(low, high, n)


def test_points_at_cell_centres_give_the_exact_sum():
    rng = np.random.default_rng(1)
    grid = Grid(10, 20, 30, 25, size=100, mask=rng.random((30, 25)) > 0.2)
    x = (rng.integers(5, 45, 400) + 0.5) * 100
    y = (rng.integers(15, 50, 400) + 0.5) * 100
    fast, exact = kde_grid(grid, x, y, bandwidth=333), kde_points(grid, x, y, bandwidth=333)
    assert np.allclose(fast.density[grid.mask], exact.density[grid.mask], rtol=1e-9, atol=1e-9)
    assert np.isnan(fast.density[~grid.mask]).all() and np.isnan(exact.density[~grid.mask]).all()


@pytest.mark.parametrize("bandwidth", [250.0, 480.0, 1500.0])
def test_binning_error_stays_within_the_documented_bound(bandwidth):
    rng = np.random.default_rng(2)
    grid = Grid(0, 0, 40, 40, size=100)
    x, y = random_points(rng, 600, -300, 4300)
    fast, exact = kde_grid(grid, x, y, bandwidth), kde_points(grid, x, y, bandwidth)
    xs, ys = grid.centres()
    near = cKDTree(np.column_stack([x, y])).query_ball_point(
        np.column_stack([xs.ravel(), ys.ravel()]), bandwidth + 100 / math.sqrt(2), return_length=True)
    bound = binning_error_bound(near.reshape(grid.shape), grid.size, bandwidth)
    error = np.abs(fast.density - exact.density)
    assert (error <= bound + 1e-9).all()
    assert error.max() > 0  # the points are off-centre: binning does change something


def test_density_is_per_km2_and_integrates_to_the_number_of_points():
    rng = np.random.default_rng(3)
    grid = Grid(0, 0, 100, 100, size=100)
    x, y = random_points(rng, 250, 3000, 7000)
    density = kde_points(grid, x, y, bandwidth=800).density
    assert density.sum() * (0.1 * 0.1) == pytest.approx(250, rel=1e-3)


def test_kernel_is_quartic():
    u = np.array([0.0, 0.3, 0.999, 1.0, 2.0])
    assert np.allclose(quartic(u), [3 / math.pi, 3 / math.pi * 0.91**2, 3 / math.pi * (1 - 0.999**2) ** 2, 0, 0])


def test_default_bandwidth_follows_the_arcgis_rule():
    rng = np.random.default_rng(4)
    x, y = rng.normal(0, 300, 500), rng.normal(0, 100, 500)
    dist = np.hypot(x - x.mean(), y - y.mean())
    standard = math.sqrt((np.sum((x - x.mean()) ** 2) + np.sum((y - y.mean()) ** 2)) / 500)
    expected = 0.9 * min(standard, math.sqrt(1 / math.log(2)) * np.median(dist)) * 500 ** -0.2
    assert default_bandwidth(x, y) == pytest.approx(expected, rel=1e-12)
    assert kde_grid(Grid(-10, -10, 20, 20, size=100), x, y).bandwidth == pytest.approx(expected, rel=1e-12)


def test_points_outside_the_block_still_count_within_the_bandwidth():
    grid = Grid(0, 0, 5, 5, size=100)
    result = kde_grid(grid, [-150.0], [250.0], bandwidth=400)
    assert result.density[0, 2] > 0
    assert result.density[0, 2] == pytest.approx(kde_points(grid, [-150.0], [250.0], 400).density[0, 2])


@pytest.mark.parametrize(("x", "y", "bandwidth", "message"), [
    ([], [], 100, "there is no occurrence to estimate a density from"),
    ([5.0], [5.0], None, "a default bandwidth needs at least two occurrences: give one in metres"),
    ([5.0, 5.0], [5.0, 5.0], None,
     "the occurrences are too concentrated for a default bandwidth (it comes out as 0): give one in metres"),
    ([5.0], [5.0], -3, "the bandwidth must be a positive number of metres, not -3"),
])
def test_bad_input_is_refused(x, y, bandwidth, message):
    with pytest.raises(HotspotInputError) as error:
        kde_grid(Grid(0, 0, 2, 2, size=100), x, y, bandwidth)
    assert str(error.value) == message
