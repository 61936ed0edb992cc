"""Square grid anchored at the Lambert-93 origin, and counts of points per cell.

A cell is named by two integers, ``i = floor(x / size)`` and ``j = floor(y / size)``
(x and y in metres, EPSG:2154), so that a cell keeps its id across runs, time steps and
study areas (DESIGN.md section 5). A `Grid` is a rectangular block of such cells,
``i0 <= i < i0 + ni`` and ``j0 <= j < j0 + nj``, stored as 2-D arrays of shape
``(ni, nj)``: axis 0 runs along x (east), axis 1 along y (north). Its boolean ``mask``
says which cells belong to the study area (the *scope*); statistics use only those
cells, and every one of them, zero counts included.

Square cells live here; hexagons, the design's option, are in `geo.analysis.hotspots.hexgrid`
(same anchoring at the origin, Gi* through the sparse-weights path).
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from geo.analysis.hotspots.errors import HotspotInputError
from geo.settings import CELL_SIZE_M

#: The project's cell side (geo.settings): 200 m.
DEFAULT_CELL_SIZE = CELL_SIZE_M


@dataclasses.dataclass(frozen=True, eq=False)
class Grid:
    """A block of square cells and the scope mask over it.

    Parameters
    ----------
    i0, j0 : int
        Ids of the block's lower-left cell (``floor(x / size)``, ``floor(y / size)``).
    ni, nj : int
        Number of cells along x and along y.
    size : float
        Cell side in metres.
    mask : numpy.ndarray of bool, shape (ni, nj), optional
        True for the cells of the study area; all cells when omitted.

    Examples
    --------
    >>> grid = Grid.covering(0, 0, 999, 399, size=200)
    >>> grid.shape, grid.n_cells
    ((5, 2), 10)
    >>> grid.cell_of([250.0], [399.0])
    (array([1]), array([1]))
    """

    i0: int
    j0: int
    ni: int
    nj: int
    size: float = DEFAULT_CELL_SIZE
    mask: np.ndarray | None = None

    def __post_init__(self):
        if not self.size > 0:
            raise HotspotInputError(f"the cell size must be positive, not {self.size}")
        if self.ni < 0 or self.nj < 0:
            raise HotspotInputError("a grid cannot have a negative number of cells")
        mask = np.ones((self.ni, self.nj), bool) if self.mask is None else np.asarray(self.mask, bool)
        if mask.shape != (self.ni, self.nj):
            raise HotspotInputError(f"the scope mask has shape {mask.shape}, the grid {(self.ni, self.nj)}")
        object.__setattr__(self, "mask", mask)

    @classmethod
    def covering(cls, xmin: float, ymin: float, xmax: float, ymax: float,
                 size: float = DEFAULT_CELL_SIZE, mask: np.ndarray | None = None) -> Grid:
        """The smallest block of cells that covers a bounding box (all cells in scope)."""
        i0, j0 = math.floor(xmin / size), math.floor(ymin / size)
        i1, j1 = math.floor(xmax / size), math.floor(ymax / size)
        return cls(i0, j0, i1 - i0 + 1, j1 - j0 + 1, size, mask)

    @classmethod
    def from_polygon(cls, area, size: float = DEFAULT_CELL_SIZE) -> Grid:
        """The block covering a (Multi)Polygon in EPSG:2154, scoped to the cells whose centre lies inside it.

        Examples
        --------
        >>> from shapely import box
        >>> grid = Grid.from_polygon(box(0, 0, 1000, 500), size=200)
        >>> grid.shape, grid.n_cells     # centres on the boundary (x = 1100, y = 500) are out
        ((6, 3), 10)
        """
        if area is None or area.is_empty:
            raise HotspotInputError("the study area is empty")
        grid = cls.covering(*area.bounds, size=size)
        return dataclasses.replace(grid, mask=scope_mask(grid, area))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ni, self.nj)

    @property
    def n_cells(self) -> int:
        """Number of cells in the scope."""
        return int(self.mask.sum())

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of every cell centre of the block, two arrays of shape (ni, nj)."""
        xs = (self.i0 + np.arange(self.ni) + 0.5) * self.size
        ys = (self.j0 + np.arange(self.nj) + 0.5) * self.size
        return np.meshgrid(xs, ys, indexing="ij")

    def cell_of(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Local indices (row along x, column along y) of the cells holding points; may fall outside the block."""
        x, y = _finite_coordinates(x, y)
        return (np.floor(x / self.size).astype(np.int64) - self.i0,
                np.floor(y / self.size).astype(np.int64) - self.j0)

    def ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Global ids (i, j) of the scope's cells, in row-major order of the block."""
        a, b = np.nonzero(self.mask)
        return a + self.i0, b + self.j0


def scope_mask(grid: Grid, area) -> np.ndarray:
    """Cells of a grid whose centre lies inside a (Multi)Polygon (EPSG:2154).

    A centre on the boundary is outside (``shapely.contains_xy``), so that two
    adjacent areas never share a cell.

    Examples
    --------
    >>> from shapely import box
    >>> scope_mask(Grid(0, 0, 3, 1, size=100), box(0, 0, 200, 100)).tolist()
    [[True], [True], [False]]
    """
    xs, ys = grid.centres()
    return shapely.contains_xy(area, xs, ys)


class PointCounts(NamedTuple):
    """Counts per cell (and per step), and how many points were not counted."""

    counts: np.ndarray
    outside: int


def count_points(grid: Grid, x, y, step_index=None, n_steps: int | None = None) -> PointCounts:
    """Count points per cell of the grid, and per time step when given.

    Parameters
    ----------
    grid : Grid
    x, y : array_like
        Coordinates in EPSG:2154 metres.
    step_index : array_like of int, optional
        Time step of each point, in ``0 .. n_steps - 1``.
    n_steps : int, optional
        Number of time steps (required with ``step_index``).

    Returns
    -------
    PointCounts
        ``counts`` of shape (ni, nj), or (n_steps, ni, nj) with steps, int64, zero in
        every cell without points and outside the scope; ``outside`` the number of
        points not counted: outside the scope, or with a step outside ``0 .. n_steps - 1``.

    Examples
    --------
    >>> grid = Grid(0, 0, 2, 2, size=100, mask=[[True, True], [True, False]])
    >>> result = count_points(grid, [10, 20, 150, 150], [10, 30, 50, 150])
    >>> result.counts.tolist(), result.outside
    ([[2, 0], [1, 0]], 1)
    >>> count_points(grid, [10, 10], [10, 10], step_index=[0, 2], n_steps=3).counts[:, 0, 0].tolist()
    [1, 0, 1]
    """
    a, b = grid.cell_of(x, y)
    keep = (a >= 0) & (a < grid.ni) & (b >= 0) & (b < grid.nj)
    flat = np.where(keep, a * grid.nj + b, 0)
    keep &= grid.mask.ravel()[flat]
    cells = grid.ni * grid.nj
    if step_index is not None:
        steps = _step_index(step_index, n_steps, len(flat))
        keep &= (steps >= 0) & (steps < n_steps)
        flat = flat + steps * cells
        cells *= n_steps
    counts = np.bincount(flat[keep], minlength=cells)
    shape = grid.shape if step_index is None else (n_steps, *grid.shape)
    return PointCounts(counts.reshape(shape), int(keep.size - keep.sum()))


def grid_frame(grid: Grid, **columns: np.ndarray) -> pd.DataFrame:
    """One row per scope cell: its ids ``i``, ``j`` and the named grid-shaped arrays.

    Examples
    --------
    >>> grid = Grid(10, 20, 2, 1, size=100, mask=[[True], [False]])
    >>> grid_frame(grid, count=np.array([[3], [0]])).to_dict("records")
    [{'i': 10, 'j': 20, 'count': 3}]
    """
    i, j = grid.ids()
    frame = pd.DataFrame({"i": i, "j": j})
    for name, values in columns.items():
        frame[name] = np.asarray(values)[grid.mask]
    return frame


def _finite_coordinates(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.shape != y.shape:
        raise HotspotInputError(f"x has {x.size} values and y {y.size}: they must pair up")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise HotspotInputError("every coordinate must be a finite number (no NaN or infinity)")
    return x, y


def _step_index(step_index, n_steps: int | None, n_points: int) -> np.ndarray:
    if n_steps is None or n_steps < 1:
        raise HotspotInputError("n_steps (a positive number of time steps) is required with step_index")
    steps = np.asarray(step_index).ravel()
    if steps.size != n_points or not np.issubdtype(steps.dtype, np.integer):
        raise HotspotInputError("step_index must give one integer step per point")
    return steps.astype(np.int64)
