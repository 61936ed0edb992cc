"""Accounts, login, logout, CSRF and access by role: `psq user`, the Flask test client, real PostGIS."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
import sqlalchemy as sa

from geo.accounts.users import FREE_FAILURES, create_user
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from tests.support import BOUNDARIES, table_snapshot

PASSWORD = "un mot de passe solide"
BAD_CREDENTIALS = ("Adresse ou mot de passe incorrect, ou trop d'essais récents pour ce compte : "
                   "vérifiez-les, ou réessayez dans quelques minutes.")
SQUARE = "ST_Multi(ST_MakeEnvelope(990000, 6720000, 991000, 6721000, 2154))"


@pytest.fixture
def sectors(engine):
    """The demo sectors of CSP Belfort, without communes (enough for a chief's scope)."""
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2024, 1, 1))


@pytest.fixture
def belfort(engine, sectors):
    """The sectors and, for a mayor's scope, the commune of Belfort alone (drawn as its central sector):
    loading every commune of the département takes seconds; the tests that need them load them."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO departement (code, name) VALUES ('90', 'Territoire de Belfort')"))
        conn.execute(sa.text("INSERT INTO commune (insee, name, departement_code, population, area_km2, geom) "
                             "SELECT '90010', 'Belfort', '90', 46000, ST_Area(geom) / 1e6, geom FROM sector "
                             "WHERE code = 'BEL-CENTRE'"))


def csrf_token_in(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def _rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


# -- psq user add / list ----------------------------------------------------------------
REFUSALS = [
    (["a@example.fr", "--role", "chef"],
     "Unknown role 'chef': choose one of admin, chef_secteur, referent, maire, partenaire."),
    (["jean.dupont", "--role", "admin"], "'jean.dupont' is not a valid email address."),
    (["a b@example.fr", "--role", "admin"], "'a b@example.fr' is not a valid email address."),
    (["a@example.fr", "--role", "admin", "--password", "trop court"],
     "The password is too short: 12 characters at least."),
    (["a@example.fr", "--role", "chef_secteur"], "A chef_secteur needs at least one sector code."),
    (["a@example.fr", "--role", "chef_secteur", "--sector", "BEL-NULLE"],
     "Unknown sector code 'BEL-NULLE': no current sector has it."),
    (["a@example.fr", "--role", "chef_secteur", "--sector", "BEL-CENTRE", "--csp", "CSP Nulle"],
     "Unknown CSP 'CSP Nulle'."),
    (["a@example.fr", "--role", "chef_secteur", "--sector", "BEL-CENTRE", "--commune", "90010"],
     "A chef_secteur's scope is sectors, not a commune."),
    (["a@example.fr", "--role", "maire"], "A maire needs the INSEE code of his commune."),
    (["a@example.fr", "--role", "maire", "--commune", "99999"],
     "Unknown commune: no commune has the INSEE code 99999."),
    (["a@example.fr", "--role", "maire", "--commune", "90010", "--sector", "BEL-CENTRE"],
     "A maire's scope is his commune, not sectors."),
    (["a@example.fr", "--role", "admin", "--sector", "BEL-CENTRE"],
     "The role admin has no scope: give it no sector, CSP or commune."),
    (["a@example.fr", "--role", "referent", "--commune", "90010"],
     "The role referent has no scope: give it no sector, CSP or commune."),
    (["a@example.fr", "--role", "partenaire", "--csp", "CSP Belfort"],
     "The role partenaire has no scope: give it no sector, CSP or commune."),
]


@pytest.mark.parametrize("args, message", REFUSALS, ids=[m for _, m in REFUSALS])
def test_user_add_refusals_say_why_in_one_sentence(psq, engine, args, message):
    before = table_snapshot(engine)
    result = psq("user", "add", *args)
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"
    assert table_snapshot(engine) == before


def test_a_duplicate_address_is_refused_whatever_its_case(psq, engine):
    assert psq("user", "add", "claire.martin@example.fr", "--role", "admin").exit_code == 0
    result = psq("user", "add", "Claire.Martin@Example.FR", "--role", "referent")
    assert result.exit_code == 1
    assert result.output == "Error: A user with the email claire.martin@example.fr already exists.\n"
    assert _rows(engine, "SELECT email, role FROM app_user") == [("claire.martin@example.fr", "admin")]


def test_a_sector_code_of_two_csps_needs_the_csp(psq, engine, sectors):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO csp (name) VALUES ('CSP Autre')"))
        conn.execute(sa.text(f"INSERT INTO sector (csp_id, code, name, geom, valid_from) "
                             f"SELECT id, 'BEL-CENTRE', 'Homonyme', {SQUARE}, '2024-01-01' FROM csp "
                             f"WHERE name = 'CSP Autre'"))
    result = psq("user", "add", "chef@example.fr", "--role", "chef_secteur", "--sector", "BEL-CENTRE")
    assert result.exit_code == 1
    assert result.output == ("Error: The sector code 'BEL-CENTRE' exists in several CSPs (CSP Autre, CSP Belfort): "
                             "name the CSP.\n")
    result = psq("user", "add", "chef@example.fr", "--role", "chef_secteur", "--sector", "BEL-CENTRE",
                 "--csp", "CSP Belfort")
    assert result.exit_code == 0, result.output
    assert _rows(engine, "SELECT c.name, us.sector_code FROM user_sector us JOIN csp c ON c.id = us.csp_id") == [
        ("CSP Belfort", "BEL-CENTRE")]


def test_a_closed_sector_cannot_be_given(psq, engine, sectors):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sector SET valid_to = '2024-06-01' WHERE code = 'AGG-EST'"))
    result = psq("user", "add", "chef@example.fr", "--role", "chef_secteur", "--sector", "AGG-EST")
    assert result.output == "Error: Unknown sector code 'AGG-EST': no current sector has it.\n"


def test_generated_password_is_printed_once_and_stored_hashed(psq, engine, sectors):
    result = psq("user", "add", "Chef.Centre@Example.fr", "--role", "chef_secteur", "--sector", "BEL-CENTRE",
                 "--sector", "BEL-GLACIS", "--name", "Claire Martin")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "User chef.centre@example.fr created (chef_secteur, CSP Belfort: BEL-CENTRE BEL-GLACIS)."
    password = re.fullmatch(r"Password: (\S+)", lines[1]).group(1)
    assert len(password) >= 12
    [(stored,)] = _rows(engine, "SELECT password_hash FROM app_user")
    assert stored.startswith("$argon2id$") and password not in stored


def test_given_password_is_stored_hashed_and_never_printed(psq, engine):
    result = psq("user", "add", "maire@example.fr", "--role", "admin", "--password", PASSWORD)
    assert result.exit_code == 0
    assert PASSWORD not in result.output and "Password" not in result.output
    [(stored,)] = _rows(engine, "SELECT password_hash FROM app_user")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    [(details,)] = _rows(engine, "SELECT details::text FROM audit_log WHERE action = 'user.create'")
    assert PASSWORD not in details


def test_user_list(psq, belfort):
    assert psq("user", "list").output == "No user yet: create one with `psq user add EMAIL --role admin`.\n"
    psq("user", "add", "maire@example.fr", "--role", "maire", "--commune", "90010", "--name", "Camille Durand")
    psq("user", "add", "admin@example.fr", "--role", "admin")
    lines = psq("user", "list").output.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["email", "role", "name", "scope", "state", "last login"]
    assert re.split(r"\s{2,}", lines[1]) == ["admin@example.fr", "admin", "-", "active", "never"]
    assert re.split(r"\s{2,}", lines[2]) == ["maire@example.fr", "maire", "Camille Durand", "commune 90010",
                                             "active", "never"]


# -- logging in ------------------------------------------------------------------------
@pytest.fixture
def users(engine, belfort):
    """One user of each role, all with PASSWORD."""
    for email, role, scope in [
        ("admin@example.fr", "admin", {}),
        ("chef@example.fr", "chef_secteur", {"sectors": ["AGG-NORD"]}),
        ("referent@example.fr", "referent", {}),
        ("maire@example.fr", "maire", {"commune": "90010"}),
        ("partenaire@example.fr", "partenaire", {}),
    ]:
        create_user(engine, email, role, PASSWORD, **scope)


@pytest.mark.parametrize("email, landing", [
    ("admin@example.fr", "/"),
    ("referent@example.fr", "/referents"),  # the référents' coverage map
    ("partenaire@example.fr", "/"),
    ("chef@example.fr", "/secteur/CSP%20Belfort/AGG-NORD"),
    ("maire@example.fr", "/commune/90010"),
])
def test_each_role_lands_on_the_page_of_its_scope(client, login, users, engine, email, landing):
    response = login(client, email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == landing
    [(last_login,)] = _rows(engine, "SELECT last_login_at FROM app_user WHERE email = :e", e=email)
    assert last_login is not None


def test_login_goes_back_to_the_page_asked_but_never_to_another_site(client, login, users):
    assert login(client, "admin@example.fr", PASSWORD, next_page="/csp/CSP%20Belfort?date=2024-06-01").headers[
        "Location"] == "/csp/CSP%20Belfort?date=2024-06-01"
    other = client.application.test_client()
    assert login(other, "admin@example.fr", PASSWORD, next_page="//evil.example/").headers["Location"] == "/"


def test_bad_password_and_unknown_address_get_the_same_message(client, login, users, engine):
    for email in ("admin@example.fr", "personne@example.fr"):
        page = login(client, email, "pas le bon mot de passe")
        assert page.status_code == 200
        assert BAD_CREDENTIALS in unescape(page.text)
        assert client.get("/").headers["Location"] == "/connexion"
    assert _rows(engine, "SELECT action, target, details->>'reason' FROM audit_log WHERE action LIKE 'login.%' "
                         "ORDER BY id") == [("login.failure", "admin@example.fr", "wrong password"),
                                            ("login.failure", "personne@example.fr", "unknown email")]


def test_an_empty_form_says_what_is_missing(client, users):
    token = csrf_token_in(client.get("/connexion").text)
    page = client.post("/connexion", data={"csrf_token": token, "email": "", "password": ""})
    assert page.status_code == 200
    assert "Saisissez votre adresse électronique." in page.text and "Saisissez votre mot de passe." in page.text


def _fail(client, login, email: str, times: int):
    for _ in range(times):
        page = login(client, email, "pas le bon mot de passe")
        assert page.status_code == 200 and BAD_CREDENTIALS in unescape(page.text)
    return page


def test_repeated_failures_slow_the_account_with_growing_waits_and_one_message(app, client, login, users, engine):
    """The issue's finding: five anonymous failures locked any account, and the lock message told real
    addresses apart. Now the account waits (30 s, then doubling up to 10 minutes) and every refusal is
    the same sentence, even for the right password during the wait."""
    _fail(client, login, "chef@example.fr", FREE_FAILURES)
    assert _rows(engine, "SELECT throttled_until FROM app_user WHERE email = 'chef@example.fr'") == [(None,)]
    _fail(client, login, "chef@example.fr", 1)
    [(wait,)] = _rows(engine, "SELECT throttled_until - now() FROM app_user WHERE email = 'chef@example.fr'")
    assert dt.timedelta(seconds=25) < wait <= dt.timedelta(seconds=30)
    other = app.test_client()  # a new browser: the right password waits too, with the same sentence
    page = login(other, "chef@example.fr", PASSWORD)
    assert page.status_code == 200 and BAD_CREDENTIALS in unescape(page.text)
    assert "verrouill" not in page.text
    # The wait ends by itself: then the right password works and the count starts again.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE app_user SET throttled_until = now() - interval '1 second' "
                             "WHERE email = 'chef@example.fr'"))
    assert login(other, "chef@example.fr", PASSWORD).headers["Location"] == "/secteur/CSP%20Belfort/AGG-NORD"
    assert _rows(engine, "SELECT failed_logins, throttled_until FROM app_user WHERE email = 'chef@example.fr'") == [
        (0, None)]
    actions = [a for (a,) in _rows(engine, "SELECT action FROM audit_log WHERE target = 'chef@example.fr' "
                                           "AND action NOT LIKE 'write.%' ORDER BY id")]
    assert actions == (["user.create"] + ["login.failure"] * 6 + ["user.throttle", "login.throttled",
                                                                   "login.success"])


def test_waits_grow_but_stay_bounded(client, login, users, engine):
    waits = []
    for _ in range(12):
        with engine.begin() as conn:  # as if the attacker waited each time for the end of the wait
            conn.execute(sa.text("UPDATE app_user SET throttled_until = NULL WHERE email = 'chef@example.fr'"))
        _fail(client, login, "chef@example.fr", 1)
        [(wait,)] = _rows(engine, "SELECT extract(epoch FROM throttled_until - now()) FROM app_user "
                                  "WHERE email = 'chef@example.fr'")
        waits.append(0 if wait is None else round(float(wait) / 30) * 30)
    assert waits == [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 600, 600]


def test_an_attack_never_keeps_the_owner_out_of_his_own_browser(app, client, login, users, engine):
    """The owner's browser, where he logged in before, carries a signed mark: the wait does not apply there,
    however many failures come from elsewhere."""
    owner = app.test_client()
    assert login(owner, "chef@example.fr", PASSWORD).status_code == 302
    assert owner.get_cookie("psq_navigateur") is not None
    owner.post("/deconnexion", data={"csrf_token": csrf_token_in(owner.get("/csp/CSP Belfort").text)})
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # a guesser spread over three addresses
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = address
        _fail(attacker, login, "chef@example.fr", 8)
    [(wait,)] = _rows(engine, "SELECT throttled_until - now() FROM app_user WHERE email = 'chef@example.fr'")
    assert wait > dt.timedelta(0)  # attempts during the wait are refused unread: it does not grow
    # A forged mark, or the mark of another account, is no mark: the right password waits there.
    stranger = app.test_client()
    stranger.set_cookie("psq_navigateur", owner.get_cookie("psq_navigateur").value[:-2] + "xx")
    assert BAD_CREDENTIALS in unescape(login(stranger, "chef@example.fr", PASSWORD).text)
    other_account = app.test_client()
    assert login(other_account, "admin@example.fr", PASSWORD).status_code == 302
    other_account.post("/deconnexion", data={"csrf_token": csrf_token_in(other_account.get("/csp/CSP Belfort").text)})
    assert BAD_CREDENTIALS in unescape(login(other_account, "chef@example.fr", PASSWORD).text)
    # The owner's own browser is let in at once.
    assert login(owner, "chef@example.fr", PASSWORD).headers["Location"] == "/secteur/CSP%20Belfort/AGG-NORD"


def test_an_admin_lifts_the_wait_from_the_command_line(client, login, users, engine, psq):
    _fail(client, login, "chef@example.fr", FREE_FAILURES + 3)
    result = psq("user", "unthrottle", "Chef@example.fr")
    assert result.exit_code == 0, result.output
    assert "chef@example.fr may log in again" in result.output
    assert login(client, "chef@example.fr", PASSWORD).status_code == 302
    assert _rows(engine, "SELECT action FROM audit_log WHERE action = 'user.unthrottle'") == [("user.unthrottle",)]
    refused = psq("user", "unthrottle", "personne@example.fr")
    assert refused.exit_code == 1 and "No user has the email personne@example.fr." in refused.output


def test_failed_logins_are_limited_per_client_address(app, login, users, engine):
    """The issue's finding: 20 addresses were sprayed in 6.9 s from one client. After LOGIN_ADDRESS_LIMIT
    failures an address gets 429 in French; other addresses, and successes, are not counted."""
    app.config["LOGIN_ADDRESS_LIMIT"] = "4 per 10 minutes"
    sprayer = app.test_client()
    sprayer.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    for email in ("a@example.fr", "b@example.fr", "c@example.fr", "d@example.fr"):
        assert BAD_CREDENTIALS in unescape(login(sprayer, email, "devine").text)
    stopped = login(sprayer, "admin@example.fr", PASSWORD)
    assert stopped.status_code == 429
    assert "Trop d'échecs de connexion depuis votre adresse réseau" in unescape(stopped.text)
    assert int(stopped.headers["Retry-After"]) > 0
    assert _rows(engine, "SELECT count(*) FROM audit_log WHERE action LIKE 'login.%' AND ip = '10.9.9.9'") == [(4,)]
    colleague = app.test_client()  # the same station, another address: not stopped
    colleague.environ_base["REMOTE_ADDR"] = "10.9.9.10"
    for _ in range(6):  # successes do not count
        assert login(colleague, "referent@example.fr", PASSWORD).status_code == 302
        colleague.post("/deconnexion", data={"csrf_token": csrf_token_in(colleague.get("/csp/CSP Belfort").text)})


def test_json_endpoints_are_limited_per_user(app, client, login, users, belfort):
    app.config["API_USER_LIMIT"] = "3 per minute"
    login(client, "admin@example.fr", PASSWORD)
    url = "/api/secteurs/CSP Belfort/BEL-CENTRE/cellules?bbox=6.80,47.60,6.90,47.66"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(url)
    assert refused.status_code == 429 and refused.json == {
        "error": "Trop de requêtes pour votre compte : réessayez dans une minute."}
    assert client.get("/api/secteurs/CSP Belfort/BEL-CENTRE/tuiles/14/8497/5788.mvt").status_code == 200
    other = app.test_client()  # another user is counted apart
    login(other, "referent@example.fr", PASSWORD)
    assert other.get(url).status_code == 200


def test_unknown_address_wrong_password_and_slowed_account_take_the_same_time(app, login, users, engine):
    """Each answer costs one argon2 verification: the time tells nothing (the issue measured 20 ms for a
    locked account against 247 ms for an unknown address). Medians of interleaved attempts agree within 2x."""
    import statistics
    import time

    app.config["LOGIN_ADDRESS_LIMIT"] = "1000 per minute"
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE app_user SET throttled_until = now() + interval '1 hour', failed_logins = 9 "
                             "WHERE email = 'chef@example.fr'"))
    cases = {"unknown": ("personne@example.fr", "devine"), "wrong": ("admin@example.fr", "devine"),
             "slowed": ("chef@example.fr", PASSWORD)}
    times = {name: [] for name in cases}
    client = app.test_client()
    for _ in range(7):
        for name, (email, password) in cases.items():
            token = csrf_token_in(client.get("/connexion").text)
            start = time.perf_counter()
            page = client.post("/connexion", data={"csrf_token": token, "email": email, "password": password})
            times[name].append(time.perf_counter() - start)
            assert page.status_code == 200 and BAD_CREDENTIALS in unescape(page.text)
    medians = {name: statistics.median(t) for name, t in times.items()}
    assert max(medians.values()) < 2 * min(medians.values()), medians


def test_a_deactivated_user_is_logged_out_and_cannot_log_in(client, login, users, engine):
    login(client, "admin@example.fr", PASSWORD)
    assert client.get("/csp/CSP Belfort").status_code == 200
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE app_user SET active = false WHERE email = 'admin@example.fr'"))
    assert client.get("/").headers["Location"] == "/connexion"
    assert BAD_CREDENTIALS in unescape(login(client, "admin@example.fr", PASSWORD).text)


def test_a_new_password_ends_the_open_sessions(client, login, users, engine):
    from geo.accounts.users import hash_password

    login(client, "admin@example.fr", PASSWORD)
    assert client.get("/csp/CSP Belfort").status_code == 200
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE app_user SET password_hash = :h WHERE email = 'admin@example.fr'"),
                     {"h": hash_password("un tout autre mot de passe")})
    assert client.get("/").headers["Location"] == "/connexion"


# -- logging out, CSRF -------------------------------------------------------------------
def test_logout_needs_a_post_with_the_csrf_token(client, login, users, engine):
    login(client, "referent@example.fr", PASSWORD)
    page = client.get("/csp/CSP Belfort")
    assert "Se déconnecter" in page.text and "référent sûreté" in page.text
    assert client.get("/deconnexion").status_code == 405
    refused = client.post("/deconnexion")
    assert refused.status_code == 400
    assert "Le jeton de sécurité (CSRF) est absent ou a expiré" in refused.text
    assert client.get("/csp/CSP Belfort").status_code == 200  # still logged in
    done = client.post("/deconnexion", data={"csrf_token": csrf_token_in(page.text)})
    assert done.status_code == 302 and done.headers["Location"] == "/connexion"
    assert "Vous êtes déconnecté." in client.get("/connexion").text
    assert client.get("/").headers["Location"] == "/connexion"
    assert [a for (a,) in _rows(engine, "SELECT action FROM audit_log WHERE target = 'referent@example.fr' "
                                        "ORDER BY id")] == ["user.create", "login.success", "logout"]


def test_a_session_cookie_saved_before_log_out_no_longer_opens_the_account(app, client, login, users):
    """The issue's finding: the cookie of a session, kept and replayed after log-out, still worked."""
    login(client, "referent@example.fr", PASSWORD)
    page = client.get("/csp/CSP Belfort")
    saved = client.get_cookie("session").value
    elsewhere = app.test_client()  # the same account on another computer, logged in before the log-out
    login(elsewhere, "referent@example.fr", PASSWORD)
    assert elsewhere.get("/csp/CSP Belfort").status_code == 200
    client.post("/deconnexion", data={"csrf_token": csrf_token_in(page.text)})
    client.set_cookie("session", saved)
    replayed = client.get("/csp/CSP Belfort")
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/connexion")
    assert elsewhere.get("/csp/CSP Belfort").status_code == 302  # log-out ends every session opened before
    login(client, "referent@example.fr", PASSWORD)
    assert client.get("/csp/CSP Belfort").status_code == 200  # a new log-in opens it again


