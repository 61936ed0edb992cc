"""The GPO pages as each role uses them: the chief runs his GPO (agenda, meeting, actions, problem statuses, a
problem created from the map), a partner updates only his organisation's actions, a mayor reads, others are
refused; every refusal is one French sentence and writes nothing; what users wrote is drawn as text."""

from __future__ import annotations

import datetime as dt
import html

import markupsafe
import pytest
import sqlalchemy as sa

from geo.accounts.users import UserScope
from geo.gpo import meetings as gm
from geo.gpo.groups import add_gpo, add_organisation
from geo.settings import local_today
from tests.fixtures.accounts import account, client_as, csrf_token_in
from tests.fixtures.gpo import sector_problem

SCRIPT = "<script>alert('gpo')</script>"
ESCAPED = str(markupsafe.escape(SCRIPT))  # as Jinja writes it


@pytest.fixture
def gpo(engine, territory):
    landlord = add_organisation(engine, "Bailleur test", "bailleur_social")
    town = add_organisation(engine, "Mairie test", "mairie")
    gpo_id = add_gpo(engine, csp_id=territory, name="GPO Centre", sector_codes=["BEL-CENTRE"], rhythm="mensuel",
                     first_meeting_on=dt.date(2026, 1, 15), members=[landlord, town])
    return {"id": gpo_id, "landlord": landlord, "town": town,
            "problem": sector_problem(engine, "BEL-CENTRE", "Hall occupé " + SCRIPT, landlord)}


@pytest.fixture
def chief(app, engine, login, gpo):
    return client_as(app, login, *account(engine, "chef@psq.test", "chef_secteur", sectors=["BEL-CENTRE"]))


def _post(client, url: str, data: dict, page: str):
    return client.post(url, data={"csrf_token": csrf_token_in(client.get(page).text), **data})


