"""The référents' coverage page and the conventions page: who may open them, what each user sees, escaping."""

from __future__ import annotations

import re

import pytest

from geo.referents.conventions import load_contracts, load_conventions
from geo.referents.referents import load_referents
from geo.settings import local_today
from tests.fixtures.accounts import account, client_as

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def referents(engine, territory, tmp_path):
    """Two référents over four communes of the Territoire de Belfort; the others uncovered."""
    path = tmp_path / "referents.csv"
    path.write_text("name;kind;service;lat;lon;communes\n"
                    "Capitaine Arnaud;referent;DDSP 90;47.6386;6.8628;90010 90008\n"
                    "Brigadier Colin;correspondant;CSP Belfort;47.51;6.99;90033 90099\n", encoding="utf-8")
    load_referents(engine, path)


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr data-referent=.*?</tr>", html, re.S)


def test_an_admin_sees_every_referent_and_the_uncovered_communes(app, engine, referents, admin_client):
    page = admin_client.get("/referents")
    assert page.status_code == 200
    html = page.text
    rows = _rows(html)
    assert len(rows) == 2 and "Brigadier Colin" in rows[0] and "Capitaine Arnaud" in rows[1]
    assert "Correspondant sûreté" in rows[0] and "Référent sûreté" in rows[1]
    assert 'class="own"' not in html
    assert "Communes non couvertes (97)" in html and 'data-insee="90001"' in html
    assert "folium-map" in html
    assert "Non couverte" in html
    assert "Distance base" in html
    # The menu's group of the prevention pages.
    assert "Prévention situationnelle" in html and 'href="/conventions"' in html


def test_a_referent_lands_on_the_map_with_his_row_and_communes_highlighted(app, engine, referents, login):
    email, password = account(engine, "arnaud@psq.test", "referent", referent="Capitaine Arnaud")
    client = app.test_client()
    answer = login(client, email, password)
    assert answer.status_code == 302 and answer.location.endswith("/referents")
    assert client.get("/").location.endswith("/referents")
    html = client.get("/referents").text
    own = [r for r in _rows(html) if 'class="own"' in r]
    assert len(own) == 1 and "Capitaine Arnaud" in own[0]
    assert "Vous êtes <strong>Capitaine Arnaud</strong>" in html and "Vos communes" in html
    assert '"color": "#000091"' in html  # his communes' outline in the map's data


@pytest.mark.parametrize("role, scope", [("maire", {"commune": "90010"}), ("partenaire", {})])
def test_the_coverage_page_is_refused_to_mayors_and_partners(app, engine, referents, login, role, scope):
    client = client_as(app, login, *account(engine, f"{role}@psq.test", role, **scope))
    assert client.get("/referents").status_code == 403
    assert "Couverture des référents" not in client.get("/page-absente").text


def test_a_chief_sees_the_coverage_without_audit_counts(app, engine, referents, login):
    client = client_as(app, login, *account(engine, "chef@psq.test", "chef_secteur", sectors=["BEL-CENTRE"]))
    html = client.get("/referents").text
    assert len(_rows(html)) == 2
    assert "Les demandes d'audit ne sont visibles que des référents et des administrateurs." in html


def test_hostile_names_are_escaped_in_the_table_and_the_tooltips(app, engine, territory, tmp_path, admin_client):
    path = tmp_path / "referents.csv"
    path.write_text(f'name,kind,service,lat,lon,communes\n"{HOSTILE}",referent,"{HOSTILE} `${{x}}` {{{{7*7}}}}",'
                    f"47.6386,6.8628,90010\n", encoding="utf-8")
    load_referents(engine, path)
    html = admin_client.get("/referents").text
    assert HOSTILE not in html
    # Shown as written in the table (Jinja's escaping), as inert entities in the map's script.
    assert html.count("{{7*7}}") == 1 and html.count("${x}") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#96;&#36;&#123;x&#125;&#96; &#123;&#123;7*7&#125;&#125;" in html
    assert "<td><span" in html and "&lt;script&gt;alert(1)&lt;/script&gt;</td>" in html  # the table
    # The commune's tooltip (GeoJSON property) and the base's tooltip (in the map script) hold it escaped.
    assert '"referent": "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt;"' in html  # JSON of "&lt;"
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>" in html


def _conventions(engine, tmp_path):
    today = local_today()
    soon = today.replace(year=today.year - 3)  # renews today: due soon
    path = tmp_path / "conventions.csv"
    path.write_text(f"commune,signed_on,volunteers\n90010,{soon.isoformat()},14\n90033,2021-05-01,6\n"
                    "90099,2020-01-10,3\n", encoding="utf-8")
    load_conventions(engine, path)
    path = tmp_path / "contracts.csv"
    path.write_text("name,communes,signed_on,municipal_police,cameras,supervision_centre\n"
                    "CSI du Grand Belfort,90010 90008,2022-04-01,12,45,oui\nCSI de Delle,90033,2024-01-15,,,non\n",
                    encoding="utf-8")
    load_contracts(engine, path)


def test_a_mayor_sees_only_his_towns_conventions(app, engine, territory, tmp_path, login):
    _conventions(engine, tmp_path)
    client = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    page = client.get("/conventions")
    assert page.status_code == 200
    html = page.text
    assert re.findall(r'<tr data-insee="(\d+)"', html) == ["90010"]
    assert "Belfort" in html and "Delle" not in html and "Valdoie" not in html
    assert re.findall(r'<tr data-contract="\d+"', html) == ['<tr data-contract="1"']
    assert "CSI du Grand Belfort" in html and "CSI de Delle" not in html
    assert 'class="due-soon"' in html and f"à reconduire avant le {local_today():%d/%m/%Y}" in html
    assert "Participation citoyenne" in html and "folium-map" in html


def test_an_admin_sees_every_convention_and_contract(app, engine, territory, tmp_path, admin_client):
    _conventions(engine, tmp_path)
    html = admin_client.get("/conventions").text
    assert sorted(re.findall(r'<tr data-insee="(\d+)"', html)) == ["90010", "90033", "90099"]
    assert len(re.findall(r'<tr data-contract="\d+"', html)) == 2
    assert "un CSI\\u003c/div\\u003e" in html  # the legend's last row (its HTML as JSON)


def test_the_conventions_page_is_refused_to_a_partner(app, engine, territory, login):
    client = client_as(app, login, *account(engine, "p@psq.test", "partenaire"))
    assert client.get("/conventions").status_code == 403