def test_a_session_ends_after_its_idle_time_on_the_server(app, client, login, users):
    """The cookie's signature is dated and checked against PERMANENT_SESSION_LIFETIME on every request
    (Flask's signed session): a cookie kept past its idle time opens nothing, whatever its Expires says."""
    import datetime as dt
    import time

    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=2)
    login(client, "referent@example.fr", PASSWORD)
    assert client.get("/csp/CSP Belfort").status_code == 200
    saved = client.get_cookie("session").value
    time.sleep(1.2)
    assert client.get("/csp/CSP Belfort").status_code == 200  # a request within the idle time renews it
    time.sleep(3.2)
    client.set_cookie("session", saved)
    assert client.get("/csp/CSP Belfort").status_code == 302


def test_scripts_send_the_token_as_a_header(client, login, users):
    login(client, "admin@example.fr", PASSWORD)
    token = csrf_token_in(client.get("/csp/CSP Belfort").text)
    assert client.post("/deconnexion", headers={"X-CSRFToken": "faux"}).status_code == 400
    assert client.post("/deconnexion", headers={"X-CSRFToken": token}).status_code == 302


def test_a_login_post_without_csrf_token_is_refused(client, users):
    page = client.post("/connexion", data={"email": "admin@example.fr", "password": PASSWORD})
    assert page.status_code == 400
    assert "Le jeton de sécurité (CSRF) est absent ou a expiré" in page.text
    assert client.get("/").headers["Location"] == "/connexion"


