"""Cameras: the wedge's geometry, the loader's checks and attribution, the scope, and the coverage of a commune
(exact shares on hand-made occurrences, no hot cell on null data, a planted cluster covered by a camera)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from geo.accounts.users import SectorRef, UserScope
from geo.errors import NotFound
from geo.referents.cameras import (
    BadCamerasError,
    Camera,
    coverage,
    covered_by,
    in_wedge,
    list_cameras,
    load_cameras,
    to_wgs84,
    wedge,
)
from geo.settings import local_today
from tests.fixtures.cameras import X0, Y0, camera_file, camera_line, plant, polar

ADMIN = UserScope("admin")


# -- the wedge ----------------------------------------------------------------------------

@pytest.mark.parametrize("bearing, fov, point, inside", [
    (0, 90, polar(50, 0), True),  # due north, in a north-facing wedge
    (0, 90, polar(50, 180), False),  # behind it
    (350, 40, polar(50, 5), True),  # across north: 330 to 10
    (350, 40, polar(50, 335), True),
    (350, 40, polar(50, 20), False),
    (350, 40, polar(50, 325), False),
    (90, 60, polar(50, 100), True),  # east-facing: +x
    (90, 60, polar(50, 10), False),
    (0, 360, polar(50, 217), True),  # a dome sees everywhere within range
    (0, 90, polar(99.9, 0), True),  # the range boundary
    (0, 90, polar(100.1, 0), False),
    (0, 360, polar(100.1, 217), False),
])
def test_the_wedge_covers_what_it_faces(bearing, fov, point, inside):
    polygon = wedge(1000.0, 2000.0, bearing, fov, 100)
    x, y = 1000.0 + point[0], 2000.0 + point[1]
    assert polygon.contains(shapely.Point(x, y)) is inside
    assert bool(in_wedge(np.array([x]), np.array([y]), 1000.0, 2000.0, bearing, fov, 100)[0]) is inside


def test_a_dome_is_a_disc_and_a_wedge_its_sector():
    assert wedge(0, 0, 123, 360, 100).area == pytest.approx(np.pi * 100 ** 2, rel=1e-3)
    assert wedge(0, 0, 350, 40, 100).area == pytest.approx(np.pi * 100 ** 2 * 40 / 360, rel=1e-3)
    assert wedge(0, 0, 350, 40, 100).is_valid and wedge(0, 0, 0, 360, 100).is_valid


@settings(max_examples=60, deadline=None, derandomize=True)
@given(bearing=st.floats(0, 359.9), fov=st.floats(1, 360), px=st.floats(-120, 120), py=st.floats(-120, 120))
def test_the_exact_test_and_the_drawn_wedge_agree(bearing, fov, px, py):
    polygon = wedge(0, 0, bearing, fov, 100)
    if polygon.exterior.distance(shapely.Point(px, py)) < 0.05:  # on the drawing's edge: chords and arc differ
        return
    assert polygon.contains(shapely.Point(px, py)) == bool(in_wedge(np.array([px]), np.array([py]), 0, 0, bearing,
                                                                    fov, 100)[0])


_cameras = st.lists(st.tuples(st.floats(-200, 200), st.floats(-200, 200), st.floats(0, 359.9), st.floats(1, 360),
                              st.floats(5, 150)), max_size=5)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(cameras=_cameras, extra=_cameras, seed=st.integers(0, 1000))
def test_adding_a_camera_never_lowers_coverage(cameras, extra, seed):
    points = np.random.default_rng(seed).uniform(-250, 250, size=(200, 2))
    make = lambda rows: [Camera(None, "c", x, y, 0, 0, b, f, r, "existing", "autre", None)  # noqa: E731
                         for x, y, b, f, r in rows]
    before = covered_by(points[:, 0], points[:, 1], make(cameras))
    after = covered_by(points[:, 0], points[:, 1], make(cameras + extra))
    assert (after | ~before).all()  # every point covered before still is


# -- loading ------------------------------------------------------------------------------

def test_a_file_of_cameras_is_loaded_and_attributed(engine, territory, tmp_path):
    path = camera_file(tmp_path, camera_line("C1", 0, 0, 0, 90, 50), camera_line("C2", 40, 0, 90, 360, 30,
                                                                                  "proposée", "bailleur"))
    report = load_cameras(engine, path, source="ville")
    assert report.lines() == ["cameras.csv: 2 rows read, 2 cameras added, 0 updated, 0 unchanged (source 'ville')."]
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT c.external_id, c.status, c.owner, c.commune_insee, s.code, c.bearing, "
                                    "c.fov, c.range_m FROM camera c LEFT JOIN sector s ON s.id = c.sector_id "
                                    "ORDER BY 1")).all()
    assert [tuple(r)[:4] for r in rows] == [("C1", "existing", "commune", "90010"), ("C2", "proposed", "bailleur",
                                                                                      "90010")]
    assert all(r.code is not None for r in rows)  # the sector version valid today
    assert [tuple(r)[5:] for r in rows] == [(0, 90, 50), (90, 360, 30)]
    again = load_cameras(engine, path, source="ville")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    turned = load_cameras(engine, camera_file(tmp_path, camera_line("C1", 0, 0, 45, 90, 50)), source="ville")
    assert (turned.added, turned.updated, turned.unchanged) == (0, 1, 0)


def test_a_dome_needs_no_bearing_and_a_geojson_gives_its_feature_ids(engine, territory, tmp_path):
    lat, lon = to_wgs84([X0], [Y0])
    feature = {"type": "Feature", "id": "F1", "geometry": {"type": "Point", "coordinates": [lon[0], lat[0]]},
               "properties": {"fov": 360, "range": 40, "status": "existante", "owner": "transporteur"}}
    path = tmp_path / "cameras.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert load_cameras(engine, path).added == 1
    [camera] = list_cameras(engine, ADMIN)
    assert (camera.external_id, camera.bearing, camera.fov, camera.owner_label) == ("F1", 0, 360, "Transporteur")
    assert (camera.x, camera.y) == pytest.approx((X0, Y0), abs=0.01)


def test_a_bad_row_refuses_the_file_naming_each_line_and_field(engine, territory, tmp_path):
    path = camera_file(tmp_path,
                       camera_line("C1", 0, 0, 0, 90, 50),
                       camera_line("C2", 0, 0, 0, 90, 50, status="broken"),
                       camera_line("C3", 0, 0, 400, 90, 50),
                       camera_line("C4", 0, 0, 0, 0, 50),
                       camera_line("C5", 0, 0, 0, 90, "loin"),
                       "C6,43.3,5.4,0,90,50,existing,commune\n",  # Marseille: far outside
                       camera_line("C1", 10, 0, 0, 90, 50),
                       camera_line("C8", 0, 0, 0, 90, 50, owner="police"))
    with pytest.raises(BadCamerasError) as caught:
        load_cameras(engine, path)
    assert caught.value.problems[0] == "cameras.csv: 7 of 8 rows are bad; nothing was written."
    problems = caught.value.problems[1:]
    assert problems[0] == "line 3: unknown status 'broken' (known: existing, proposed)."
    assert problems[1] == "line 4: bearing 400 must be at least 0 and below 360 (degrees clockwise from north)."
    assert problems[2] == "line 5: fov 0 must be above 0 and at most 360."
    assert problems[3] == "line 6: range 'loin' is not a number."
    assert problems[4].startswith("line 7: point (lat 43.3, lon 5.4) lies") and "km outside" in problems[4]
    assert problems[5] == "line 8: id 'C1' already used on line 2."
    assert problems[6] == "line 9: unknown owner 'police' (known: commune, bailleur, transporteur, autre)."
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM camera")).scalar() == 0


def test_a_camera_in_no_loaded_commune_is_refused(engine, territory, tmp_path):
    # 5 km west of the département's edge (Haute-Saône, not loaded): within the margin, in no commune
    path = camera_file(tmp_path, camera_line("C1", 0, 0, 0, 90, 50), "C2,47.65,6.70,0,90,50,existing,commune\n")
    with pytest.raises(BadCamerasError) as caught:
        load_cameras(engine, path)
    assert caught.value.problems[1:] == ["line 3: the point (lat 47.650000, lon 6.700000) lies in no loaded commune."]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM camera")).scalar() == 0


def test_each_user_sees_the_cameras_of_his_scope(engine, territory, tmp_path):
    far_x, far_y = Transformer.from_crs(4326, 2154, always_xy=True).transform(6.95, 47.50)  # Delle's side
    lat, lon = to_wgs84([far_x], [far_y])
    load_cameras(engine, camera_file(tmp_path, camera_line("C1", 0, 0, 0, 90, 50),
                                     f"C2,{lat[0]:.6f},{lon[0]:.6f},0,90,50,existing,autre\n"))
    with engine.connect() as conn:
        insee2, sector = conn.execute(sa.text(
            "SELECT c.commune_insee, (SELECT s.csp_id || ':' || s.code FROM sector s WHERE s.id = c.sector_id) "
            "FROM camera c WHERE external_id = 'C2'")).one()
        csp_id, code, csp_name = conn.execute(sa.text(
            "SELECT s.csp_id, s.code, p.name FROM camera c JOIN sector s ON s.id = c.sector_id JOIN csp p "
            "ON p.id = s.csp_id WHERE c.external_id = 'C1'")).one()
    assert insee2 != "90010"
    ids = lambda scope, **k: [c.external_id for c in list_cameras(engine, scope, **k)]  # noqa: E731
    assert ids(ADMIN) == ["C1", "C2"] and ids(UserScope("referent")) == ["C1", "C2"]
    assert ids(ADMIN, commune="90010") == ["C1"]
    assert ids(UserScope("maire", commune_insee="90010")) == ["C1"]
    assert ids(UserScope("chef_secteur", sectors=(SectorRef(csp_id, csp_name, code),))) == ["C1"]
    assert ids(UserScope("chef_secteur")) == [] and ids(UserScope("partenaire")) == []
    assert sector is None or sector != f"{csp_id}:{code}"


# -- coverage -----------------------------------------------------------------------------

def test_the_share_covered_is_exact(engine, territory, tmp_path):
    inside = [(X0 + dx, Y0 + dy) for dx, dy in (polar(30, 0), polar(30, 0), polar(45, 40), polar(10, 320))]
    outside = [(X0 + dx, Y0 + dy) for dx, dy in (polar(30, 180), polar(60, 0), polar(30, 60))]
    plant(engine, inside + outside)
    plant(engine, [(X0, Y0 + 30)], day=local_today() - dt.timedelta(days=400))  # before the default period
    plant(engine, [(X0, Y0 + 30)], category="rodeos")
    # C2 proposed, C3 behind: neither counts; C1 looks north, 90 degrees, 50 m.
    load_cameras(engine, camera_file(tmp_path, camera_line("C1", 0, 0, 0, 90, 50),
                                     camera_line("C2", 0, 0, 180, 90, 50, status="proposed")))
    result = coverage(engine, ADMIN, "90010", categories=["stupefiants"])
    assert (result.occurrences, result.covered, result.share) == (7, 4, 4 / 7)
    assert [c.external_id for c in result.cameras] == ["C1"] and len(result.wedges) == 1
    every = coverage(engine, ADMIN, "90010")
    assert (every.occurrences, every.covered) == (8, 5)
    both = coverage(engine, ADMIN, "90010", cameras=list_cameras(engine, ADMIN))  # the proposed one too
    assert (both.occurrences, both.covered) == (8, 6)
    window = coverage(engine, ADMIN, "90010", first=local_today() - dt.timedelta(days=500),
                      last=local_today() - dt.timedelta(days=300))
    assert (window.occurrences, window.covered, window.share) == (1, 1, 1.0)


def test_no_occurrence_gives_no_share(engine, territory):
    result = coverage(engine, ADMIN, "90010")
    assert (result.occurrences, result.covered, result.share, result.hot_cells) == (0, 0, None, ())
    assert result.note is not None


def test_a_commune_out_of_scope_is_refused(engine, territory):
    with pytest.raises(NotFound):
        coverage(engine, UserScope("maire", commune_insee="90011"), "90010")


def _commune(engine, insee="90010"):
    with engine.connect() as conn:
        return shapely.from_wkb(bytes(conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM commune WHERE insee = :i"),
                                                   {"i": insee}).scalar()))


def uniform_points(area, n, seed):
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = area.bounds
    points = []
    while len(points) < n:
        x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
        if area.contains(shapely.Point(x, y)):
            points.append((x, y))
    return points


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_null_data_gives_no_hot_cell(engine, territory, seed):
    plant(engine, uniform_points(_commune(engine), 300, seed))
    result = coverage(engine, ADMIN, "90010")
    assert result.occurrences == 300 and result.hot_cells == ()


def test_a_planted_cluster_is_an_uncovered_hot_cell_until_a_camera_sees_it(engine, territory):
    cx, cy = (np.floor(X0 / 200) + 0.5) * 200, (np.floor(Y0 / 200) + 0.5) * 200  # the town hall's cell centre
    rng = np.random.default_rng(7)
    cluster = [(cx + dx, cy + dy) for dx, dy in rng.uniform(-20, 20, size=(30, 2))]
    plant(engine, cluster + uniform_points(_commune(engine), 150, 8))
    result = coverage(engine, ADMIN, "90010")
    cell = (int(np.floor(cx / 200)), int(np.floor(cy / 200)))
    hot = {(c.i, c.j): c for c in result.hot_cells}
    assert cell in hot and hot[cell].uncovered and hot[cell].occurrences >= 30
    assert cell in {(c.i, c.j) for c in result.uncovered_hot_cells}
    dome = Camera(None, "new", cx, cy, 0, 0, 0, 360, 40, "proposed", "autre", None)
    seen = coverage(engine, ADMIN, "90010", cameras=[dome])
    covered_cell = {(c.i, c.j): c for c in seen.hot_cells}[cell]
    assert covered_cell.covered >= 30 and not covered_cell.uncovered
    assert cell not in {(c.i, c.j) for c in seen.uncovered_hot_cells}


def test_a_chief_counts_only_the_part_of_the_commune_his_sectors_cover(engine, territory, tmp_path):
    plant(engine, [(X0, Y0)] * 3)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT s.csp_id, p.name, s.code, ST_Intersects(s.geom, ST_SetSRID(ST_MakePoint(:x, :y), 2154)) AS here "
            "FROM sector s JOIN csp p ON p.id = s.csp_id WHERE s.valid_to IS NULL ORDER BY s.code"),
            {"x": X0, "y": Y0}).all()
    mine = [r for r in rows if r.here][0]
    others = [r for r in rows if not r.here]
    chief = UserScope("chef_secteur", sectors=(SectorRef(mine.csp_id, mine.name, mine.code),))
    assert coverage(engine, chief, "90010").occurrences == 3
    other = UserScope("chef_secteur", sectors=tuple(SectorRef(r.csp_id, r.name, r.code) for r in others))
    assert coverage(engine, other, "90010").occurrences == 0
    with pytest.raises(NotFound):
        coverage(engine, UserScope("partenaire"), "90010")
