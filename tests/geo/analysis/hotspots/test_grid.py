"""The grid: stable cell ids, scope masks from polygons, counts per cell and step."""

from __future__ import annotations

import numpy as np
import pytest
from shapely import MultiPolygon, Polygon, box

from geo.analysis.hotspots import Grid, HotspotInputError, count_points, grid_frame, scope_mask


def test_cell_ids_are_anchored_at_the_origin_whatever_the_block():
    x, y = np.array([650_123.0, 650_399.9, 650_400.0]), np.array([6_860_000.0, 6_860_199.0, 6_860_200.0])
    small = Grid.covering(x.min(), y.min(), x.max(), y.max(), size=200)
    large = Grid.covering(640_000, 6_850_000, 660_000, 6_870_000, size=200)
    for grid in (small, large):
        a, b = grid.cell_of(x, y)
        assert (a + grid.i0).tolist() == [3250, 3251, 3252]
        assert (b + grid.j0).tolist() == [34300, 34300, 34301]


def test_counts_keep_every_scope_cell_with_zeros_and_skip_the_outside():
    mask = np.array([[True, True, False], [True, True, True]])
    grid = Grid(0, 0, 2, 3, size=100, mask=mask)
    x = [10, 10, 110, 50, 250, -1, 10]
    y = [10, 20, 120, 250, 50, 10, 310]
    result = count_points(grid, x, y)
    assert result.counts.tolist() == [[2, 0, 0], [0, 1, 0]]
    # (50, 250) is in the masked cell, (250, 50), (-1, 10) and (10, 310) beyond the block
    assert result.outside == 4
    assert result.counts.dtype.kind == "i"


def test_counts_per_step_form_a_cube():
    grid = Grid(0, 0, 2, 2, size=100)
    result = count_points(grid, [10, 10, 150, 150, 150], [10, 10, 150, 150, 150],
                          step_index=[0, 3, 1, 1, 4], n_steps=4)
    assert result.counts.shape == (4, 2, 2)
    assert result.counts[:, 0, 0].tolist() == [1, 0, 0, 1]
    assert result.counts[:, 1, 1].tolist() == [0, 2, 0, 0]
    assert result.outside == 1  # step 4 does not exist


def test_scope_mask_of_a_multipolygon_with_a_hole():
    ring = Polygon([(0, 0), (500, 0), (500, 500), (0, 500)], [[(200, 200), (300, 200), (300, 300), (200, 300)]])
    area = MultiPolygon([ring, box(700, 0, 900, 100)])
    grid = Grid.from_polygon(area, size=100)
    assert (grid.i0, grid.j0, grid.shape) == (0, 0, (10, 6))
    assert grid.n_cells == 25 - 1 + 2
    assert not grid.mask[2, 2]  # the hole
    assert grid.mask[7, 0] and grid.mask[8, 0] and not grid.mask[6, 0]
    assert np.array_equal(scope_mask(grid, area), grid.mask)


def test_grid_frame_lists_scope_cells_with_global_ids():
    grid = Grid(5, 7, 2, 2, size=100, mask=[[True, False], [True, True]])
    frame = grid_frame(grid, count=np.array([[1, 9], [2, 3]]))
    assert frame.to_dict("list") == {"i": [5, 6, 6], "j": [7, 7, 8], "count": [1, 2, 3]}


@pytest.mark.parametrize(("call", "message"), [
    (lambda: Grid(0, 0, 2, 2, size=0), "the cell size must be positive, not 0"),
    (lambda: Grid(0, 0, 2, 2, mask=np.ones((3, 2))), "the scope mask has shape (3, 2), the grid (2, 2)"),
    (lambda: count_points(Grid(0, 0, 2, 2), [np.nan], [1.0]),
     "every coordinate must be a finite number (no NaN or infinity)"),
    (lambda: count_points(Grid(0, 0, 2, 2), [1.0, 2.0], [1.0]), "x has 2 values and y 1: they must pair up"),
    (lambda: count_points(Grid(0, 0, 2, 2), [1.0], [1.0], step_index=[0]),
     "n_steps (a positive number of time steps) is required with step_index"),
    (lambda: Grid.from_polygon(Polygon()), "the study area is empty"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(HotspotInputError) as error:
        call()
    assert str(error.value) == message
