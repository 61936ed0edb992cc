"""Kernel density of occurrences on the grid, quartic kernel, in events per km².

The density at a point s is ``f(s) = sum_k K(d_k / h) / h²`` (times 10⁶ for km²),
with ``d_k`` the distance from s to occurrence k, h the bandwidth in metres and the
quartic (biweight) kernel ``K(u) = 3/π (1 - u²)²`` for ``u < 1``, 0 beyond; it
integrates to 1, so the density integrates to the number of occurrences. This is
ArcGIS's Kernel Density formula (Silverman 1986, p. 76, equation 4.5).

Default bandwidth (ArcGIS Pro, "How Kernel Density works", the default search radius,
itself Silverman's rule of thumb made 2-D and robust to spatial outliers)::

    h = 0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n^(-0.2)

with SD the standard distance of the points (sqrt of the mean squared distance to
their mean centre), Dm the median distance to the mean centre and n the number of points.

`kde_grid` is fast: it counts the points per cell and convolves the count grid with
the kernel sampled at the cell-centre offsets, so each point acts as if it stood at
the centre of its cell. That moves a point by at most δ = size / √2, and since
``|d/dd K(d/h)/h²| <= 8 / (π √3 h³)``, each point's contribution to any cell is off
by at most ``8 δ / (π √3 h³)`` per m², and only points within h + δ of a cell centre
contribute there (`binning_error_bound`). Points at cell centres give the exact sum. `kde_points` sums over
the points exactly (the reference, and the choice for few points).

Points are not clipped to the scope: an occurrence just outside the study area raises
the density inside it, as on the ground; cells outside the scope are NaN.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import signal
from scipy.spatial import cKDTree

from geo.analysis.hotspots.errors import HotspotInputError
from geo.analysis.hotspots.grid import Grid, count_points

PER_KM2 = 1e6
# Largest slope of u -> K(u), reached at u = 1/sqrt(3).
KERNEL_SLOPE_MAX = 8 / (math.pi * math.sqrt(3))


@dataclasses.dataclass(frozen=True, eq=False)
class Density:
    """Density per km² at each cell centre (NaN outside the scope) and the bandwidth used."""

    density: np.ndarray
    bandwidth: float
    n_points: int


def quartic(u) -> np.ndarray:
    """Quartic (biweight) kernel ``3/π (1 - u²)²`` for ``|u| < 1``, else 0.

    Examples
    --------
    >>> quartic(np.array([0.0, 0.5, 1.0])).round(4)
    array([0.9549, 0.5371, 0.    ])
    """
    u2 = np.square(u)
    return np.where(u2 < 1, 3 / math.pi * np.square(1 - u2), 0.0)


def default_bandwidth(x, y) -> float:
    """ArcGIS's default search radius for Kernel Density, in metres (see the module).

    Examples
    --------
    >>> round(default_bandwidth([0, 100, 0, 100, 50], [0, 0, 100, 100, 50]), 2)
    41.26
    """
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.size < 2:
        raise HotspotInputError("a default bandwidth needs at least two occurrences: give one in metres")
    dist = np.hypot(x - x.mean(), y - y.mean())
    standard = math.sqrt(np.mean(dist**2))
    bandwidth = 0.9 * min(standard, math.sqrt(1 / math.log(2)) * float(np.median(dist))) * x.size ** -0.2
    if not bandwidth > 0:
        raise HotspotInputError(
            "the occurrences are too concentrated for a default bandwidth (it comes out as 0): give one in metres")
    return bandwidth


def kde_grid(grid: Grid, x, y, bandwidth: float | None = None) -> Density:
    """Density per km² at the cell centres, by convolution of the binned points.

    Examples
    --------
    >>> grid = Grid(0, 0, 3, 3, size=100)
    >>> kde_grid(grid, [150.0], [150.0], bandwidth=200).density.round(1)
    array([[ 6. , 13.4,  6. ],
           [13.4, 23.9, 13.4],
           [ 6. , 13.4,  6. ]])
    """
    h = _bandwidth(x, y, bandwidth)
    r = math.ceil(h / grid.size)
    padded = Grid(grid.i0 - r, grid.j0 - r, grid.ni + 2 * r, grid.nj + 2 * r, grid.size)
    counts = count_points(padded, x, y).counts.astype(float)
    density = signal.convolve(counts, _kernel_weights(r, grid.size, h), mode="valid")
    np.maximum(density, 0.0, out=density)  # an FFT leaves ±1e-16 where the density is 0
    density[~grid.mask] = np.nan
    return Density(density, h, int(np.size(x)))


def kde_points(grid: Grid, x, y, bandwidth: float | None = None) -> Density:
    """Density per km² at the cell centres, summed exactly over the points (slow for many).

    Examples
    --------
    >>> kde_points(Grid(0, 0, 3, 3, size=100), [150.0], [150.0], bandwidth=200).density[1, 1].round(1)
    np.float64(23.9)
    """
    h = _bandwidth(x, y, bandwidth)
    xs, ys = grid.centres()
    centres = np.column_stack([xs[grid.mask], ys[grid.mask]])
    pairs = cKDTree(centres).sparse_distance_matrix(
        cKDTree(np.column_stack([np.ravel(x), np.ravel(y)])), h, output_type="coo_matrix")
    values = np.bincount(pairs.row, weights=quartic(pairs.data / h), minlength=len(centres))
    density = np.full(grid.shape, np.nan)
    density[grid.mask] = values / h**2 * PER_KM2
    return Density(density, h, int(np.size(x)))


def binning_error_bound(n_points, size: float, bandwidth: float):
    """Largest difference per km² between `kde_grid` and `kde_points` at a cell centre.

    ``n_points`` is the number of points within ``bandwidth + size / √2`` of that
    centre (the only ones whose binning can change its density).

    Examples
    --------
    >>> round(binning_error_bound(10, 100, 500), 1)
    8.3
    """
    return n_points * KERNEL_SLOPE_MAX * (size / math.sqrt(2)) / bandwidth**3 * PER_KM2


def _kernel_weights(r: int, size: float, h: float) -> np.ndarray:
    di, dj = np.mgrid[-r:r + 1, -r:r + 1]
    return quartic(np.hypot(di, dj) * size / h) / h**2 * PER_KM2


def _bandwidth(x, y, bandwidth: float | None) -> float:
    if np.size(x) == 0:
        raise HotspotInputError("there is no occurrence to estimate a density from")
    if bandwidth is None:
        return default_bandwidth(x, y)
    if not bandwidth > 0:
        raise HotspotInputError(f"the bandwidth must be a positive number of metres, not {bandwidth}")
    return float(bandwidth)
