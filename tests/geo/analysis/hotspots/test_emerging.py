"""Emerging hot spots: space-time Gi* against esda, and one hand-made cube per category."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from esda.getisord import G_Local
from libpysal.weights import W

from geo.analysis.hotspots import CATEGORIES, Grid, HotspotInputError, emerging_hotspots, gistar
from geo.analysis.hotspots.emerging import space_time_z
from geo.analysis.hotspots.neighbourhood import band_kernel
from geo.analysis.hotspots.significance import fdr_bh

GRID = Grid(0, 0, 9, 9, size=200)
CENTRE = (4, 4)
_ = None  # a step without cluster


def cube(levels: list, cold: bool = False) -> np.ndarray:
    """A 9 x 9 cube per step: an unclustered background and a 3 x 3 block at the centre.

    The background cycles 0, 1, 2 (+4 for cold cubes) so every 3 x 3 window holds the
    same total: no spurious hot or cold spot. ``levels[t]`` is the block's count at
    step t, ``None`` for background only.
    """
    t, i, j = np.mgrid[0:len(levels), 0:9, 0:9]
    values = ((i + 2 * j + t) % 3 + (4 if cold else 0)).astype(float)
    for step, level in enumerate(levels):
        if level is not None:
            values[step, 3:6, 3:6] = level
    return values


def centre_series(result) -> str:
    hot, cold = result.hot[(slice(None), *CENTRE)], result.cold[(slice(None), *CENTRE)]
    return "".join("H" if h else "C" if c else "." for h, c in zip(hot, cold))


# With k = 1 a step sees the step before it: a cluster at t keeps the centre hot at t + 1.
CASES = [
    ("new hot spot", [_] * 11 + [8], False, "...........H", "no trend"),
    ("consecutive hot spot", [_] * 9 + [8] * 3, False, ".........HHH", "increasing"),
    ("intensifying hot spot", [4 + t for t in range(12)], False, "H" * 12, "increasing"),
    ("persistent hot spot", [8] * 12, False, "H" * 12, "no trend"),
    ("diminishing hot spot", [15 - t for t in range(12)], False, "H" * 12, "decreasing"),
    ("sporadic hot spot", [_, _, 8, _, _, _, 8, _, _, _, _, 8], False, "..HH..HH...H", "no trend"),
    ("oscillating hot spot", [_, _, 0, _, _, _, _, _, _, _, _, 15], True, "..CC.......H", "no trend"),
    ("historical hot spot", [8] * 18 + [_, _], False, "H" * 19 + ".", "no trend"),
    ("new cold spot", [_] * 11 + [0], True, "...........C", "no trend"),
    ("consecutive cold spot", [_] * 9 + [0] * 3, True, ".........CCC", "decreasing"),
    # Counts are whole numbers: the exact test takes counts (fractions get the normal approximation and a warning).
    ("intensifying cold spot", [2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0], True, "C" * 12, "decreasing"),
    ("persistent cold spot", [0] * 12, True, "C" * 12, "no trend"),
    ("diminishing cold spot", [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3], True, "C" * 12, "increasing"),
    ("sporadic cold spot", [_, _, 0, _, _, _, 0, _, _, _, _, 0], True, "..CC..CC...C", "no trend"),
    ("oscillating cold spot", [_, _, 15, _, _, _, _, _, _, _, _, 0], True, "..HH.......C", "no trend"),
    ("historical cold spot", [0] * 18 + [_, _], True, "C" * 19 + ".", "no trend"),
]


@pytest.mark.parametrize(("category", "levels", "cold", "series", "trend"), CASES, ids=[c[0] for c in CASES])
def test_each_category_from_a_cube_built_for_it(category, levels, cold, series, trend):
    result = emerging_hotspots(cube(levels, cold), GRID)
    assert centre_series(result) == series
    assert result.trend.labels()[4 * 9 + 4] == trend
    assert CATEGORIES[result.category[CENTRE]] == category
    assert result.warnings == ()


def test_every_category_has_its_cube():
    assert sorted(c[0] for c in CASES) == sorted(CATEGORIES[1:])


def test_background_without_cluster_has_no_pattern():
    result = emerging_hotspots(cube([_] * 12), GRID)
    assert (result.category == CATEGORIES.index("no pattern")).all()


def window_weights(mask: np.ndarray, steps: int, t: int, k: int) -> tuple[W, list]:
    """libpysal weights over (step, cell) nodes of the window of step t, as DESIGN.md defines it."""
    cells = list(zip(*np.nonzero(mask)))
    window = list(range(max(0, t - k), t + 1))
    nodes = [(s, c) for s in window for c in cells]
    index = {node: n for n, node in enumerate(nodes)}
    neighbours = {n: [] for n in range(len(nodes))}
    for a, b in cells:
        me = index[(t, (a, b))]
        neighbours[me] = [index[(s, c)] for s in window for c in cells
                          if max(abs(c[0] - a), abs(c[1] - b)) <= 1 and (s, c) != (t, (a, b))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return W(neighbours, silence_warnings=True), [index[(t, c)] for c in cells]


@pytest.mark.parametrize("k", [1, 2])
def test_space_time_z_equals_esda_on_the_window_graph(k):
    rng = np.random.default_rng(k)
    mask = rng.random((6, 7)) > 0.2
    values = rng.poisson(1.2, (5, 6, 7)).astype(float)
    z, notes = space_time_z(values, mask, band_kernel(1.5, 1.0), k)
    assert notes == ()
    cells = list(zip(*np.nonzero(mask)))
    for t in range(5):
        w, rows = window_weights(mask, 5, t, k)
        y = np.concatenate([values[s][mask] for s in range(max(0, t - k), t + 1)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = G_Local(y, w, transform="B", star=True, permutations=0).Zs[rows]
        assert np.abs(z[t][tuple(np.array(cells).T)] - expected).max() < 1e-9
    assert np.isnan(z[:, ~mask]).all()


def test_k_zero_is_gi_star_step_by_step():
    rng = np.random.default_rng(3)
    mask = rng.random((10, 12)) > 0.15
    values = rng.poisson(0.8, (10, 10, 12))
    grid = Grid(0, 0, 10, 12, size=100, mask=mask)
    z, _ = space_time_z(values, mask, band_kernel(250, 100), k=0)
    for t in range(10):
        assert np.allclose(z[t], gistar(values[t], grid, band=250).z, rtol=0, atol=1e-12, equal_nan=True)


def test_fdr_is_per_step_over_the_scope():
    rng = np.random.default_rng(4)
    mask = rng.random((12, 12)) > 0.1
    grid = Grid(0, 0, 12, 12, size=200, mask=mask)
    result = emerging_hotspots(rng.poisson(1.0, (10, 12, 12)), grid, alpha=0.2)
    for t in range(10):
        assert np.allclose(result.p_fdr[t][mask], fdr_bh(result.p[t][mask]), rtol=1e-12)
        assert np.array_equal(result.hot[t], (result.p_fdr[t] <= 0.2) & (result.z[t] > 0))
    assert (result.category[~mask] == -1).all()
    frame = result.to_frame(grid)
    assert len(frame) == grid.n_cells
    assert list(frame.columns) == ["i", "j", "category", "hot_steps", "cold_steps", "final_z", "trend_z",
                                   "trend_p", "trend"]


def test_steps_without_variation_get_zero_and_a_warning():
    values = cube([_] * 12)
    values[:3] = 0
    result = emerging_hotspots(values, GRID)
    assert (result.z[:3] == 0).all()
    assert result.warnings == (
        "steps 0, 1, 2: every cell has the same count in the window, Gi* is undefined and set to z = 0",)


@pytest.mark.parametrize(("values", "grid", "message"), [
    (np.ones((9, 9, 9)), GRID, "emerging hot spot analysis needs at least 10 time steps, the cube has 9"),
    (np.zeros((12, 9, 9)), GRID, "no occurrence falls in the study area during the period: Gi* needs at least one"),
    (np.full((12, 9, 9), 2.0), GRID,
     "every cell has the same count (2) in every time step: Gi* is undefined when the counts do not vary"),
    (np.ones((12, 9, 9)), Grid(0, 0, 9, 9, mask=np.zeros((9, 9), bool)),
     "no cell of the grid lies in the study area: the scope is empty"),
    (np.ones((12, 8, 9)), GRID, "the cube has shape (12, 8, 9), expected (steps, 9, 9)"),
])
def test_bad_cubes_are_refused_with_a_clear_message(values, grid, message):
    with pytest.raises(HotspotInputError) as error:
        emerging_hotspots(values, grid)
    assert str(error.value) == message


def test_k_must_fit_the_cube():
    with pytest.raises(HotspotInputError, match=r"^k \(earlier steps in the neighbourhood\) must be between 0 and 11$"):
        emerging_hotspots(cube([_] * 12), GRID, k=12)
