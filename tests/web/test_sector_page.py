"""The sector chief's page /secteur/<csp>/<code>: access, content, filters, weight."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from tests.fixtures.accounts import CHIEF, account, client_as
from tests.fixtures.sector_page import LAYER_NAMES, PAGE, PERIOD
from tests.fixtures.territory import plant_occurrences


@pytest.fixture
def chief_client(app, engine, territory, login):
    """A client logged in as the chief of BEL-CENTRE and BEL-GLACIS."""
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE", "BEL-GLACIS"])
    client = app.test_client()
    assert login(client, *CHIEF).status_code == 302
    return client


def test_chief_sees_his_sector_with_its_problems_and_layers(demo, chief_client, engine):
    response = chief_client.get(PAGE + PERIOD)
    assert response.status_code == 200, response.text[:500]
    html = response.text
    with engine.connect() as conn:
        titles = conn.execute(sa.text(
            "SELECT p.title FROM problem p JOIN sector s ON s.code = 'BEL-CENTRE' "
            "WHERE ST_Intersects(ST_PointOnSurface(p.geom), s.geom)")).scalars().all()
    assert titles, "the demo has problems in BEL-CENTRE"
    for title in titles:
        assert title.replace("'", "&#39;") in html
    for name in LAYER_NAMES:  # in the layer control, as JSON strings
        assert json.dumps(name) in html, name
    assert "Centre" in html and "Faits du 16/11/2025 au 15/11/2026" in html
    assert "L.control.layers" in html and "PSQ.gridLayer(" in html and "psq-legend" in html
    assert "cdn." not in html and "https://" not in html.replace("https://www.w3.org", "")


def test_problem_status_is_in_french(demo, chief_client):
    html = chief_client.get(PAGE + PERIOD).text
    assert any(label in html for label in ("Signalé", "Priorisé", "En traitement", "Résolu", "Réouvert"))


def test_category_filter_keeps_one_category(demo, chief_client, engine):
    html = chief_client.get(PAGE + PERIOD + "&categorie=stupefiants").text
    with engine.connect() as conn:
        other = conn.execute(sa.text(
            "SELECT p.title FROM problem p JOIN sector s ON s.code = 'BEL-CENTRE' "
            "WHERE ST_Intersects(ST_PointOnSurface(p.geom), s.geom) AND p.category_code <> 'stupefiants' "
            "ORDER BY p.id LIMIT 1")).scalar()
    # Neither in the list nor on the map; the zone form still offers every problem of the sector.
    outside_form = re.sub(r'<form id="zone-form".*?</form>', "", html, flags=re.S)
    if other:
        assert other.replace("'", "&#39;") not in outside_form
    assert '<option value="stupefiants" selected>' in html
    assert "categorie=stupefiants" in html  # the grid endpoint gets the category too


@pytest.mark.parametrize("role", ["admin", "referent"])
def test_admin_and_referent_see_any_sector(app, engine, territory, login, role):
    client = client_as(app, login, *account(engine, f"{role}@psq.test", role))
    assert client.get(PAGE).status_code == 200
    assert client.get("/secteur/" + quote("CSP Belfort") + "/BEL-NORD").status_code in (200, 404)


def test_chief_is_refused_other_sectors_in_french(chief_client, engine):
    with engine.connect() as conn:
        other = conn.execute(sa.text(
            "SELECT code FROM sector WHERE code NOT IN ('BEL-CENTRE', 'BEL-GLACIS') LIMIT 1")).scalar()
    response = chief_client.get("/secteur/" + quote("CSP Belfort") + "/" + other)
    assert response.status_code == 403
    assert "Vous n'avez pas accès au secteur" in response.text.replace("&#39;", "'")
    assert chief_client.get("/secteur/Ailleurs/BEL-CENTRE").status_code == 403
    assert chief_client.get("/secteur/" + quote("CSP Belfort") + "/BEL-GLACIS").status_code == 200


@pytest.mark.parametrize("role, scope", [("maire", {"commune": "90010"}), ("partenaire", {})])
def test_mayor_and_partner_are_refused(app, engine, territory, login, role, scope):
    client = client_as(app, login, *account(engine, f"{role}@psq.test", role, **scope))
    assert client.get(PAGE).status_code == 403


def test_anonymous_goes_to_the_login_page(client, territory):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_unknown_sector_is_404_for_an_admin(admin_client, territory):
    response = admin_client.get("/secteur/" + quote("CSP Belfort") + "/NULLE-PART")
    assert response.status_code == 404


@pytest.mark.parametrize("query, words", [
    ("?du=2026-02-30", "n'est pas une date valide"),
    ("?du=hier", "n'est pas une date valide"),
    ("?du=2026-06-01&au=2026-01-01", "après sa fin"),
    ("?categorie=vol", "Catégorie inconnue"),
])
def test_bad_period_or_category_is_400_in_french(chief_client, query, words):
    response = chief_client.get(PAGE + query)
    assert response.status_code == 400
    assert words in response.text.replace("&#39;", "'")


def test_no_occurrence_shows_french_notes_instead_of_layers(chief_client):
    response = chief_client.get(PAGE + "?du=2010-01-01&au=2010-12-31")
    assert response.status_code == 200
    assert "Aucun fait sur cette période" in response.text.replace("&#39;", "'")


def test_too_few_occurrences_for_any_finding_say_so_instead_of_classes(chief_client, engine):
    """Two occurrences of a category in the sector: Gi* would call one of them a hot spot (z near 5)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, sector_id, csp_id) "
            "SELECT 'test', 'few-' || k, 'rodeos', TIMESTAMPTZ '2026-10-01 21:00+02' + k * INTERVAL '1 day', "
            "ST_PointOnSurface(geom), id, csp_id FROM sector, generate_series(1, 2) k WHERE code = 'BEL-CENTRE'"))
    html = chief_client.get(PAGE + PERIOD + "&categorie=rodeos").text.replace("&#39;", "'")
    sentence = "Trop peu de faits (2) pour qu’un point chaud soit significatif, même s’ils étaient tous au même endroit."
    assert f"<strong>Points chauds (Gi*) :</strong> {sentence}" in html
    assert f"<strong>Problèmes récurrents :</strong> {sentence}" in html
    assert "Point chaud (99 %)" not in html and "Nouveau point chaud" not in html


def test_page_stays_under_300_kb_with_100000_occurrences(chief_client, engine):
    # Seen once empty: the statistics kept in memory for this view must not outlive new data.
    assert "trop pour calculer les agrégats" not in chief_client.get(PAGE + PERIOD).text
    plant_occurrences(engine, "BEL-CENTRE", 100_000)
    response = chief_client.get(PAGE + PERIOD)
    assert response.status_code == 200
    assert "100\u202f000" in response.text  # the figures count them all
    assert len(response.data) < 300_000, len(response.data)
    assert "trop pour calculer les agrégats" in response.text
