"""The page /alertes: a mayor sees his own alerts only and sets his opt-ins; bad input changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from geo.accounts.users import authenticate
from geo.alerts.subscriptions import subscribe, subscriptions
from tests.fixtures.accounts import account, client_as, csrf_token_in
from tests.geo.alerts.conftest import import_rows, outbox, recent

BELFORT = ("maire.belfort@psq.test", "mot de passe de test")
OTHER = ("maire.autre@psq.test", "mot de passe de test")


@pytest.fixture
def towns(engine, territory, tmp_path):
    """Two mayors alerted of rodeos, one pending alert each; (Belfort's id, the other's id, the other's name)."""
    with engine.connect() as conn:
        other_insee, other_name = conn.execute(sa.text(
            "SELECT insee, name FROM commune WHERE insee LIKE '90%' AND insee <> '90010' ORDER BY insee LIMIT 1")).one()
    account(engine, BELFORT[0], "maire", BELFORT[1], commune="90010")
    account(engine, OTHER[0], "maire", OTHER[1], commune=other_insee)
    ids = [authenticate(engine, email, password).id for email, password in (BELFORT, OTHER)]
    for user_id in ids:
        subscribe(engine, user_id, {"rodeos": False})
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(1)), ("2", "rodeos", other_insee, recent(2))])
    return ids[0], ids[1], other_name


def test_a_mayor_sees_his_alerts_and_not_another_towns(app, login, towns):
    _, _, other_name = towns
    page = client_as(app, login, *BELFORT).get("/alertes")
    assert page.status_code == 200
    assert "Rodéos et deux-roues" in page.text and "en attente" in page.text and ">Belfort<" in page.text
    assert other_name not in page.text and "maire.autre" not in page.text
    assert 'href="/alertes"' in page.text  # the menu's link

    other = client_as(app, login, *OTHER).get("/alertes")
    assert f">{other_name}<" in other.text and ">Belfort<" not in other.text


def test_an_admin_sees_every_alert_and_has_no_form(app, admin_client, towns):
    page = admin_client.get("/alertes")
    assert page.status_code == 200 and page.text.count("Rodéos et deux-roues") == 2
    assert "maire.autre@psq.test" in page.text and "Mes abonnements" not in page.text
    token = csrf_token_in(page.text)
    refused = admin_client.post("/alertes/abonnements", data={"csrf_token": token, "categorie": "rodeos"})
    assert refused.status_code == 403


def test_other_roles_are_refused(app, engine, login, towns):
    account(engine, "chef.alertes@psq.test", "chef_secteur", "mot de passe de test", sectors=["BEL-CENTRE"])
    client = client_as(app, login, "chef.alertes@psq.test", "mot de passe de test")
    assert client.get("/alertes").status_code == 403


def test_a_mayor_sets_his_opt_ins(app, engine, login, towns):
    belfort_id, other_id, _ = towns
    client = client_as(app, login, *BELFORT)
    page = client.get("/alertes")
    assert 'name="categorie" value="rodeos" checked' in page.text
    token = csrf_token_in(page.text)
    saved = client.post("/alertes/abonnements", data={
        "csrf_token": token, "categorie": ["incivilites", "stupefiants"], "mode-incivilites": "resume",
        "mode-stupefiants": "immediate", "mode-rodeos": "resume"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/alertes#abonnements")
    assert subscriptions(engine, belfort_id) == {"incivilites": True, "stupefiants": False}
    assert subscriptions(engine, other_id) == {"rodeos": False}  # another mayor's untouched

    for bad in ({"categorie": "licornes"}, {"categorie": "rodeos", "mode-rodeos": "hebdomadaire"},
                {"categorie": "<script>alert(1)</script>"}):
        answer = client.post("/alertes/abonnements", data={"csrf_token": token, **bad})
        assert answer.status_code == 400, bad
        assert "<script>alert(1)" not in answer.text
        assert subscriptions(engine, belfort_id) == {"incivilites": True, "stupefiants": False}
    assert "n&#39;est pas une catégorie" in client.post("/alertes/abonnements", data={
        "csrf_token": token, "categorie": "licornes"}).text

    no_token = client.post("/alertes/abonnements", data={"categorie": "rodeos"})
    assert no_token.status_code == 400
    assert subscriptions(engine, belfort_id) == {"incivilites": True, "stupefiants": False}
    assert len(outbox(engine)) == 2