def _meetings(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM meeting")).scalar_one()


def test_the_chief_opens_his_gpo_with_the_ranked_agenda_and_its_factors(chief, gpo):
    page = chief.get(f"/gpo/{gpo['id']}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Prochaine réunion" in text and "Ordre du jour" in text
    for header in ("Rang", "Récurrence", "Tendance", "Point chaud", "Gravité", "Lieux sensibles", "Ancienneté",
                   "Partenaires", "Score"):
        assert f">{header}<" in text, header
    assert SCRIPT not in page.text and ESCAPED in page.text  # the title is drawn as text


def test_the_chief_records_a_meeting_and_an_action_and_overdue_stands_out(chief, engine, gpo):
    page = f"/gpo/{gpo['id']}"
    today = local_today()
    response = _post(chief, f"{page}/reunions", {"date": today.isoformat(), "presents": [gpo["landlord"]],
                                                 "problemes": [gpo["problem"]], "decisions": "Décision " + SCRIPT,
                                                 f"decision-{gpo['problem']}": "Contrôle des caves"}, page)
    assert response.status_code == 303 and response.location.endswith(f"{page}#reunions")
    with engine.connect() as conn:
        rank, factors = conn.execute(sa.text("SELECT rank, factors FROM meeting_problem")).one()
    assert rank == 1 and "recurrence" in factors  # the agenda line as it stood
    response = _post(chief, f"{page}/actions", {"type": "controle_parties_communes", "partenaire": gpo["landlord"],
                                                "responsable": "M. Dupont", "probleme": gpo["problem"],
                                                "echeance": (today - dt.timedelta(days=3)).isoformat()}, page)
    assert response.status_code == 303
    shown = chief.get(page).text
    assert "en retard" in shown and "Contrôle des parties communes et caves" in html.unescape(shown)
    assert "Décision " + ESCAPED in shown and SCRIPT not in shown


@pytest.mark.parametrize("data, message", [
    ({"date": "2026-13-01"}, "« date de la réunion » : 2026-13-01 n'est pas une date (AAAA-MM-JJ)."),
    ({"date": "2099-01-01"}, "une réunion se consigne le jour même ou après"),
    ({"date": "2026-11-02", "presents": ["x"]}, "« présents » : un choix n'est pas un numéro."),
])
def test_a_bad_meeting_form_is_one_french_sentence_and_writes_nothing(chief, engine, gpo, data, message):
    response = _post(chief, f"/gpo/{gpo['id']}/reunions", data, f"/gpo/{gpo['id']}")
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert _meetings(engine) == 0


def test_the_chief_moves_a_problem_through_its_statuses_from_the_gpo(chief, engine, gpo):
    page = f"/gpo/{gpo['id']}"
    assert _post(chief, f"{page}/problemes/{gpo['problem']}/statut", {"statut": "priorise"}, page).status_code == 303
    refused = _post(chief, f"{page}/problemes/{gpo['problem']}/statut", {"statut": "reouvert"}, page)
    assert refused.status_code == 400 and "ne peut passer de « Priorisé » à « Réouvert »" in html.unescape(refused.text)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM problem")).scalar_one() == "priorise"
        assert conn.execute(sa.text("SELECT author FROM problem_status_change")).scalar_one() == "chef@psq.test"


def test_a_partner_sees_and_updates_only_his_organisations_actions(app, engine, login, gpo):
    scope = UserScope("admin")
    mine = gm.add_action(engine, scope, gpo["id"], kind="controle_parties_communes", organisation_id=gpo["landlord"],
                         owner="Mme Gardienne", due_on=dt.date(2026, 12, 31), problem_id=gpo["problem"])
    theirs = gm.add_action(engine, scope, gpo["id"], kind="arrete_municipal", organisation_id=gpo["town"],
                           owner="Le maire", due_on=dt.date(2026, 12, 31))
    partner = client_as(app, login, *account(engine, "bailleur@psq.test", "partenaire", organisation="Bailleur test"))
    landing = partner.get("/", follow_redirects=True)
    text = html.unescape(landing.text)
    assert "GPO Centre" in text and "Mme Gardienne" in text and "Le maire" not in text
    assert "Hall occupé" in text  # the problem his organisation raised
    assert _post(partner, f"/actions/{mine}/statut", {"statut": "en_cours"}, "/gpo").status_code == 303
    refused = _post(partner, f"/actions/{theirs}/statut", {"statut": "faite"}, "/gpo")
    assert refused.status_code == 403 and f"Vous ne pouvez pas modifier l'action n° {theirs}." in \
        html.unescape(refused.text)
    with engine.connect() as conn:
        assert dict(conn.execute(sa.text("SELECT id, status FROM gpo_action")).all()) == {mine: "en_cours",
                                                                                         theirs: "prevue"}
    gpo_page = html.unescape(partner.get(f"/gpo/{gpo['id']}").text)
    assert "Ordre du jour" not in gpo_page and "Le maire" not in gpo_page and "Mme Gardienne" in gpo_page
    assert partner.get(f"/gpo/{gpo['id']}/reunions").status_code in (403, 405)
    assert _post(partner, f"/gpo/{gpo['id']}/reunions", {"date": "2026-11-02"}, "/gpo").status_code == 403


def test_a_mayor_reads_the_gpo_of_his_town_and_others_are_refused(app, engine, login, gpo):
    mayor = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    page = mayor.get(f"/gpo/{gpo['id']}")
    assert page.status_code == 200 and "Ordre du jour" not in page.text and "Consigner une réunion" not in page.text
    other = client_as(app, login, *account(engine, "chef.glacis@psq.test", "chef_secteur", sectors=["BEL-GLACIS"]))
    refused = other.get(f"/gpo/{gpo['id']}")
    assert refused.status_code == 403 and f"Vous n'avez pas accès au GPO n° {gpo['id']}." in html.unescape(refused.text)
    assert other.get("/gpo").status_code == 200 and "GPO Centre" not in other.get("/gpo").text


def test_a_problem_is_created_from_a_hot_spot_cell_located_and_categorised(chief, engine, gpo):
    with engine.connect() as conn:
        i, j = conn.execute(sa.text("SELECT sc.i, sc.j FROM sector_cell sc JOIN sector s ON s.id = sc.sector_id "
                                    "WHERE s.code = 'BEL-CENTRE' ORDER BY 1, 2 LIMIT 1")).one()
    url, page = "/secteur/CSP%20Belfort/BEL-CENTRE/problemes", "/gpo"
    response = _post(chief, url, {"cellule": f"{i},{j}", "categorie": "rodeos", "titre": "Point chaud " + SCRIPT}, page)
    assert response.status_code == 303 and f"/gpo/{gpo['id']}" in response.location
    with engine.connect() as conn:
        row = conn.execute(sa.text("""SELECT p.category_code, s.code, p.status, p.source,
                                             ST_Area(p.geom), p.commune_insee FROM problem p
                                      JOIN sector s ON s.id = p.sector_id WHERE p.source = 'carte'""")).one()
    assert row[:5] == ("rodeos", "BEL-CENTRE", "signale", "carte", 40_000.0)
    shown = chief.get(response.location).text
    assert "Point chaud " + ESCAPED in shown and SCRIPT not in shown  # on the agenda, as text
    for data, message in (({"cellule": "0,0", "categorie": "rodeos", "titre": "Loin"}, "hors du secteur BEL-CENTRE"),
                          ({"cellule": f"{i},{j}", "categorie": "inconnue", "titre": "X"}, "Catégorie inconnue"),
                          ({"cellule": "a,b", "categorie": "rodeos", "titre": "X"}, "n'est pas un carreau"),
                          ({"enveloppe": "{", "categorie": "rodeos", "titre": "X"}, "n'est pas une géométrie")):
        refused = _post(chief, url, data, page)
        assert refused.status_code == 400 and message in html.unescape(refused.text), data
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM problem WHERE source = 'carte'")).scalar_one() == 1


def test_the_assessment_refuses_an_area_id_no_integer_column_holds(chief, gpo):
    response = chief.get(f"/gpo/{gpo['id']}/evaluation?zone=problem:99999999999&date=2026-01-01")
    assert response.status_code == 400
    assert "choisissez un problème ou une zone de patrouille du GPO" in html.unescape(response.text)
