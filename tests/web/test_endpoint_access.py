"""Every route of the app, asked by people who may not see what it serves.

The routes are read from the app's URL map, so a route added without its role and
scope checks fails here. Refused means 403, or 404 where the page does not even say
the thing exists; never 200, never a redirect to content.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from tests.fixtures.routes import routes

#: Routes open to anyone logged in (each filters what it shows by the user's scope; the base map holds what
#: the territory map shows; the list of one's GPOs and their figures are empty for a mayor whose town no GPO
#: covers; the conventions and contracts are empty for a mayor whose town has none; a mayor's alerts and
#: opt-ins are his own, whatever his town).
OPEN_TO_ALL = {"pages.index", "pages.csp_map", "basemap.archive", "gpo.gpo_list", "figures.figures_page",
               "referents.conventions_page", "alerts.alerts_page", "alerts.save_subscriptions",
               "audits.audit_list",  # a mayor's audit requests are his town's: none for a town that asked none
               "cameras.cameras_page"}  # a mayor's cameras are his town's: none for a town without (a partner: 403)
PASSWORD = "mot de passe de test"


def ask(client, method: str, url: str):
    return client.post(url, json={}) if method == "POST" else client.get(url)


def client_as(app, login, engine, email: str, role: str, **scope):
    create_user(engine, email, role, PASSWORD, **scope)
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 302
    return client


def test_the_url_map_is_covered(app):
    endpoints = {endpoint for endpoint, _, _ in routes(app)}
    # The pages and endpoints of the issue: sector, zones, mayor, overview, API.
    assert {"sector_pages.sector_page", "api.sector_cells", "api.sector_tile", "zones.zones_page", "zones.api_create",
            "zones.api_update", "zones.api_delete", "zones.api_export", "zones.briefing", "mayor.commune_page",
            "mayor.commune_cells", "overview.overview_page"} <= endpoints


def test_anonymous_is_sent_to_log_in_everywhere(app, territory):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False  # the login gate must answer before any CSRF check
    for endpoint, method, url in routes(app):
        response = ask(client, method, url)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
        else:
            assert response.status_code == 302 and "/connexion" in response.location, (method, url)


@pytest.mark.parametrize("role, scope", [
    ("partenaire", {}),
    ("maire", {"commune": "90011"}),
])
def test_roles_without_the_scope_are_refused_everywhere(app, engine, territory, login, role, scope):
    client = client_as(app, login, engine, f"{role}@psq.test", role, **scope)
    app.config["WTF_CSRF_ENABLED"] = False  # the POSTs must reach the role check
    for endpoint, method, url in routes(app):
        if endpoint in OPEN_TO_ALL:
            continue
        response = ask(client, method, url)
        assert response.status_code in (403, 404), (role, method, url, response.status_code)


def test_a_chief_is_refused_another_sector_everywhere(app, engine, territory, login):
    client = client_as(app, login, engine, "chef@psq.test", "chef_secteur", sectors=["BEL-GLACIS"])
    app.config["WTF_CSRF_ENABLED"] = False
    sector_routes = [(e, m, u) for e, m, u in routes(app) if "BEL-CENTRE" in u]
    assert len(sector_routes) >= 5
    for endpoint, method, url in sector_routes:
        response = ask(client, method, url)
        assert response.status_code == 403, (method, url, response.status_code)
    # His own sector opens.
    assert client.get("/secteur/CSP%20Belfort/BEL-GLACIS").status_code == 200


# -- zones (issue 9): no route reads another sector through a zone ---------------------
def _message(response) -> str:
    """The refusal's sentence: the JSON error, or the message of the French error page."""
    if response.is_json:
        return response.json["error"]
    found = re.search(r'<div class="message">(.*?)</div>', response.text, re.S)
    assert found, response.text[:500]
    return found.group(1)


def _post_json(client, url, body):
    return client.post(url, json=body) if body is not None else client.get(url)


def _square(lon, lat, half_m):
    dlon, dlat = half_m / 75_000, half_m / 111_000
    return [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat], [lon - dlon, lat + dlat],
            [lon - dlon, lat - dlat]]


