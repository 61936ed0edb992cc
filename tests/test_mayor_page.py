"""The mayor's commune page and its GeoJSON of cells, through Flask's test client."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from geo import commune_stats as stats
from geo.accounts import create_user
from geo.commune_import import load_communes
from geo.demo import load_synthetic
from geo.sector_import import load_sectors
from tests.support import BOUNDARIES

MAYOR = ("maire.test@psq.test", "mot de passe du maire")
PERIOD = "du=2025-11-01&au=2026-10-31"
SECRET_DESCRIPTION = "Jean Dupont vu au 12 rue des Secrets"
SECRET_ADDRESS = "12 rue des Secrets"


@pytest.fixture
def belfort(engine):
    """The demo territory with synthetic data, plus one occurrence carrying personal data."""
    load_communes(engine, "90")
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2000, 1, 1))
    load_synthetic(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, description, address, "
            "commune_insee) SELECT 'test', 'secret-1', 'incivilites', '2026-05-05 12:00+02', "
            "ST_PointOnSurface(geom), :d, :a, insee FROM commune WHERE insee = '90010'"),
            {"d": SECRET_DESCRIPTION, "a": SECRET_ADDRESS})
        conn.execute(sa.text("UPDATE problem SET description = :d WHERE commune_insee = '90010'"),
                     {"d": SECRET_DESCRIPTION})
    create_user(engine, MAYOR[0], "maire", MAYOR[1], commune="90010")


@pytest.fixture
def mayor(app, belfort, login):
    client = app.test_client()
    response = login(client, *MAYOR)
    assert response.status_code == 302 and response.headers["Location"].endswith("/commune/90010")
    return client


def embedded_counts(html: str) -> list[int]:
    """The counts of the cells in the map's embedded GeoJSON."""
    return [int(n) for n in re.findall(r'"count":\s*(\d+)', html)]


def test_mayor_sees_his_commune_with_aggregated_cells_only(mayor, engine):
    page = mayor.get(f"/commune/90010?{PERIOD}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Belfort <span class=\"insee\">(90010)</span></h1>" in html and "carreaux de 200 m" in html
    counts = embedded_counts(html)
    assert counts and min(counts) >= 3
    # The cells shown are those of the core function, and small cells do exist but are hidden.
    all_cells = stats.cell_counts(engine, "90010", dt.date(2025, 11, 1), dt.date(2026, 10, 31), k=1)
    assert any(c.count < 3 for c in all_cells)
    assert sorted(counts) == sorted(c.count for c in all_cells if c.count >= 3)
    assert SECRET_DESCRIPTION not in html and SECRET_ADDRESS not in html
    assert "cdn.jsdelivr" not in html


def test_cells_json_hides_cells_under_three(mayor):
    response = mayor.get(f"/api/communes/90010/cellules?{PERIOD}")
    assert response.status_code == 200
    collection = response.get_json()
    assert collection["type"] == "FeatureCollection"
    counts = [f["properties"]["count"] for f in collection["features"]]
    assert counts and min(counts) >= 3
    assert set(collection["features"][0]["properties"]) == {"cell", "count"}
    assert SECRET_ADDRESS not in json.dumps(collection)


def test_cell_threshold_is_a_parameter(mayor, engine):
    first, last = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
    default = stats.cell_counts(engine, "90010", first, last)
    stricter = stats.cell_counts(engine, "90010", first, last, k=10)
    assert min(c.count for c in stricter) >= 10
    assert {(c.i, c.j) for c in stricter} < {(c.i, c.j) for c in default}


def test_trend_chart_for_each_category_with_data(mayor, engine):
    html = mayor.get(f"/commune/90010?{PERIOD}").text
    trends = stats.category_trends(engine, "90010", dt.date(2026, 10, 31))
    assert trends
    for trend in trends:
        item = re.search(rf'<li class="trend" data-category="{trend.code}">(.*?)</li>', html, re.S)
        assert item, trend.code
        assert item.group(1).count("<rect") == 12
        assert f"en {trend.trend}" in item.group(1) or trend.trend == "stable" and "stable" in item.group(1)
    assert html.count('<li class="trend"') == len(trends)


def test_problems_list_with_status_but_no_description(mayor, engine):
    html = mayor.get("/commune/90010").text
    problems = stats.commune_problems(engine, "90010")
    assert problems
    for problem in problems:
        assert str(problem.title).replace("'", "&#39;") in html
        assert problem.status in html
    assert SECRET_DESCRIPTION not in html


def test_another_commune_is_forbidden(mayor):
    page = mayor.get("/commune/90011")
    assert page.status_code == 403
    assert "Accès refusé" in page.text
    api = mayor.get("/api/communes/90011/cellules")
    assert api.status_code == 403
    assert "error" in api.get_json()


def test_anonymous_gets_401_json_and_login_page(client, belfort):
    api = client.get("/api/communes/90010/cellules")
    assert api.status_code == 401
    assert api.get_json()["error"]
    page = client.get("/commune/90010")
    assert page.status_code == 302 and "/connexion" in page.headers["Location"]


def test_admin_sees_any_commune_partner_none(admin_client, belfort, engine, app, login):
    assert admin_client.get("/commune/90011").status_code == 200
    assert admin_client.get("/commune/99999").status_code == 404
    create_user(engine, "bailleur@psq.test", "partenaire", "mot de passe partenaire")
    partner = app.test_client()
    login(partner, "bailleur@psq.test", "mot de passe partenaire")
    assert partner.get("/commune/90010").status_code == 403


def test_bad_period(mayor):
    assert mayor.get("/commune/90010?du=2026-13-01").status_code == 400
    assert mayor.get("/api/communes/90010/cellules?du=2026-10-01&au=2026-01-01").status_code == 400
