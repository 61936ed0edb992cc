"""The Content-Security-Policy of every response, read through Flask's test client.

Every route of the app's URL map is asked as an admin (plus the login page, an error
page and a refused page): each answer carries a strong policy (no outside origin, no
'unsafe-inline' or 'unsafe-eval' for scripts, object-src/base-uri/frame-ancestors
'none'), every HTML page gives its inline scripts the nonce of its own header and has
no inline event handler. tests/browser/test_hostile_text_browser.py shows in Chromium that
the policy blocks a script without the nonce.
"""

from __future__ import annotations

import json

import pytest

from geo.settings import local_today
from tests.fixtures.accounts import csrf_token_in
from tests.fixtures.csp import REQUIRED, SCRIPT, assert_scripts_carry_the_nonce, assert_strong, nonce_of, policy_of
from tests.fixtures.routes import routes, sample_gpo, sample_request

INSIDE = (6.854562, 47.638999)  # lon, lat: well inside BEL-CENTRE


def square(lon: float, lat: float, half_m: float = 100.0) -> dict:
    dlon, dlat = half_m / 75_000, half_m / 111_000
    return {"type": "Polygon", "coordinates": [[[lon - dlon, lat - dlat], [lon + dlon, lat - dlat],
                                                [lon + dlon, lat + dlat], [lon - dlon, lat + dlat],
                                                [lon - dlon, lat - dlat]]]}


@pytest.fixture
def zone(admin_client, engine, territory):
    """Zone n° 1 of BEL-CENTRE, created through the API as the pages do."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        csp_id = conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()
    token = csrf_token_in(admin_client.get("/page-absente").text)
    response = admin_client.post("/api/zones", data=json.dumps({
        "csp_id": csp_id, "sector_code": "BEL-CENTRE", "geometry": square(*INSIDE), "reason": "Parvis",
        "valid_from": local_today().isoformat()}), content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.text
    assert response.json["id"] == 1  # routes() asks for zone_id 1
    sample_gpo(engine, csp_id)  # and for gpo_id 1
    sample_request(engine)  # and for request_id 1
    return response.json


def test_every_route_sends_a_strong_policy_and_nonced_scripts(app, admin_client, zone):
    asked = 0
    html_pages = []
    for endpoint, method, url in routes(app):
        if method != "GET":
            continue
        response = admin_client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        policy = policy_of(response)
        assert_strong(policy)
        asked += 1
        if response.mimetype == "text/html" and response.status_code != 302:
            html_pages.append(url)
            assert response.status_code == 200, (url, response.status_code)
            nonce = nonce_of(policy)
            assert nonce, f"{url}: an HTML page without a script nonce"
            assert_scripts_carry_the_nonce(response.text, nonce, url)
    assert asked >= 10
    # The pages with a map, each with its inline map script.
    for page in ("/csp/CSP%20Belfort", "/secteur/CSP%20Belfort/BEL-CENTRE", "/secteur/CSP%20Belfort/BEL-CENTRE/zones",
                 "/zones/1/briefing", "/commune/90010", "/vue-ensemble"):
        assert page in html_pages, (page, html_pages)


def test_the_map_scripts_run_only_with_the_nonce(admin_client, zone):
    """The map script and folium's inline header script carry the nonce; the nonce changes per request."""
    first = admin_client.get("/secteur/CSP%20Belfort/BEL-CENTRE")
    second = admin_client.get("/secteur/CSP%20Belfort/BEL-CENTRE")
    nonce, other = nonce_of(policy_of(first)), nonce_of(policy_of(second))
    assert nonce and other and nonce != other
    assert len(nonce) >= 22  # at least 128 bits of randomness (Talisman: 32 URL-safe characters)
    inline = [(a, b) for a, b in SCRIPT.findall(first.text) if "src=" not in a and "application/json" not in a]
    bodies = [b for a, b in inline if f'nonce="{nonce}"' in a]
    assert len(bodies) == len(inline) >= 2
    assert any("L.map(" in b for b in bodies) and any("L_NO_TOUCH" in b for b in bodies)