def test_zone_routes_answer_another_chiefs_zone_as_an_unknown_one(app, engine, territory, login):
    app.config["WTF_CSRF_ENABLED"] = False
    owner = client_as(app, login, engine, "chef.centre@psq.test", "chef_secteur", sectors=["BEL-CENTRE"])
    created = owner.post("/api/zones", json={"csp_id": 1, "sector_code": "BEL-CENTRE", "reason": "Trafic",
                                             "geometry": {"type": "Polygon", "coordinates": [_square(6.8546, 47.639, 80)]}})
    assert created.status_code == 201, created.text
    zone_id = created.json["id"]
    other = client_as(app, login, engine, "chef.glacis@psq.test", "chef_secteur", sectors=["BEL-GLACIS"])
    zone_routes = [(e, m, u) for e, m, u in routes(app) if "zone_id" in next(
        r.arguments for r in app.url_map.iter_rules() if r.endpoint == e)]
    assert {e for e, _, _ in zone_routes} == {"zones.api_update", "zones.api_delete", "zones.briefing"}
    for endpoint, method, url in zone_routes:
        real = url.replace("/1", f"/{zone_id}", 1)
        unknown = url.replace("/1", f"/{zone_id + 999}", 1)
        body = {"reason": "pirate"} if method == "POST" else None
        seen, not_there = _post_json(other, real, body), _post_json(other, unknown, body)
        assert seen.status_code == not_there.status_code == 404, (endpoint, seen.status_code)
        assert _message(seen).replace(f"n° {zone_id} ", "n° N ") == \
            _message(not_there).replace(f"n° {zone_id + 999} ", "n° N "), endpoint
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT reason, deleted_at FROM patrol_zone")).one() == ("Trafic", None)


def test_a_detached_part_in_another_sector_is_refused_by_the_api(app, engine, territory, login):
    app.config["WTF_CSRF_ENABLED"] = False
    chief = client_as(app, login, engine, "chef@psq.test", "chef_secteur", sectors=["BEL-CENTRE", "BEL-GLACIS"])
    inside, resid = _square(6.854562, 47.638999, 500), _square(6.843716, 47.631923, 100)
    created = chief.post("/api/zones", json={"csp_id": 1, "sector_code": "BEL-CENTRE", "reason": "Trafic",
                                             "geometry": {"type": "Polygon", "coordinates": [inside]}})
    assert created.status_code == 201, created.text
    for url in ("/api/zones", f"/api/zones/{created.json['id']}"):
        response = chief.post(url, json={"csp_id": 1, "sector_code": "BEL-CENTRE", "reason": "Trafic", "geometry": {
            "type": "MultiPolygon", "coordinates": [[inside], [resid]]}})
        assert response.status_code == 400, (url, response.text)
        assert "La partie n° 2 de la zone" in response.json["error"]
        assert "entièrement hors de vos secteurs" in response.json["error"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*), max(ST_NumGeometries(geom)) FROM patrol_zone")).one() == (1, 1)


# -- the access policy (issue 11): every route asks it, and the URL map follows its table --------------------
def test_every_route_declares_an_action_of_the_policy(app):
    from geo.accounts.policy import ACTIONS

    for endpoint, _, url in routes(app):
        action = getattr(app.view_functions[endpoint], "psq_action", None)
        assert action in ACTIONS, f"{endpoint} ({url}) declares no action of geo/accounts/policy.py"


@pytest.mark.parametrize("role, scope", [
    ("admin", {}), ("referent", {}), ("chef_secteur", {"sectors": ["BEL-CENTRE"]}), ("maire", {"commune": "90010"}),
    ("partenaire", {}),
])
def test_a_role_outside_an_actions_table_is_refused_on_its_routes(app, engine, territory, login, role, scope):
    from geo.accounts.policy import ACTIONS

    client = client_as(app, login, engine, f"{role}@psq.test", role, **scope)
    app.config["WTF_CSRF_ENABLED"] = False
    refused = [(e, m, u) for e, m, u in routes(app) if role not in ACTIONS[app.view_functions[e].psq_action]]
    for endpoint, method, url in refused:
        response = ask(client, method, url)
        assert response.status_code == 403, (role, endpoint, response.status_code)
        assert "n'est pas ouverte au rôle" in _message(response).replace("&#39;", "'"), endpoint
    # Admins pass the table everywhere; chiefs everywhere but the audit log (then held to their sectors by
    # the resource checks above); référents may not edit zones, mayors see only communes, partners only the
    # territory.
    assert (refused == []) == (role == "admin")
    if role == "chef_secteur":
        # ... and the mayors' alerts (geo/accounts/policy.py: admin and maire), and the audit requests (study.*:
        # admin, référent, maire).
        assert [e for e, _, _ in refused if not e.startswith(("alerts.", "audits."))] == ["journal.journal_page"]
