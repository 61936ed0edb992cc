"""Every route of the app, asked by people who may not see what it serves.

The routes are read from the app's URL map, so a route added without its role and
scope checks fails here. Refused means 403, or 404 where the page does not even say
the thing exists; never 200, never a redirect to content.
"""

from __future__ import annotations


import pytest
from flask import url_for

from geo.accounts import create_user
from tests.test_sector_page import territory  # noqa: F401 - fixture

#: A value for every argument of every route; a route with another argument fails the test.
SAMPLE_ARGS = {"csp": "CSP Belfort", "name": "CSP Belfort", "code": "BEL-CENTRE", "insee": "90010",
               "zone_id": 1, "z": 14, "x": 8503, "y": 5719}
#: Routes open to anyone logged in (each filters what it shows by the user's scope).
OPEN_TO_ALL = {"pages.index", "pages.csp_map"}
PASSWORD = "mot de passe de test"


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL) of every route but the static files and the login pages."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or rule.endpoint.startswith("auth."):
                continue
            unknown = set(rule.arguments) - set(SAMPLE_ARGS)
            assert not unknown, f"{rule.rule}: give SAMPLE_ARGS a value for {sorted(unknown)}"
            url = url_for(rule.endpoint, **{k: SAMPLE_ARGS[k] for k in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return found


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


def test_anonymous_is_sent_to_log_in_everywhere(app, territory):  # noqa: F811
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
def test_roles_without_the_scope_are_refused_everywhere(app, engine, territory, login, role, scope):  # noqa: F811
    client = client_as(app, login, engine, f"{role}@psq.test", role, **scope)
    app.config["WTF_CSRF_ENABLED"] = False  # the POSTs must reach the role check
    for endpoint, method, url in routes(app):
        if endpoint in OPEN_TO_ALL:
            continue
        response = ask(client, method, url)
        assert response.status_code in (403, 404), (role, method, url, response.status_code)


def test_a_chief_is_refused_another_sector_everywhere(app, engine, territory, login):  # noqa: F811
    client = client_as(app, login, engine, "chef@psq.test", "chef_secteur", sectors=["BEL-GLACIS"])
    app.config["WTF_CSRF_ENABLED"] = False
    sector_routes = [(e, m, u) for e, m, u in routes(app) if "BEL-CENTRE" in u]
    assert len(sector_routes) >= 5
    for endpoint, method, url in sector_routes:
        response = ask(client, method, url)
        assert response.status_code == 403, (method, url, response.status_code)
    # His own sector opens.
    assert client.get("/secteur/CSP%20Belfort/BEL-GLACIS").status_code == 200
