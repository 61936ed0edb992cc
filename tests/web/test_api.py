"""The JSON and vector-tile endpoints of web/api/maps.py: scope, parameters, content, index use."""

from __future__ import annotations

import math
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from geo.db.queries import named_query
from geo.settings import LOCAL_TZ
from tests.fixtures.accounts import CHIEF, account, client_as
from tests.fixtures.territory import plant_occurrences

BASE = "/api/secteurs/" + quote("CSP Belfort")
PERIOD = "du=2025-11-16&au=2026-11-15"
# A view over the centre of Belfort, and the zoom-15 tile holding it.
BBOX = "6.84,47.63,6.88,47.65"
CENTRE = (6.862, 47.638)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def cells_url(code: str = "BEL-CENTRE", bbox: str = BBOX, extra: str = "") -> str:
    return f"{BASE}/{code}/cellules?bbox={bbox}&{PERIOD}{extra}"


def tile_url(code: str = "BEL-CENTRE", z: int = 15) -> str:
    z, x, y = tile_of(*CENTRE, z)
    return f"{BASE}/{code}/tuiles/{z}/{x}/{y}.mvt?{PERIOD}"


@pytest.fixture
def planted(engine, territory):
    plant_occurrences(engine, "BEL-CENTRE", 20_000)


@pytest.fixture
def chief(app, engine, territory, login):
    return client_as(app, login, *account(engine, CHIEF[0], "chef_secteur", CHIEF[1],
                                          sectors=["BEL-CENTRE", "BEL-GLACIS"]))


