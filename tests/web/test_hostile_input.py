"""Hostile input, replayed (issue 14): each case found by probing the demo gets a 4xx with one French sentence
(JSON under /api/), never a 500, and changes nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.fixtures.accounts import CHIEF, account, client_as, csrf_token_in

SECTOR = "/secteur/CSP%20Belfort/BEL-CENTRE"
INSIDE = (6.854562, 47.638999)


def square(lon=INSIDE[0], lat=INSIDE[1], half=0.001):
    return {"type": "Polygon", "coordinates": [[[lon - half, lat - half], [lon + half, lat - half],
                                                [lon + half, lat + half], [lon - half, lat + half],
                                                [lon - half, lat - half]]]}


@pytest.fixture
def chief(app, engine, territory, login):
    client = client_as(app, login, *account(engine, CHIEF[0], "chef_secteur", CHIEF[1],
                                            sectors=["BEL-CENTRE", "BEL-GLACIS"]))
    client.token = csrf_token_in(client.get("/page-absente").text)
    client.csp_id = territory
    return client


def post_raw(client, url, body: bytes | str):
    return client.post(url, data=body, content_type="application/json", headers={"X-CSRFToken": client.token})


def zone(client, **fields):
    body = {"csp_id": client.csp_id, "sector_code": "BEL-CENTRE", "geometry": square(), "reason": "Parvis",
            **fields}
    return post_raw(client, "/api/zones", json.dumps(body))


def zones_stored(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM patrol_zone")).scalar_one()


def refused(response, status: int, sentence: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    if response.is_json:
        assert response.json["error"] == sentence
    else:
        import html
        assert sentence in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(("body", "kind"), [("[1, 2]", "une liste"), ('"x"', "un texte"), ("5", "un nombre"),
                                            ("true", "un booléen"), ("null", "null")])
def test_a_json_body_that_is_not_an_object(chief, engine, body, kind):
    refused(post_raw(chief, "/api/zones", body), 400, f"Un objet JSON est attendu, pas {kind}.")
    assert zones_stored(engine) == 0


@pytest.mark.parametrize("levels", [5_000, 100_000])
def test_json_nested_thousands_of_levels(chief, engine, levels):
    body = '{"reason": ' + "[" * levels + "]" * levels + "}"
    answer = post_raw(chief, "/api/zones", body)
    assert answer.status_code == 400 and "imbriqué trop profondément" in answer.json["error"]


def test_unreadable_json_says_where(chief):
    refused(post_raw(chief, "/api/zones", '{"reason": '), 400,
            "Le corps de la requête n'est pas du JSON valide (ligne 1, colonne 12).")


def test_strings_postgresql_cannot_store(chief, engine):
    refused(post_raw(chief, "/api/zones", '{"reason": "a\\u0000b"}'), 400,
            "Un texte du JSON contient un caractère nul (\\0) : il est refusé.")
    refused(post_raw(chief, "/api/zones", '{"reason": "\\ud800"}'), 400,
            "Un texte du JSON contient un caractère invalide (une moitié de paire UTF-16).")
    assert zones_stored(engine) == 0


def test_bodies_too_large_are_refused_before_reading(chief, engine):
    refused(zone(chief, reason="x" * (5 * 1024 * 1024)), 413, "La requête est trop volumineuse.")
    refused(post_raw(chief, "/api/zones", b"{" + b" " * (10 * 1024 * 1024) + b"}"), 413,
            "La requête est trop volumineuse.")
    ring = [[INSIDE[0] + 0.001 * k / 1e6, INSIDE[1]] for k in range(1_000_000)]
    big = post_raw(chief, "/api/zones", json.dumps({"geometry": {"type": "Polygon", "coordinates": [ring]}}))
    assert big.status_code == 413
    assert zones_stored(engine) == 0


def test_fields_out_of_bounds(chief, engine):
    refused(zone(chief, reason=5), 400, "Le motif de la zone est un texte.")
    refused(zone(chief, reason="x" * 3000), 400, "Le motif fait 3\u202f000 caractères : au plus 2\u202f000.")
    refused(zone(chief, time_slots=5), 400,
            "Les créneaux sont un texte (« ven-sam 20:00-02:00 ») ou une liste de textes.")
    refused(zone(chief, time_slots=["lun 10:00-11:00"] * 20_000), 400, "20\u202f000 créneaux : au plus 50 par zone.")
    refused(zone(chief, problem_ids=[2**40]), 400, "Le problème n° 1099511627776 n'est pas un problème du secteur "
                                                   "BEL-CENTRE.")
    refused(zone(chief, problem_ids="1,2"), 400, "Les problèmes liés sont une liste de numéros.")
    refused(zone(chief, valid_to="9999-12-31"), 400, "La date de fin (31/12/9999) est hors des années 1990 à 2100.")
    many = {"type": "Polygon", "coordinates": [[[INSIDE[0] + 1e-7 * k, INSIDE[1] + 1e-9 * k * k]
                                               for k in range(20_000)] + [[INSIDE[0], INSIDE[1]]]]}
    refused(zone(chief, geometry=many), 400, "La zone a 20\u202f001 sommets : au plus 10\u202f000 (simplifiez son contour).")
    for lon, lat in ((1e308, 47.6), (6.85, 95.0)):
        refused(zone(chief, geometry=square(lon, lat)), 400,
                "La zone a des coordonnées impossibles : longitude entre -180 et 180, latitude entre -90 et 90, "
                "en degrés.")
    assert zones_stored(engine) == 0


def test_ids_beyond_the_database_integer(chief):
    for url in ("/api/zones/2147483648", "/api/zones/99999999999999999999/supprimer"):
        refused(post_raw(chief, url, "{}"), 404, f"Aucun objet ne porte le numéro {url.split('/')[3]}.")
    refused(chief.get("/zones/2147483648/briefing"), 404, "Aucun objet ne porte le numéro 2147483648.")


def test_nul_in_a_path_or_a_query(chief):
    sentence = "La requête contient un caractère nul (\\0) : elle est refusée."
    refused(chief.get(SECTOR + "%00"), 400, sentence)
    refused(chief.get(SECTOR + "?du=%00"), 400, sentence)
    refused(chief.get("/api/secteurs/CSP%20Belfort/BEL-CENTRE/cellules?bbox=%00"), 400, sentence)


def test_nul_in_the_login_email_before_log_in(client):
    answer = client.post("/connexion", data={"email": "chef\x00@psq.test", "password": "x"})
    refused(answer, 400, "La requête contient un caractère nul (\\0) : elle est refusée.")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-05"])
def test_dates_at_the_ends_of_the_calendar(chief, day):
    shown = f"{day[8:]}/{day[5:7]}/{day[:4]}"
    sentence = f"La date du {shown} est hors des années 1990 à 2100."
    refused(chief.get(f"{SECTOR}?au={day}"), 400, sentence)
    refused(chief.get(f"/api/secteurs/CSP%20Belfort/BEL-CENTRE/cellules?au={day}&bbox=6.8,47.6,6.9,47.7"), 400,
            sentence)
    refused(chief.get(f"/api/secteurs/CSP%20Belfort/BEL-CENTRE/tuiles/14/8503/5719.mvt?du={day}"), 400, sentence)


def test_a_mayor_asking_for_year_one(app, engine, territory, login):
    mayor = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    refused(mayor.get("/commune/90010?au=0001-01"), 400, "« au » (01/01/0001) est hors des années 1990 à 2100.")


def test_the_whole_world_as_bbox_is_clipped_to_france(chief):
    answer = chief.get("/api/secteurs/CSP%20Belfort/BEL-CENTRE/cellules?bbox=-180,-90,180,90")
    assert answer.status_code == 200 and answer.json["type"] == "FeatureCollection"
    assert chief.get("/api/secteurs/CSP%20Belfort/BEL-CENTRE/cellules?bbox=100,10,110,20").json["features"] == []


def test_an_unknown_page_and_a_wrong_method_answer_in_french(chief):
    refused(chief.get("/nulle-part"), 404, "Page introuvable.")
    refused(chief.get("/api/zones"), 405, "Cette adresse ne répond pas à cette méthode.")
    assert chief.get("/nulle-part").headers["X-Request-Id"]


def test_every_answer_carries_the_protective_headers(app, admin_client, territory):
    """Every route of the URL map, refusals included: no framing, no sniffing, no referrer leaves the site."""
    from tests.fixtures.routes import routes

    app.config["WTF_CSRF_ENABLED"] = False
    for endpoint, method, url in routes(app):
        answer = admin_client.post(url, json={}) if method == "POST" else admin_client.get(url)
        headers = answer.headers
        assert answer.status_code < 500, (url, answer.status_code)
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "same-origin", url
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], url
        assert headers["X-Request-Id"], url
