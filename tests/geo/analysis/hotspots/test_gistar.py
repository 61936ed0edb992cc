"""Gi*: equal to esda's G_Local(star=True, transform='B') on grids and irregular units."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from esda.getisord import G_Local
from libpysal.weights import DistanceBand, lat2W
from scipy import sparse
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from geo.analysis.hotspots import Grid, HotspotInputError, gistar, gistar_sparse
from geo.analysis.hotspots.significance import fdr_bh, gi_bin, two_sided_p

TOLERANCE = 1e-9


def esda_zs(values, w) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return G_Local(np.asarray(values, float), w, transform="B", star=True, permutations=0).Zs


def scope_weights(grid: Grid, band: float):
    """libpysal binary distance-band weights over the scope's cells only (row-major order)."""
    a, b = np.nonzero(grid.mask)
    centres = np.column_stack([(a + 0.5) * grid.size, (b + 0.5) * grid.size])
    return DistanceBand(centres, threshold=band, binary=True, silence_warnings=True)


def random_scope(rng, ni, nj) -> np.ndarray:
    """A non-rectangular scope: a disc with a notch and scattered holes."""
    a, b = np.mgrid[0:ni, 0:nj]
    mask = (a - ni / 2) ** 2 + (b - nj / 2) ** 2 < (min(ni, nj) / 2) ** 2
    mask[: ni // 3, : nj // 4] = False
    return mask & (rng.random((ni, nj)) > 0.1)


def test_esda_six_point_example_through_the_sparse_path():
    points = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
    y = np.array([2, 3, 3.2, 5, 8, 7])
    w = DistanceBand(points, threshold=15)
    documented = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]
    result = gistar_sparse(y, w.sparse)
    assert np.abs(result.z - esda_zs(y, w)).max() < TOLERANCE
    assert np.allclose(result.z, documented, atol=1e-8)


def test_full_grid_equals_esda_on_lat2w_queen():
    rng = np.random.default_rng(1)
    counts = rng.poisson(1.5, (12, 17))
    result = gistar(counts, Grid(0, 0, 12, 17, size=200))
    expected = esda_zs(counts.ravel(), lat2W(12, 17, rook=False))
    assert np.abs(result.z.ravel() - expected).max() < TOLERANCE


@pytest.mark.parametrize("seed", [2, 3, 4])
@pytest.mark.parametrize("factor", [1.5, 2.5])
def test_masked_grid_equals_esda_on_the_scope_cells(seed, factor):
    rng = np.random.default_rng(seed)
    mask = random_scope(rng, 25, 31)
    counts = rng.poisson(rng.uniform(0.2, 3, (25, 31)))
    grid = Grid(100, 200, 25, 31, size=150, mask=mask)
    result = gistar(counts, grid, band=factor * grid.size)
    expected = esda_zs(counts[mask], scope_weights(grid, factor * grid.size))
    assert np.abs(result.z[mask] - expected).max() < TOLERANCE
    assert np.isnan(result.z[~mask]).all() and np.isfinite(result.z[mask]).all()


def test_memory_layout_and_dtype_do_not_matter():
    rng = np.random.default_rng(11)
    mask = random_scope(rng, 20, 16)
    counts = rng.poisson(1.0, (20, 16))
    grid = Grid(0, 0, 20, 16, size=200, mask=mask)
    expected = gistar(counts, grid).z
    for variant in (np.asfortranarray(counts), counts.astype(np.uint16), counts.astype(np.float32)):
        assert np.array_equal(gistar(variant, grid).z, expected, equal_nan=True)
    fortran = Grid(0, 0, 20, 16, size=200, mask=np.asfortranarray(mask))
    assert np.array_equal(gistar(np.asfortranarray(counts), fortran).z, expected, equal_nan=True)


def test_cells_outside_the_scope_are_absent_not_zeros():
    rng = np.random.default_rng(5)
    mask = random_scope(rng, 15, 15)
    counts = rng.poisson(2.0, (15, 15))
    changed = np.where(mask, counts, 1000)
    grid = Grid(0, 0, 15, 15, size=200, mask=mask)
    assert np.array_equal(gistar(counts, grid).z, gistar(changed, grid).z, equal_nan=True)
    zeros_as_scope = gistar(np.where(mask, counts, 0), Grid(0, 0, 15, 15, size=200)).z
    assert not np.allclose(zeros_as_scope[mask], gistar(counts, grid).z[mask])


@pytest.mark.parametrize("band", [150.0, 320.0])
def test_sparse_path_equals_esda_and_the_grid_path(band):
    rng = np.random.default_rng(6)
    mask = random_scope(rng, 14, 18)
    grid = Grid(0, 0, 14, 18, size=100, mask=mask)
    counts = rng.poisson(1.0, (14, 18))
    w = scope_weights(grid, band)
    result = gistar_sparse(counts[mask], w.sparse)
    assert np.abs(result.z - esda_zs(counts[mask], w)).max() < TOLERANCE
    assert np.abs(result.z - gistar(counts, grid, band=band).z[mask]).max() < TOLERANCE


def test_sparse_path_binarises_and_adds_the_diagonal():
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 1000, (40, 2))
    values = rng.poisson(3, 40)
    w = DistanceBand(points, threshold=250, silence_warnings=True)
    scaled = w.sparse * 0.37 + sparse.identity(40) * 5
    assert np.abs(gistar_sparse(values, scaled).z - esda_zs(values, w)).max() < TOLERANCE