def test_a_json_post_without_token_gets_json_400(client, login, users, app):
    @app.route("/api/essai", methods=["POST"])
    def essai():
        return {"ok": True}

    login(client, "admin@example.fr", PASSWORD)
    refused = client.post("/api/essai", json={"a": 1})
    assert refused.status_code == 400 and refused.json["error"].startswith("Le jeton de sécurité (CSRF)")
    token = csrf_token_in(client.get("/csp/CSP Belfort").text)
    assert client.post("/api/essai", json={"a": 1}, headers={"X-CSRFToken": token}).json == {"ok": True}


# -- anonymous users, access by role ---------------------------------------------------------
def test_anonymous_users_are_sent_to_the_login_page(client, belfort):
    assert client.get("/").headers["Location"] == "/connexion"
    assert client.get("/csp/CSP Belfort").headers["Location"] == "/connexion?next=/csp/CSP+Belfort"
    page = client.get("/connexion?next=/csp/CSP+Belfort")
    assert page.status_code == 200 and "Connectez-vous pour accéder à cette page." in page.text
    assert '<html lang="fr">' in page.text and "Mot de passe" in page.text
    assert client.get("/static/app.css").status_code == 200


def test_anonymous_json_gets_401(client):
    for response in (client.get("/api/secteurs"), client.post("/api/zones", json={})):
        assert response.status_code == 401
        assert response.json == {"error": "Authentification requise."}


