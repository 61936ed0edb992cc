"""The hexagon grid: anchored ids, the tie rule, scopes, counts, weights, and Gi* against esda."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import shapely
from esda.getisord import G_Local
from libpysal.weights import DistanceBand, Rook, W
from shapely import MultiPolygon, Point, Polygon, box

from geo.analysis.hotspots import HotspotInputError
from geo.analysis.hotspots.hexgrid import (
    HexScope,
    hex_centres,
    hex_circumradius,
    hex_counts,
    hex_gistar,
    hex_ids,
    hex_polygons,
    hex_scope,
    hex_weights,
)

TOLERANCE = 1e-9
PARIS = (652_000.0, 6_862_000.0)  # Lambert-93, near Notre-Dame


def lattice_units(size):
    """(w / 2, R / 2), the steps in which vertices and centres are laid out."""
    radius = hex_circumradius(size)
    return math.sqrt(3) * radius / 2, radius / 2


def cube_round(x, y, size):
    """Textbook cube rounding (redblobgames), the reference away from boundaries."""
    radius = hex_circumradius(size)
    qf = (math.sqrt(3) / 3 * x - y / 3) / radius
    rf = 2 / 3 * y / radius
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def random_scope(rng, size=200.0, drop=0.15) -> HexScope:
    """A few hundred hexagons: a disc with a hole, an outlying patch and random gaps."""
    x0, y0 = PARIS
    disc = Point(x0, y0).buffer(14 * size).difference(Point(x0 + 4 * size, y0).buffer(3 * size))
    area = MultiPolygon([*disc.geoms] if disc.geom_type == "MultiPolygon" else [disc])
    area = area.union(box(x0 + 17 * size, y0, x0 + 20 * size, y0 + 3 * size))
    scope = hex_scope(area, size)
    keep = rng.random(scope.n_cells) > drop
    return HexScope(scope.q[keep], scope.r[keep], size)


def esda_zs(values, weights) -> np.ndarray:
    """esda's Gi* on a libpysal W built from our neighbour lists, the diagonal left out."""
    n = weights.shape[0]
    neighbours = {i: [int(j) for j in weights.indices[weights.indptr[i]:weights.indptr[i + 1]] if j != i]
                  for i in range(n)}
    w = W(neighbours, silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return G_Local(np.asarray(values, float), w, transform="B", star=True, permutations=0).Zs


# --- ids: anchored, stable, and the size convention ---------------------------------


def test_origin_is_the_centre_of_hexagon_0_0():
    q, r = hex_ids([0.0, 1e-9, -1e-9], [0.0, -1e-9, 1e-9], size=200)
    assert q.tolist() == [0, 0, 0] and r.tolist() == [0, 0, 0]
    x, y = hex_centres([0], [0], size=200)
    assert (x.tolist(), y.tolist()) == ([0.0], [0.0])


def test_centres_map_back_to_their_ids_far_from_the_origin():
    rng = np.random.default_rng(0)
    q = rng.integers(-20_000, 20_000, 2000)
    r = rng.integers(30_000, 40_000, 2000)
    back = hex_ids(*hex_centres(q, r, size=200), size=200)
    assert np.array_equal(back[0], q) and np.array_equal(back[1], r)


def test_ids_are_stable_and_do_not_depend_on_the_study_area():
    x, y = PARIS
    assert [a.tolist() for a in hex_ids([x], [y], size=200)] == [[-15_400], [36_868]]
    small = hex_scope(box(x, y, x + 1000, y + 1000), size=200)
    large = hex_scope(box(x - 5000, y - 5000, x + 5000, y + 5000), size=200)
    at = large.index_of(small.q, small.r)
    assert (at >= 0).all()
    assert np.array_equal(np.column_stack(small.centres()), np.column_stack(large.centres())[at])


@pytest.mark.parametrize("size", [1.0, 50.0, 200.0, 333.3])
def test_hexagon_area_equals_size_squared(size):
    cells = hex_polygons([0, 1, -7, 12_345], [0, 0, 3, 36_868], size=size)
    assert np.abs(shapely.area(cells) / size**2 - 1).max() < TOLERANCE
    radius = hex_circumradius(size)
    assert radius == pytest.approx(size * math.sqrt(2 / (3 * math.sqrt(3))), rel=1e-15)
    # the side of a regular hexagon is its circumradius, the spacing of centres sqrt(3) R
    assert shapely.length(cells[0]) == pytest.approx(6 * radius, rel=1e-12)
    x, _ = hex_centres([1], [0], size=size)
    assert x[0] == pytest.approx(math.sqrt(3) * radius, rel=1e-12)


def test_neighbouring_hexagons_tile_without_gap_or_overlap():
    cells = hex_polygons([0, 1, 0, -1, -1, 0, 1], [0, 0, 1, 1, 0, -1, -1], size=200)
    for neighbour in cells[1:]:
        shared = cells[0].intersection(neighbour)
        assert shared.geom_type == "LineString"
        assert shared.length == pytest.approx(hex_circumradius(200), rel=1e-12)
    assert shapely.union_all(cells).area == pytest.approx(7 * 200**2, rel=1e-12)


# --- the tie rule: a boundary point goes to the greatest (r, q) -----------------------


def test_a_vertical_edge_goes_to_the_eastern_hexagon():
    half_w, half_r = lattice_units(200)
    y = np.array([-0.99, -0.5, 0.0, 0.3, 0.99]) * half_r
    east = hex_ids(np.full(5, half_w), y, size=200)
    west = hex_ids(np.full(5, -half_w), y, size=200)
    assert east[0].tolist() == [1] * 5 and east[1].tolist() == [0] * 5
    assert west[0].tolist() == [0] * 5 and west[1].tolist() == [0] * 5


def exact_multiple(target, unit):
    """A float y with y / unit == target exactly, searched within a few ulps of target * unit."""
    below = above = target * unit
    for _ in range(4):
        for y in (below, above):
            if y / unit == target:
                return y
        below, above = np.nextafter(below, -np.inf), np.nextafter(above, np.inf)
    return None


def test_every_edge_of_hexagon_0_0_goes_to_the_northern_or_eastern_side():
    half_w, half_r = lattice_units(200)
    vertices = [(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1)]  # in units of (w / 2, R / 2)
    across = [(0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1), (1, 0)]  # the neighbour beyond each edge
    tested = 0
    for k, neighbour in enumerate(across):
        (u0, v0), (u1, v1) = vertices[k], vertices[(k + 1) % 6]
        expected = max([(0, 0), neighbour], key=lambda qr: (qr[1], qr[0]))
        for t in (0.25, 0.5, 0.75):
            y = exact_multiple(v0 + t * (v1 - v0), half_r)
            if y is None:
                continue
            q, r = hex_ids([(u0 + t * (u1 - u0)) * half_w], [y], size=200)
            assert (int(q[0]), int(r[0])) == expected, (k, t)
            tested += 1
    assert tested >= 15
    # so hexagon (0, 0) keeps its west, south-west and south-east edges


def test_a_vertex_goes_to_the_northernmost_then_easternmost_of_its_three_hexagons():
    half_w, half_r = lattice_units(200)
    steps = [(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1)]  # vertices of hexagon (0, 0)
    around = np.array([(q, r) for q in range(-2, 3) for r in range(-2, 3)])
    cx, cy = hex_centres(around[:, 0], around[:, 1], size=200)
    owners = []
    for a, b in steps:
        x, y = a * half_w, b * half_r
        sharing = around[np.isclose(np.hypot(cx - x, cy - y), hex_circumradius(200))]
        assert len(sharing) == 3
        expected = max(sharing.tolist(), key=lambda qr: (qr[1], qr[0]))
        q, r = hex_ids([x], [y], size=200)
        assert [q[0], r[0]] == expected
        owners.append(expected == [0, 0])
    # hexagon (0, 0) keeps its south-west and south vertices only
    assert owners == [False, False, False, True, True, False]


@pytest.mark.parametrize("origin", [(0.0, 0.0), PARIS])
def test_points_either_side_of_each_edge_go_to_their_own_hexagon(origin):
    centre = hex_ids([origin[0]], [origin[1]], size=200)
    q0, r0 = int(centre[0][0]), int(centre[1][0])
    neighbours = [(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)]
    x0, y0 = hex_centres([q0], [r0], size=200)
    for dq, dr in neighbours:
        x1, y1 = hex_centres([q0 + dq], [r0 + dr], size=200)
        mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
        normal = np.array([x1 - x0, y1 - y0]).ravel() / np.hypot(x1 - x0, y1 - y0)
        along = np.array([-normal[1], normal[0]])
        for t in (-0.4, 0.0, 0.4):  # along the edge, whose half-length is R / 2
            px, py = mid_x + t * hex_circumradius(200) * along[0], mid_y + t * hex_circumradius(200) * along[1]
            inner = hex_ids(px - 1e-6 * normal[0], py - 1e-6 * normal[1], size=200)
            outer = hex_ids(px + 1e-6 * normal[0], py + 1e-6 * normal[1], size=200)
            assert (int(inner[0][0]), int(inner[1][0])) == (q0, r0)
            assert (int(outer[0][0]), int(outer[1][0])) == (q0 + dq, r0 + dr)


# --- every point in its hexagon ----------------------------------------------------------


@pytest.mark.parametrize("size", [37.5, 200.0])
def test_random_points_fall_in_the_polygon_of_their_hexagon(size):
    rng = np.random.default_rng(5)
    x = PARIS[0] + rng.uniform(-5000, 5000, 20_000)
    y = PARIS[1] + rng.uniform(-5000, 5000, 20_000)
    q, r = hex_ids(x, y, size=size)
    cells = hex_polygons(q, r, size=size)
    assert shapely.contains_xy(cells, x, y).all()
    # away from boundaries the floor rule is the textbook cube rounding
    assert all(np.array_equal(a, b) for a, b in zip((q, r), cube_round(x, y, size)))


# --- scope and counts ------------------------------------------------------------------


def test_scope_holds_the_hexagons_whose_centre_is_inside_the_area():
    ring = Polygon([(0, 0), (3000, 0), (3000, 2500), (0, 2500)], [[(1000, 800), (1800, 800), (1800, 1600), (1000, 1600)]])
    area = MultiPolygon([ring, box(4000, 0, 4600, 700)])
    scope = hex_scope(area, size=200)
    qs, rs = np.meshgrid(np.arange(-30, 40), np.arange(-10, 30))
    x, y = hex_centres(qs.ravel(), rs.ravel(), size=200)
    inside = shapely.contains_xy(area, x, y)
    assert sorted(zip(scope.q.tolist(), scope.r.tolist())) == sorted(zip(qs.ravel()[inside].tolist(), rs.ravel()[inside].tolist()))
    assert np.all(np.diff(scope.keys) > 0)  # south to north, then west to east
    # hexagon (0, 0) has its centre on the boundary: out, as on the square grid
    assert scope.index_of([0], [0]).tolist() == [-1]
    assert not shapely.contains_xy(box(1000, 800, 1800, 1600), *scope.centres()).any()


def test_counts_sum_to_the_points_inside_and_match_the_ids():
    rng = np.random.default_rng(7)
    scope = random_scope(rng)
    x = PARIS[0] + rng.uniform(-4000, 5000, 5000)
    y = PARIS[1] + rng.uniform(-4000, 4000, 5000)
    x[:3], y[:3] = 1e13, -1e13  # placeholder coordinates: outside, not an error
    result = hex_counts(scope, x, y)
    assert result.counts.shape == (scope.n_cells,) and result.counts.dtype == np.int64
    index = scope.index_of(*hex_ids(x[3:], y[3:], size=scope.size))
    expected = np.bincount(index[index >= 0], minlength=scope.n_cells)
    assert np.array_equal(result.counts, expected)
    assert result.counts.sum() + result.outside == x.size
    assert result.outside == 3 + np.count_nonzero(index < 0)


def test_counts_keep_zero_cells_and_an_empty_point_set():
    scope = HexScope([0, 1, 2], [0, 0, 0], size=100)
    assert hex_counts(scope, [], []).counts.tolist() == [0, 0, 0]
    nowhere = hex_counts(HexScope(np.array([], int), np.array([], int), size=100), [5.0], [5.0])
    assert (nowhere.counts.tolist(), nowhere.outside) == ([], 1)


# --- weights -------------------------------------------------------------------------


def test_weights_count_six_neighbours_and_self_inside_fewer_at_the_edge():
    scope = hex_scope(box(0, 0, 3000, 3000), size=200)
    w = hex_weights(scope)
    assert (w != w.T).nnz == 0
    assert np.array_equal(w.diagonal(), np.ones(scope.n_cells))
    per_row = np.diff(w.indptr)
    interior = scope.index_of([3], [7])[0]
    assert per_row[interior] == 7
    assert per_row.max() == 7 and per_row.min() < 7
    two = np.diff(hex_weights(scope, rings=2).indptr)
    assert two[interior] == 19 and two.min() < 19


@pytest.mark.parametrize("rings", [1, 2])
def test_weights_equal_a_distance_band_on_the_centres(rings):
    scope = random_scope(np.random.default_rng(3))
    spacing = math.sqrt(3) * hex_circumradius(scope.size)
    # ring k reaches k spacings; the nearest hexagon one ring further is sqrt(3) or sqrt(7) spacings away
    band = DistanceBand(np.column_stack(scope.centres()), threshold=(rings + 0.1) * spacing, binary=True,
                        silence_warnings=True)
    off_diagonal = hex_weights(scope, rings).tolil()
    off_diagonal.setdiag(0)
    assert (off_diagonal.tocsr() != band.sparse).nnz == 0


def test_one_ring_weights_equal_rook_contiguity_of_the_polygons():
    scope = random_scope(np.random.default_rng(4))
    rook = Rook.from_iterable(list(scope.polygons()), silence_warnings=True)
    off_diagonal = hex_weights(scope).tolil()
    off_diagonal.setdiag(0)
    assert (off_diagonal.tocsr() != rook.sparse).nnz == 0


# --- Gi* -------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "rings"), [(11, 1), (12, 1), (13, 2)])
def test_hex_gistar_equals_esda(seed, rings):
    rng = np.random.default_rng(seed)
    scope = random_scope(rng)
    assert 300 <= scope.n_cells <= 900
    counts = rng.poisson(1.2, scope.n_cells)
    counts[scope.index_of(scope.q[:5], scope.r[:5])] += 9  # a cluster in the south
    result = hex_gistar(scope, counts, rings=rings)
    expected = esda_zs(counts, hex_weights(scope, rings))
    assert np.abs(result.z - expected).max() < TOLERANCE
    assert result.moments.n == scope.n_cells
    assert result.gi_bin.shape == (scope.n_cells,)


def test_hex_gistar_uses_raw_p_when_asked():
    rng = np.random.default_rng(14)
    scope = random_scope(rng)
    counts = rng.poisson(1.0, scope.n_cells)
    raw, adjusted = hex_gistar(scope, counts, fdr=False), hex_gistar(scope, counts)
    assert np.array_equal(raw.z, adjusted.z)
    assert np.count_nonzero(raw.gi_bin) >= np.count_nonzero(adjusted.gi_bin)


# --- edge cases ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -200, float("nan"), float("inf")])
def test_a_size_must_be_positive(size):
    with pytest.raises(HotspotInputError, match="the cell size must be positive"):
        hex_ids([0.0], [0.0], size=size)
    with pytest.raises(HotspotInputError, match="the cell size must be positive"):
        hex_scope(box(0, 0, 1000, 1000), size=size)


def test_an_empty_area_is_refused():
    with pytest.raises(HotspotInputError, match="the study area is empty"):
        hex_scope(Polygon(), size=200)
    with pytest.raises(HotspotInputError, match="the study area is empty"):
        hex_scope(None, size=200)


def test_coordinates_must_be_finite_and_pair_up():
    with pytest.raises(HotspotInputError, match="every coordinate must be a finite number"):
        hex_ids([0.0, np.nan], [0.0, 0.0])
    with pytest.raises(HotspotInputError, match="must pair up"):
        hex_counts(HexScope([0], [0]), [0.0, 1.0], [0.0])
    with pytest.raises(HotspotInputError, match="off the hexagon lattice"):
        hex_ids([1e15], [0.0])


def test_scope_ids_are_unique_integers():
    with pytest.raises(HotspotInputError, match="appears twice"):
        HexScope([0, 1, 0], [0, 0, 0])
    with pytest.raises(HotspotInputError, match="must be integers"):
        HexScope([0.5], [0])
    with pytest.raises(HotspotInputError, match="must pair up"):
        HexScope([0, 1], [0])


@pytest.mark.parametrize("rings", [-1, 1.5, True, "1"])
def test_rings_must_be_a_whole_number(rings):
    with pytest.raises(HotspotInputError, match="rings must be a whole number"):
        hex_weights(HexScope([0, 1], [0, 0]), rings)


def test_gistar_edge_cases_keep_the_engine_messages():
    empty = hex_scope(box(10, 10, 20, 20), size=200)  # no centre inside
    assert empty.n_cells == 0
    with pytest.raises(HotspotInputError, match="no cell of the grid lies in the study area: the scope is empty"):
        hex_gistar(empty, [])
    scope = hex_scope(box(0, 0, 2000, 2000), size=200)
    with pytest.raises(HotspotInputError, match="every cell has the same count"):
        hex_gistar(scope, np.full(scope.n_cells, 2))
    with pytest.raises(HotspotInputError, match="no occurrence falls in the study area"):
        hex_gistar(scope, np.zeros(scope.n_cells))
    with pytest.raises(HotspotInputError, match=f"the weights are {scope.n_cells} x {scope.n_cells} for 3 units"):
        hex_gistar(scope, [1, 2, 3])
