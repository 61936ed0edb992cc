"""The CSP overview: who may open it, and the rates on a small hand-made territory."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.analysis import commune_figures as stats

PASSWORD = "mot de passe de test"
FIRST, LAST = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
X0, Y0 = 990_000, 6_700_000
# Monthly counts of sector B over the 12 months of the period: a rising series.
RISING = [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]


def _box(x0: float, x1: float, y0: float = Y0, y1: float = Y0 + 1000) -> str:
    return f"SRID=2154;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


@pytest.fixture
def small_csp(engine):
    """One commune of 10,000 inhabitants (2 km x 1 km) split in two sectors A and B.

    A: 1 occurrence a month (12 in the period); B: the rising series (25) and 3 more
    before the period. A second CSP "CSP Autre" has one sector elsewhere.
    """
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO departement (code, name) VALUES ('99', 'Test')"))
        conn.execute(sa.text("INSERT INTO commune (insee, name, departement_code, population, area_km2, geom) "
                             "VALUES ('99001', 'Villetest', '99', 10000, 2, ST_GeomFromEWKT(:g))"),
                     {"g": _box(X0, X0 + 2000)})
        conn.execute(sa.text("INSERT INTO csp (name) VALUES ('CSP Test'), ('CSP Autre')"))
        for csp, code, x0 in (("CSP Test", "A", X0), ("CSP Test", "B", X0 + 1000), ("CSP Autre", "Z", X0 + 50_000)):
            conn.execute(sa.text(
                "INSERT INTO sector (csp_id, code, name, geom, valid_from) SELECT id, :code, :name, "
                "ST_GeomFromEWKT(:g), '2000-01-01' FROM csp WHERE name = :csp"),
                {"csp": csp, "code": code, "name": f"Secteur {code}", "g": _box(x0, x0 + 1000)})
        rows = [("A", stats.month_start(FIRST, m), X0 + 500) for m in range(12)]
        rows += [("B", stats.month_start(FIRST, m), X0 + 1500) for m, n in enumerate(RISING) for _ in range(n)]
        rows += [("B", dt.date(2025, 6, 15), X0 + 1500)] * 3
        conn.execute(sa.text(
            "INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, sector_id, csp_id, "
            "commune_insee) SELECT 'test', :id, 'incivilites', CAST(:day AS date) + time '12:00', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 2154), s.id, s.csp_id, '99001' FROM sector s WHERE s.code = :code"),
            [{"id": str(n), "code": code, "day": day + dt.timedelta(days=n % 20), "x": x, "y": Y0 + 500}
             for n, (code, day, x) in enumerate(rows)])


def test_rates_and_trends_on_a_hand_made_case(engine, small_csp):
    rates, shapes = stats.sector_rates(engine, "CSP Test", FIRST, LAST)
    by_code = {r.code: r for r in rates}
    assert set(by_code) == {"A", "B"}
    assert by_code["A"].population == 5000 and by_code["B"].population == 5000
    assert by_code["A"].occurrences == 12 and by_code["B"].occurrences == 25
    assert by_code["A"].rate == pytest.approx(2.4)
    assert by_code["B"].rate == pytest.approx(5.0)
    assert list(by_code["B"].counts) == RISING
    assert by_code["A"].trend == "stable" and by_code["B"].trend == "hausse"
    assert dict(zip(shapes.code, shapes.rate)) == {"A": pytest.approx(2.4), "B": pytest.approx(5.0)}


def test_overview_page_shows_the_table_and_choropleth(admin_client, small_csp):
    page = admin_client.get(f"/vue-ensemble?csp=CSP Test&du={FIRST}&au={LAST}")
    assert page.status_code == 200
    html = page.text
    assert "Vue d'ensemble" in html and "Faits pour 1 000 habitants" in html
    assert '<td class="num rate">2,4</td>' in html and '<td class="num rate">5,0</td>' in html
    assert "▲ hausse" in html
    # The map colours the sectors by trend too (a layer of its own); the rising sector in red.
    assert "Tendance sur 12 mois" in html and '"trend": "hausse"' in html
    assert '<option value="CSP Autre"' in html
    assert "cdn.jsdelivr" not in html


def _client_as(app, engine, login, role: str, **scope):
    email = f"{role}@psq.test"
    create_user(engine, email, role, PASSWORD, **scope)
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 302
    return client


def test_roles(app, engine, login, small_csp):
    referent = _client_as(app, engine, login, "referent")
    assert referent.get("/vue-ensemble?csp=CSP Autre").status_code == 200
    chief = _client_as(app, engine, login, "chef_secteur", sectors=["A"], csp="CSP Test")
    assert chief.get("/vue-ensemble").status_code == 200
    assert "CSP Test" in chief.get("/vue-ensemble").text
    assert chief.get("/vue-ensemble?csp=CSP Autre").status_code == 403
    assert '<option value="CSP Autre"' not in chief.get("/vue-ensemble").text
    mayor = _client_as(app, engine, login, "maire", commune="99001")
    assert mayor.get("/vue-ensemble").status_code == 403
    partner = _client_as(app, engine, login, "partenaire")
    assert partner.get("/vue-ensemble").status_code == 403
    assert app.test_client().get("/vue-ensemble").status_code == 302


def test_unknown_csp_is_404(admin_client, small_csp):
    assert admin_client.get("/vue-ensemble?csp=Nulle part").status_code == 404


def test_overview_keeps_periods_to_the_day(admin_client, engine, small_csp):
    """The overview is not a mayor's page: a period to the day stays allowed there."""
    first, last = dt.date(2026, 1, 2), dt.date(2026, 6, 30)
    page = admin_client.get(f"/vue-ensemble?csp=CSP Test&du={first}&au={last}")
    assert page.status_code == 200
    assert "Faits du 02/01/2026 au 30/06/2026 par secteur" in page.text
    rates, _ = stats.sector_rates(engine, "CSP Test", first, last)
    assert sum(r.occurrences for r in rates) > 0
    assert admin_client.get("/vue-ensemble?csp=CSP Test&du=2026-13-01").status_code == 400
    refused = admin_client.get("/vue-ensemble?csp=CSP Test&du=2026-07-01&au=2026-06-30")
    assert refused.status_code == 400 and "précéder" in refused.text