@pytest.mark.parametrize("email, status", [
    ("admin@example.fr", 200),
    ("referent@example.fr", 200),
    ("chef@example.fr", 200),
    ("maire@example.fr", 403),
    ("partenaire@example.fr", 200),  # territory only: sectors and communes
])
def test_csp_page_by_role(client, login, users, email, status):
    login(client, email, PASSWORD)
    page = client.get("/csp/CSP Belfort")
    assert page.status_code == status
    if status == 403:
        assert "Accès refusé" in page.text
        assert ("La carte d&#39;une circonscription est réservée aux administrateurs, aux référents sûreté et aux "
                "chefs de secteur de la circonscription.") in page.text


def test_a_chief_sees_only_the_csp_of_his_sectors(client, login, users, engine):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO csp (name) VALUES ('CSP Autre')"))
        conn.execute(sa.text(f"INSERT INTO sector (csp_id, code, name, geom, valid_from) "
                             f"SELECT id, 'AUT-1', 'Autre', {SQUARE}, '2024-01-01' FROM csp WHERE name = 'CSP Autre'"))
    create_user(engine, "chef.autre@example.fr", "chef_secteur", PASSWORD, sectors=["AUT-1"])
    assert login(client, "chef.autre@example.fr", PASSWORD).headers["Location"] == "/secteur/CSP%20Autre/AUT-1"
    page = client.get("/csp/CSP Belfort")
    assert page.status_code == 403 and "Vous n&#39;avez pas accès à la circonscription « CSP Belfort »." in page.text
    assert client.get("/").headers["Location"] == "/secteur/CSP%20Autre/AUT-1"