def other_sector(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT code FROM sector WHERE code NOT IN ('BEL-CENTRE', 'BEL-GLACIS') ORDER BY code LIMIT 1")).scalar()


# -- cells ---------------------------------------------------------------------------------


def test_cells_are_counts_of_200_m_cells_inside_the_sector_and_view(chief, planted, engine):
    response = chief.get(cells_url())
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    data = response.get_json()
    assert data["type"] == "FeatureCollection" and data["features"]
    counts = [f["properties"]["count"] for f in data["features"]]
    assert min(counts) > 0
    first = data["features"][0]
    assert set(first["properties"]) == {"i", "j", "count"}
    assert first["geometry"]["type"] == "Polygon"
    lon0, lat0, lon1, lat1 = map(float, BBOX.split(","))
    with engine.connect() as conn:
        expected = conn.execute(sa.text(
            "SELECT count(*) FROM occurrence o, sector s WHERE s.code = 'BEL-CENTRE' AND ST_Intersects(o.geom, s.geom) "
            "AND ST_Intersects(o.geom, ST_Transform(ST_MakeEnvelope(:a, :b, :c, :d, 4326), 2154))"),
            {"a": lon0, "b": lat0, "c": lon1, "d": lat1}).scalar()
    assert sum(counts) == expected
    # Every cell is a 200 m square anchored at the Lambert-93 origin.
    with engine.connect() as conn:
        side = conn.execute(sa.text("SELECT ST_Perimeter(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326), 2154))"),
                            {"g": str(first["geometry"]).replace("'", '"')}).scalar()
    assert side == pytest.approx(800, abs=1)


def test_cells_follow_the_category_filter(chief, planted):
    everything = sum(f["properties"]["count"] for f in chief.get(cells_url()).get_json()["features"])
    drugs = sum(f["properties"]["count"] for f in chief.get(cells_url(extra="&categorie=stupefiants"))
                .get_json()["features"])
    assert 0 < drugs < everything


def test_cells_of_a_view_outside_the_sector_are_empty(chief, planted):
    response = chief.get(cells_url(bbox="2.30,48.80,2.40,48.90"))
    assert response.status_code == 200 and response.get_json()["features"] == []


@pytest.mark.parametrize("bbox", [None, "", "1,2,3", "a,b,c,d", "6.9,47.6,6.8,47.7", "nan,47,7,48",
                                  "200,0,201,1", "6.8,47.6,6.9,47.7,1", "inf,47,7,48"])
def test_bad_bbox_is_400_json_in_french(chief, bbox):
    url = f"{BASE}/BEL-CENTRE/cellules?{PERIOD}" + ("" if bbox is None else f"&bbox={bbox}")
    response = chief.get(url)
    assert response.status_code == 400
    assert "bbox" in response.get_json()["error"]


@pytest.mark.parametrize("extra, words", [("&du=2026-13-01", "n'est pas une date valide"),
                                          ("&du=2026-06-01&au=2026-01-01", "après sa fin"),
                                          ("&categorie=vol", "Catégorie inconnue")])
def test_bad_period_or_category_is_400_json_in_french(chief, extra, words):
    response = chief.get(f"{BASE}/BEL-CENTRE/cellules?bbox={BBOX}" + extra)
    assert response.status_code == 400
    assert words in response.get_json()["error"]


# -- vector tiles ----------------------------------------------------------------------------


def test_tile_over_belfort_is_a_non_empty_vector_tile(chief, planted):
    response = chief.get(tile_url())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert len(response.data) > 100
    # Layer and attribute names are stored as plain strings in the protobuf.
    assert b"occurrences" in response.data and b"category" in response.data and b"month" in response.data
    assert b"description" not in response.data and b"address" not in response.data


def test_tile_away_from_the_sector_is_empty(chief, planted):
    z, x, y = tile_of(2.35, 48.85, 15)
    response = chief.get(f"{BASE}/BEL-CENTRE/tuiles/{z}/{x}/{y}.mvt?{PERIOD}")
    assert response.status_code == 200 and response.data == b""


@pytest.mark.parametrize("zxy", ["23/0/0", "2/4/0", "2/0/4"])
def test_tile_outside_the_tile_grid_is_400_json(chief, zxy):
    response = chief.get(f"{BASE}/BEL-CENTRE/tuiles/{zxy}.mvt")
    assert response.status_code == 400
    assert "Tuile" in response.get_json()["error"]


# -- roles and scope of every endpoint ---------------------------------------------------------------

ENDPOINTS = [cells_url, tile_url]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_gets_401(client, territory, url):
    assert client.get(url()).status_code == 401


@pytest.mark.parametrize("url", ENDPOINTS)
def test_chief_gets_403_json_outside_his_sectors(chief, engine, url):
    response = chief.get(url(other_sector(engine)))
    assert response.status_code == 403
    assert "Vous n'avez pas accès au secteur" in response.get_json()["error"]
    assert chief.get(url("BEL-GLACIS")).status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("role, scope", [("maire", {"commune": "90010"}), ("partenaire", {})])
def test_mayor_and_partner_get_403_json(app, engine, territory, login, url, role, scope):
    client = client_as(app, login, *account(engine, f"{role}@psq.test", role, **scope))
    response = client.get(url())
    assert response.status_code == 403 and response.is_json


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("role", ["admin", "referent"])
def test_admin_and_referent_see_every_sector(app, engine, territory, login, url, role):
    client = client_as(app, login, *account(engine, f"{role}@psq.test", role))
    assert client.get(url(other_sector(engine))).status_code == 200
    missing = client.get(url("NULLE-PART"))
    assert missing.status_code == 404 and missing.is_json


# -- the queries use the spatial index -----------------------------------------------------------------


def plan(engine, query: str, params: dict) -> str:
    with engine.connect() as conn:
        return "\n".join(conn.execute(sa.text("EXPLAIN " + named_query(query).text), params).scalars())


def sector_id(engine, code: str = "BEL-CENTRE") -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM sector WHERE code = :c"), {"c": code}).scalar()


def test_cells_query_uses_the_gist_index(engine, territory):
    plant_occurrences(engine, "BEL-CENTRE", 100_000)
    text = plan(engine, "sector_cells", {
        "sector_id": sector_id(engine), "lon0": 6.855, "lat0": 47.635, "lon1": 6.86, "lat1": 47.64,
        "first": "2025-11-16", "last": "2026-11-15", "category": None, "cell": 200.0, "tz": LOCAL_TZ})
    assert "occurrence_geom_idx" in text, text


def test_tile_query_uses_the_gist_index(engine, territory):
    plant_occurrences(engine, "BEL-CENTRE", 100_000)
    z, x, y = tile_of(*CENTRE, 16)
    text = plan(engine, "sector_tile", {"sector_id": sector_id(engine), "z": z, "x": x, "y": y,
                                        "first": "2025-11-16", "last": "2026-11-15", "category": None,
                                        "tz": LOCAL_TZ})
    assert "occurrence_geom_idx" in text, text