def test_other_pages_and_errors_carry_the_policy_too(app, admin_client, territory, login):
    anonymous = app.test_client()
    for response in (anonymous.get("/connexion"), anonymous.get("/"), anonymous.get("/api/communes/90010/cellules"),
                     admin_client.get("/page-absente"), admin_client.get("/csp/CSP Belfort?date=2024-02-30"),
                     admin_client.post("/deconnexion"),  # no CSRF token: the error page
                     admin_client.get("/static/app.css")):
        policy = policy_of(response)
        assert_strong(policy)
        if response.mimetype == "text/html":
            assert_scripts_carry_the_nonce(response.text, nonce_of(policy), response.request.path)
    # The other headers Talisman sends.
    response = anonymous.get("/connexion")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


def test_a_refused_page_carries_the_policy(app, engine, territory, login):
    from geo.accounts.users import create_user

    create_user(engine, "maire@psq.test", "maire", "mot de passe du maire", commune="90011")
    mayor = app.test_client()
    assert login(mayor, "maire@psq.test", "mot de passe du maire").status_code == 302
    response = mayor.get("/commune/90010")
    assert response.status_code == 403
    assert_strong(policy_of(response))


def test_the_tile_server_is_the_only_outside_origin_and_for_images_only(database_url, engine):
    from web import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "BASE_TILES_URL": "https://{s}.tuiles.intranet.example/{z}/{x}/{y}.png"})
    policy = policy_of(app.test_client().get("/connexion"))
    assert_strong(policy, extra_img=("https://*.tuiles.intranet.example",))
    assert "https://*.tuiles.intranet.example" in policy["img-src"]
    assert [d for d, s in policy.items() if any("intranet.example" in x for x in s)] == ["img-src"]
    # Without tiles, no outside origin at all.
    policy = policy_of(create_app({"TESTING": True, "DATABASE_URL": database_url}).test_client().get("/connexion"))
    assert_strong(policy)


def test_the_checks_catch_a_weak_policy():
    """The helpers of tests/fixtures/csp.py fail on what they must refuse (so the tests above can fail)."""
    weak = [{**REQUIRED, "script-src": ["'self'", "'unsafe-inline'"]},
            {**REQUIRED, "script-src": ["'self'", "https://cdn.example"]},
            {**REQUIRED, "script-src": ["'self'"], "img-src": ["*"]},
            {**{k: v for k, v in REQUIRED.items() if k != "object-src"}, "script-src": ["'self'"]}]
    for policy in weak:
        with pytest.raises(AssertionError):
            assert_strong(policy)
    with pytest.raises(AssertionError):
        assert_scripts_carry_the_nonce('<script nonce="abc">ok()</script><script>evil()</script>', "abc", "x")
    with pytest.raises(AssertionError):
        assert_scripts_carry_the_nonce('<p><img src=x onerror="evil()"></p>', "abc", "x")
    with pytest.raises(AssertionError):
        assert_scripts_carry_the_nonce('<a href=" JavaScript:evil()">x</a>', "abc", "x")
    # Escaped text that reads like a handler is text, not an attribute.
    assert_scripts_carry_the_nonce('<tr data-sector="A&lt;img src=x onerror=&quot;evil()&quot;&gt;">'
                                   '<td>&lt;img src=x onerror="evil()"&gt; javascript:</td></tr>', "abc", "x")
    assert_scripts_carry_the_nonce('<script nonce="abc">a()</script><script src="/static/a.js"></script>'
                                   '<script type="application/json" id="c">{"a": "<\\/script>"}</script>', "abc", "x")


@pytest.mark.parametrize("secure", [False, True])
def test_the_session_cookie_follows_the_setting(database_url, engine, admin_account, login, secure):
    """Talisman forces nothing: over plain HTTP the login works, Secure is set only when asked."""
    from web import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "SESSION_COOKIE_SECURE": secure})
    response = login(app.test_client(), *admin_account)
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert ("Secure" in cookie) is secure
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