def test_a_mayor_going_home_is_sent_to_his_commune(client, login, users):
    login(client, "maire@example.fr", PASSWORD)
    assert client.get("/").headers["Location"] == "/commune/90010"


def test_scope_checks(app, users, engine):
    from flask_login import login_user

    from geo.accounts.users import get_user
    from web import access
    from web.auth import LoginUser

    load_communes(engine, "90")
    insee = dict(_rows(engine, "SELECT name, insee FROM commune WHERE name IN ('Belfort', 'Valdoie', 'Andelnans')"))
    ids = dict(_rows(engine, "SELECT email, id FROM app_user"))
    [(csp_id,)] = _rows(engine, "SELECT id FROM csp")
    seen = {}
    for email in ids:
        with app.test_request_context("/"):
            login_user(LoginUser(get_user(engine, ids[email])))
            seen[email.split("@")[0]] = (
                *(access.can_see_commune(insee[name]) for name in ("Belfort", "Valdoie", "Andelnans")),
                access.can_see_sector(csp_id, "AGG-NORD"), access.can_see_sector(csp_id, "BEL-CENTRE"))
    # The chief of AGG-NORD (Valdoie, Offemont) sees Valdoie, not Belfort nor Andelnans (south).
    assert seen == {
        "admin": (True, True, True, True, True),
        "referent": (True, True, True, True, True),
        "chef": (False, True, False, True, False),
        "maire": (True, False, False, False, False),
        "partenaire": (False, False, False, False, False),
    }