def test_p_values_are_two_sided_normal():
    z = np.array([-4.0, -1.0, 0.0, 0.5, 2.0, 9.0])
    assert np.allclose(two_sided_p(z), 2 * norm.sf(np.abs(z)), rtol=1e-12, atol=0)


def test_fdr_equals_statsmodels_with_ties_and_per_row():
    rng = np.random.default_rng(8)
    p = np.round(rng.random((5, 300)) ** 3, 3)
    p[:, :4] = 1.0
    for row in p:
        assert np.allclose(fdr_bh(row), multipletests(row, method="fdr_bh")[1], rtol=1e-12, atol=0)
    rows = fdr_bh(p, axis=1)
    columns = fdr_bh(p.T, axis=0)
    assert np.array_equal(rows, columns.T)
    assert np.array_equal(rows[2], fdr_bh(p[2]))


def test_bins_at_the_thresholds():
    p = np.array([0.0099, 0.01, 0.0101, 0.05, 0.0501, 0.10, 0.1001, 0.5])
    assert gi_bin(np.ones(8), p).tolist() == [3, 3, 2, 2, 1, 1, 0, 0]
    assert gi_bin(-np.ones(8), p).tolist() == [-3, -3, -2, -2, -1, -1, 0, 0]
    assert gi_bin(np.array([0.0, np.nan]), np.array([0.001, np.nan])).tolist() == [0, 0]


def test_bins_use_fdr_adjusted_p_by_default_and_raw_p_on_request():
    rng = np.random.default_rng(9)
    counts = rng.poisson(1.0, (30, 30))
    counts[10:13, 10:13] += 3
    grid = Grid(0, 0, 30, 30, size=200)
    adjusted, raw = gistar(counts, grid), gistar(counts, grid, fdr=False)
    assert np.array_equal(adjusted.gi_bin, gi_bin(adjusted.z, adjusted.p_fdr))
    assert np.array_equal(raw.gi_bin, gi_bin(raw.z, raw.p))
    assert np.count_nonzero(adjusted.gi_bin) < np.count_nonzero(raw.gi_bin)
    # The exact test's BH runs on its distinct cases: the same q-values as BH on every cell, to rounding.
    assert np.allclose(adjusted.p_fdr.ravel(), fdr_bh(adjusted.p.ravel()), rtol=1e-12, atol=0)


def test_to_frame_lists_scope_cells():
    grid = Grid(3, 4, 6, 6, size=200, mask=random_scope(np.random.default_rng(10), 6, 6))
    counts = np.arange(36).reshape(6, 6) % 5
    frame = gistar(counts, grid).to_frame(grid, counts)
    assert list(frame.columns) == ["i", "j", "count", "z", "p", "p_fdr", "gi_bin"]
    assert len(frame) == grid.n_cells and frame["z"].notna().all()


def test_a_single_occurrence_is_computed_but_is_no_hot_spot_and_says_so():
    counts = np.zeros((40, 40))
    counts[20, 20] = 1
    result = gistar(counts, Grid(0, 0, 40, 40, size=200))
    assert np.isfinite(result.z).all()
    assert result.z[20, 20] > 10  # the normal approximation's "hot spot" (its p would be below 1e-20)
    assert result.gi_bin[20, 20] == 0 and not result.gi_bin.any() and not result.supported
    assert result.warnings == (
        "only 1 occurrence in 1600 cells: even all in one place, no hot spot could be significant",)


def test_a_neighbourhood_covering_the_scope_gives_zero_and_says_so():
    mask = np.zeros((5, 5), bool)
    mask[1:4, 2] = True
    counts = np.zeros((5, 5))
    counts[1:4, 2] = [0, 2, 7]
    result = gistar(counts, Grid(0, 0, 5, 5, size=100, mask=mask))
    assert result.z[2, 2] == 0 and np.isfinite(result.z[mask]).all()
    assert "1 cell with the whole scope as neighbourhood: Gi* is 0/0 there and set to z = 0" in result.warnings


@pytest.mark.parametrize(("counts", "mask", "message"), [
    (np.ones((3, 3)), np.zeros((3, 3), bool), "no cell of the grid lies in the study area: the scope is empty"),
    (np.zeros((3, 3)), None, "no occurrence falls in the study area: Gi* needs at least one"),
    (np.where(np.eye(3, dtype=bool), 9, 3), ~np.eye(3, dtype=bool),
     "every cell has the same count (3): Gi* is undefined when the counts do not vary"),
    (np.full((3, 3), np.nan), None, "every count in the scope must be a finite number (no NaN or infinity)"),
    (np.ones((2, 3)), None, "the counts have shape (2, 3), the scope mask (3, 3)"),
])
def test_undefined_gi_star_raises_a_clear_error(counts, mask, message):
    with pytest.raises(HotspotInputError) as error:
        gistar(counts, Grid(0, 0, 3, 3, size=100, mask=mask))
    assert str(error.value) == message


def test_sparse_path_edge_cases():
    with pytest.raises(HotspotInputError, match="^the weights are 2 x 2 for 3 units$"):
        gistar_sparse([1, 2, 3], np.eye(2))
    with pytest.raises(HotspotInputError, match=r"^every cell has the same count \(2\)"):
        gistar_sparse([2, 2, 2], np.eye(3))
