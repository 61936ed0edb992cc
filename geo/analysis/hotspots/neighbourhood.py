"""Binary neighbourhoods on the square grid, and their window sums.

A distance band ``d`` (metres) makes cell B a neighbour of cell A when the distance
between their centres is at most ``d``; the cell itself is included (Gi*). On a grid
this is a fixed stencil, the *kernel*, and the sum of a value over each cell's
neighbours is a correlation of the grid with it, computed here with shifted slices
(zero beyond the block's edges), so no cell outside the block is ever a neighbour.
"""

from __future__ import annotations

import numpy as np

from geo.analysis.hotspots.errors import HotspotInputError

# Band / size ratios within this relative distance of a centre distance count as equal,
# so that a band of exactly 2 x size includes the cells 2 cells away despite rounding.
_BAND_TOLERANCE = 1e-9


def band_kernel(band: float, size: float) -> np.ndarray:
    """Boolean stencil of the cells within ``band`` metres (centre to centre) of a cell.

    Examples
    --------
    >>> band_kernel(300, 200).astype(int)     # 1.5 x size: queen neighbours
    array([[1, 1, 1],
           [1, 1, 1],
           [1, 1, 1]])
    >>> int(band_kernel(500, 200).sum())      # 2.5 x size: a 5 x 5 block less its corners
    21
    """
    if not band > 0:
        raise HotspotInputError(f"the distance band must be positive, not {band}")
    ratio = band / size
    radius = int(np.floor(ratio * (1 + _BAND_TOLERANCE)))
    di, dj = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return di * di + dj * dj <= ratio * ratio * (1 + _BAND_TOLERANCE)


def window_sum(values: np.ndarray, kernel: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sum of ``values`` over each cell's neighbourhood, on the last two axes.

    Rows of the kernel that have the same pattern share one pass along the last axis,
    so the queen kernel costs two passes of two additions each (it is separable).
    ``out`` may be ``values`` itself, which saves a large allocation.

    Examples
    --------
    >>> window_sum(np.arange(9.0).reshape(3, 3), band_kernel(1.5, 1.0))
    array([[ 8., 15., 12.],
           [21., 36., 27.],
           [20., 33., 24.]])
    """
    radius = kernel.shape[0] // 2
    rows: dict[bytes, np.ndarray] = {}
    arrays, offsets = [], []
    for di in sorted(range(-radius, radius + 1), key=abs):  # centre first, see _sum_shifted
        pattern = kernel[di + radius]
        if pattern.any():
            key = pattern.tobytes()
            if key not in rows:
                rows[key] = _row_sum(values, pattern)
            arrays.append(rows[key])
            offsets.append(di)
    return _sum_shifted(arrays, offsets, axis=-2, out=out)


def cardinality(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Number of scope cells in each cell's neighbourhood (itself included), as small integers."""
    dtype = np.uint8 if kernel.sum() <= np.iinfo(np.uint8).max else np.int32
    return window_sum(mask.astype(dtype), kernel)


def _row_sum(values: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    offsets = sorted((int(o) for o in np.flatnonzero(pattern) - pattern.size // 2), key=abs)
    return _sum_shifted([values] * len(offsets), offsets, axis=-1)


def _sum_shifted(arrays: list[np.ndarray], offsets: list[int], axis: int, out: np.ndarray | None = None) -> np.ndarray:
    """Sum of arrays[m] shifted by offsets[m]; the centre pair is added in one pass."""
    if len(offsets) > 1 and offsets[0] == 0 and arrays[0] is arrays[1]:
        total = _first_pair(arrays[0], offsets[1], axis, out)
        arrays, offsets = arrays[2:], offsets[2:]
    elif out is not None:
        total = out
        total[...] = 0
    else:
        total = None
    for values, offset in zip(arrays, offsets):
        total = _add_shifted(total, values, offset, axis)
    return total


def _add_shifted(total: np.ndarray | None, values: np.ndarray, offset: int, axis: int) -> np.ndarray:
    """total[k] += values[k + offset] along an axis, where k + offset exists (total None: zeros)."""
    n = values.shape[axis]
    if total is None:
        return values.copy() if offset == 0 else _add_shifted(np.zeros_like(values), values, offset, axis)
    if abs(offset) < n:
        target, source = _shifted_slices(values.ndim, axis, n, offset)
        total[target] += values[source]
    return total


def _first_pair(values: np.ndarray, offset: int, axis: int, out: np.ndarray | None = None) -> np.ndarray:
    """values + values shifted by offset, in one pass (no copy then add)."""
    n = values.shape[axis]
    total = np.empty_like(values) if out is None else out
    if abs(offset) >= n:
        total[...] = values
        return total
    target, source = _shifted_slices(values.ndim, axis, n, offset)
    np.add(values[target], values[source], out=total[target])
    rest = [slice(None)] * values.ndim
    rest[axis] = slice(n - offset, n) if offset > 0 else slice(0, -offset)
    total[tuple(rest)] = values[tuple(rest)]
    return total


def _shifted_slices(ndim: int, axis: int, n: int, offset: int) -> tuple[tuple, tuple]:
    target = [slice(None)] * ndim
    source = [slice(None)] * ndim
    target[axis] = slice(max(0, -offset), n - max(0, offset))
    source[axis] = slice(max(0, offset), n - max(0, -offset))
    return tuple(target), tuple(source)