def test_permission_required(app, login, users):
    from web.access import permission_required

    @app.route("/reserve-zones")
    @permission_required("zone.edit")
    def reserved():
        return "ok"

    referent = app.test_client()
    assert login(referent, "referent@example.fr", PASSWORD).status_code == 302
    page = referent.get("/reserve-zones")
    assert page.status_code == 403 and "Cette page n&#39;est pas ouverte au rôle référent sûreté." in page.text
    other = app.test_client()
    login(other, "admin@example.fr", PASSWORD)
    assert other.get("/reserve-zones").text == "ok"


# -- cookies, audit log ------------------------------------------------------------------------
def test_session_cookie_is_httponly_and_samesite_lax(client, login, users):
    response = login(client, "admin@example.fr", PASSWORD)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # off by default: the demo is served over plain HTTP


def test_secure_cookies_setting(database_url, users, login, monkeypatch):
    from web import create_app

    monkeypatch.setenv("PSQ_SECURE_COOKIES", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"})
    client = app.test_client()
    token = csrf_token_in(client.get("/connexion", base_url="https://localhost").text)
    # Over HTTPS, Flask-WTF also wants a Referer of the same site.
    response = client.post("/connexion", base_url="https://localhost", headers={"Referer": "https://localhost/connexion"},
                           data={"csrf_token": token, "email": "admin@example.fr", "password": PASSWORD})
    assert response.status_code == 302
    assert all("Secure" in cookie for cookie in response.headers.getlist("Set-Cookie"))


def test_audit_log_keeps_every_account_write_and_refuses_changes(client, login, users, engine):
    login(client, "maire@example.fr", PASSWORD)
    rows = _rows(engine, "SELECT action, target, user_id IS NOT NULL, ip FROM audit_log "
                         "WHERE action NOT LIKE 'write.%' ORDER BY id")
    assert rows[:5] == [("user.create", email, False, None) for email in (
        "admin@example.fr", "chef@example.fr", "referent@example.fr", "maire@example.fr", "partenaire@example.fr")]
    assert rows[5:] == [("login.success", "maire@example.fr", True, "127.0.0.1")]
    [(details,)] = _rows(engine, "SELECT details FROM audit_log WHERE target = 'maire@example.fr' "
                                 "AND action = 'user.create'")
    assert details == {"role": "maire", "sectors": [], "commune": "90010", "organisation": None,
                       "referent": None, "generated_password": False}
    for statement in ("UPDATE audit_log SET action = 'rien'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text(statement))
