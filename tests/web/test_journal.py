"""The admin page of the audit log (issue 14 item 8): filters, pages, refusals, hostile text shown as text."""

from __future__ import annotations

from html import unescape

import sqlalchemy as sa

from geo.db.audit import audit
from tests.fixtures.accounts import account, client_as

URL = "/admin/journal"


def _log(engine, rows):
    with engine.begin() as conn:
        for action, target, ip in rows:
            audit(conn, action, target=target, ip=ip, details={"note": "<b>gras</b>"})


def test_the_admin_reads_and_filters_the_log(admin_client, engine):
    _log(engine, [("login.failure", "x@example.fr", "10.0.0.1"), ("export.sectors", "stdout", None),
                  ("login.failure", "<script>alert(1)</script>", "10.0.0.2")])
    page = admin_client.get(URL)
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Journal d'audit" in text and "export.sectors" in text and "login.success" in text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text  # drawn as text
    assert "<b>gras</b>" not in page.text
    only_failures = admin_client.get(URL + "?action=login.f").text
    assert only_failures.count("<code>login.failure</code>") == 2 and "export.sectors" not in only_failures
    by_address = admin_client.get(URL + "?ip=10.0.0.1").text
    assert "x@example.fr" in by_address and "alert(1)" not in by_address
    by_target = admin_client.get(URL + "?cible=STDOUT").text
    assert "export.sectors" in by_target and "x@example.fr" not in by_target
    by_user = admin_client.get(URL + "?utilisateur=admin").text
    assert "login.success" in by_user and "export.sectors" not in by_user
    # A wildcard typed in the action is a character, not a wildcard.
    assert "Aucune ligne du journal" in unescape(admin_client.get(URL + "?action=%25").text)


def test_pages_of_a_hundred_rows(admin_client, engine):
    _log(engine, [("export.sectors", f"fichier-{i:03d}", None) for i in range(150)])
    first = admin_client.get(URL + "?action=export.").text
    assert first.count("<code>export.sectors</code>") == 100
    assert "fichier-149" in first and "fichier-049" not in first
    older = unescape(first).split('href="')[-1].split('"')[0]
    assert "avant=" in older
    second = admin_client.get(older).text
    assert second.count("<code>export.sectors</code>") == 50 and "fichier-049" in second
    assert "Lignes plus anciennes" not in second


def test_bad_filters_are_refused_in_one_sentence(admin_client, engine):
    for query, message in (("du=2026-02-30", "La date « du » = « 2026-02-30 » n'est pas une date valide"),
                           ("au=9999-12-31", "La date « au » est hors des années 1990 à 2100."),
                           ("avant=-3", "« avant » = « -3 » n'est pas un numéro de ligne du journal."),
                           ("avant=99999999999999999999", "n'est pas un numéro de ligne du journal"),
                           ("cible=" + "x" * 201, "Le filtre « cible » dépasse 200 caractères.")):
        page = admin_client.get(f"{URL}?{query}")
        assert page.status_code == 400, query
        assert message in unescape(page.text), query


def test_the_log_is_for_admins_only(app, engine, territory, login):
    _log(engine, [("export.sectors", "stdout", None)])
    for email, role, scope in (("chef@example.fr", "chef_secteur", {"sectors": ["BEL-CENTRE"]}),
                               ("referent@example.fr", "referent", {}),
                               ("maire@example.fr", "maire", {"commune": "90010"}),
                               ("partenaire@example.fr", "partenaire", {})):
        client = client_as(app, login, *account(engine, email, role, **scope))
        page = client.get(URL)
        assert page.status_code == 403, role
        assert "Cette page n'est pas ouverte au rôle" in unescape(page.text)
        assert "Journal d'audit" not in unescape(client.get("/").text if role != "chef_secteur" else
                                                  client.get("/csp/CSP Belfort").text)
    anonymous = app.test_client().get(URL)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/connexion")


def test_the_menu_of_an_admin_links_the_log(admin_client):
    assert 'href="/admin/journal"' in admin_client.get("/").text


def test_reading_the_log_writes_nothing(admin_client, engine):
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    admin_client.get(URL)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == before
