"""GPOs, meetings and actions: who sees which GPO, what a meeting and an action refuse, the status trails, and
row-level security for the app's role (the second lock)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from geo.accounts.users import SectorRef, UserScope
from geo.db import engine as database
from geo.db.unit_of_work import set_scope
from geo.errors import NotFound
from geo.gpo import meetings as gm
from geo.gpo.groups import GpoError, add_gpo, add_organisation, get_gpo, list_gpos, next_meeting_on
from tests.fixtures.gpo import sector_problem

TODAY = dt.date(2026, 11, 30)
ADMIN = UserScope("admin")


@pytest.fixture
def gpos(engine, territory):
    """Two sector GPOs (BEL-CENTRE with the landlord, AGG-EST without) and their problems."""
    landlord = add_organisation(engine, "Bailleur test", "bailleur_social",
                                contacts=[{"name": "Mme Gardienne", "phone": "03 84 00 00 00"}])
    town = add_organisation(engine, "Mairie test", "mairie")
    centre = add_gpo(engine, csp_id=territory, name="GPO Centre", sector_codes=["BEL-CENTRE"], rhythm="quinzaine",
                     first_meeting_on=dt.date(2026, 1, 6), members=[landlord, town])
    east = add_gpo(engine, csp_id=territory, name="GPO Est", sector_codes=["AGG-EST"], rhythm="mensuel",
                   first_meeting_on=dt.date(2026, 1, 15), members=[town])
    return {"csp": territory, "landlord": landlord, "town": town, "centre": centre, "east": east,
            "p_centre": sector_problem(engine, "BEL-CENTRE", "Hall occupé", landlord),
            "p_east": sector_problem(engine, "AGG-EST", "Rodéos au stade")}


def chief(csp_id: int, code: str) -> UserScope:
    return UserScope("chef_secteur", sectors=(SectorRef(csp_id, "CSP Belfort", code),))


def test_the_rhythm_gives_the_next_meeting_date():
    assert next_meeting_on(dt.date(2026, 1, 6), "quinzaine", dt.date(2026, 1, 6)) == dt.date(2026, 1, 6)
    assert next_meeting_on(dt.date(2026, 1, 6), "quinzaine", dt.date(2026, 1, 21)) == dt.date(2026, 2, 3)
    assert next_meeting_on(dt.date(2026, 1, 31), "mensuel", dt.date(2026, 3, 1)) == dt.date(2026, 3, 31)
    with pytest.raises(GpoError, match="Rythme inconnu"):
        next_meeting_on(dt.date(2026, 1, 6), "hebdomadaire", dt.date(2026, 2, 1))


def test_each_role_sees_its_own_gpos(engine, gpos):
    names = lambda scope: [g.name for g in list_gpos(engine, scope)]  # noqa: E731
    assert names(ADMIN) == names(UserScope("referent")) == ["GPO Centre", "GPO Est"]
    assert names(chief(gpos["csp"], "BEL-CENTRE")) == ["GPO Centre"]
    assert names(chief(gpos["csp"], "BEL-GLACIS")) == []
    assert names(UserScope("partenaire", organisation_id=gpos["landlord"])) == ["GPO Centre"]
    assert names(UserScope("partenaire")) == []
    assert names(UserScope("maire", commune_insee="90010")) == ["GPO Centre"]  # Belfort, not Pérouse's sector
    assert get_gpo(engine, chief(gpos["csp"], "BEL-GLACIS"), gpos["centre"]) is None


def test_a_meeting_records_who_came_and_what_was_reviewed(engine, gpos):
    scope = chief(gpos["csp"], "BEL-CENTRE")
    meeting = gm.record_meeting(engine, scope, gpos["centre"], dt.date(2026, 11, 17), attendees=[gpos["landlord"]],
                                decisions="Contrôle des caves.", today=TODAY,
                                reviewed=[{"problem_id": gpos["p_centre"], "rank": 1, "score": 4.2,
                                           "factors": {"recurrence": {"value": "12 faits"}}, "decision": "Suivi"}])
    [held] = gm.meetings(engine, scope, gpos["centre"])
    assert (held.id, held.attendees, held.decisions) == (meeting, ("Bailleur test",), "Contrôle des caves.")
    assert [(r.title, r.rank, r.factors["recurrence"]["value"]) for r in held.reviewed] == [("Hall occupé", 1, "12 faits")]
    assert get_gpo(engine, scope, gpos["centre"]).last_meeting_on == dt.date(2026, 11, 17)
    assert get_gpo(engine, scope, gpos["centre"]).next_meeting_on(dt.date(2026, 11, 17)) == dt.date(2026, 11, 24)  # the series goes on


@pytest.mark.parametrize("change, message", [
    ({"held_on": dt.date(2026, 12, 25)}, "une réunion se consigne le jour même ou après"),
    ({"attendees": ["east-only"]}, "ne siège pas au GPO"),
    ({"reviewed": [{"problem_id": "east"}]}, "n'est pas un problème du GPO GPO Centre"),
    ({"decisions": "x" * 5000}, "dépasse 4000 caractères"),
])
def test_a_meeting_refuses_what_does_not_belong_to_it_and_writes_nothing(engine, gpos, change, message):
    args = {"held_on": dt.date(2026, 11, 17), "attendees": [gpos["landlord"]], "reviewed": [], "decisions": None}
    args.update(change)
    args["attendees"] = [gpos["town"] + 1000 if a == "east-only" else a for a in args["attendees"]]
    args["reviewed"] = [{"problem_id": gpos["p_east"]} for _ in args["reviewed"]]
    scope = chief(gpos["csp"], "BEL-CENTRE")
    with pytest.raises(gm.MeetingError, match=message):
        gm.record_meeting(engine, scope, gpos["centre"], args.pop("held_on"), today=TODAY, **args)
    assert gm.meetings(engine, scope, gpos["centre"]) == []


def test_a_chief_cannot_record_a_meeting_of_another_sectors_gpo(engine, gpos):
    with pytest.raises(NotFound, match="Aucun GPO"):
        gm.record_meeting(engine, chief(gpos["csp"], "BEL-CENTRE"), gpos["east"], dt.date(2026, 11, 17), today=TODAY)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM meeting")).scalar_one() == 0


def test_an_action_moves_through_its_statuses_signed_and_overdue_stands_out(engine, gpos):
    scope = chief(gpos["csp"], "BEL-CENTRE")
    action = gm.add_action(engine, scope, gpos["centre"], kind="controle_parties_communes",
                           organisation_id=gpos["landlord"], owner="M. Dupont", due_on=dt.date(2026, 11, 20),
                           problem_id=gpos["p_centre"], author="Cheffe")
    [open_action] = gm.actions(engine, scope, gpo_id=gpos["centre"], open_only=True)
    assert open_action.overdue_on(TODAY) and not open_action.overdue_on(dt.date(2026, 11, 20))
    partner = UserScope("partenaire", organisation_id=gpos["landlord"])
    done = gm.change_action_status(engine, partner, action, "faite", author="Mme Gardienne", today=TODAY)
    assert (done.status, done.done_on, done.overdue_on(TODAY)) == ("faite", TODAY, False)
    with pytest.raises(gm.MeetingError, match="Une action faite ne peut passer qu'à : en cours"):
        gm.change_action_status(engine, partner, action, "abandonnee")
    trail = gm.action_trail(engine, partner, action)
    assert [(t[1], t[2], t[3]) for t in trail] == [(None, "prevue", "Cheffe"), ("prevue", "faite", "Mme Gardienne")]


def test_a_partner_updates_only_his_organisations_actions(engine, gpos):
    scope = chief(gpos["csp"], "BEL-CENTRE")
    theirs = gm.add_action(engine, scope, gpos["centre"], kind="arrete_municipal", organisation_id=gpos["town"],
                           owner="Le maire", due_on=TODAY)
    landlord = UserScope("partenaire", organisation_id=gpos["landlord"])
    assert not gm.can_update_action(engine, landlord, theirs)
    assert gm.actions(engine, landlord) == []
    with pytest.raises(NotFound, match="Aucune action"):
        gm.change_action_status(engine, landlord, theirs, "faite")
    assert gm.can_update_action(engine, UserScope("partenaire", organisation_id=gpos["town"]), theirs)
    assert not gm.can_update_action(engine, chief(gpos["csp"], "BEL-GLACIS"), theirs)
    assert not gm.can_update_action(engine, UserScope("maire", commune_insee="90010"), theirs)


def test_an_action_refuses_an_unknown_kind_a_stranger_and_an_empty_owner(engine, gpos):
    scope = chief(gpos["csp"], "BEL-CENTRE")
    base = {"kind": "videoprotection", "organisation_id": gpos["landlord"], "owner": "X", "due_on": TODAY}
    for change, message in (({"kind": "prière"}, "Type d'action inconnu"), ({"owner": "  "}, "responsable"),
                            ({"problem_id": gpos["p_east"]}, "n'est pas un problème du GPO")):
        with pytest.raises(gm.MeetingError, match=message):
            gm.add_action(engine, scope, gpos["centre"], **{**base, **change})
    assert gm.actions(engine, ADMIN) == []


def test_the_problem_status_changes_through_the_gpo_in_french(engine, gpos):
    gpo = get_gpo(engine, ADMIN, gpos["centre"])
    gm.change_problem_status(engine, gpo, gpos["p_centre"], "priorise", author="Cheffe")
    with pytest.raises(gm.MeetingError, match="ne peut passer de « Priorisé » à « Réouvert »"):
        gm.change_problem_status(engine, gpo, gpos["p_centre"], "reouvert")
    with pytest.raises(gm.MeetingError, match="n'est pas un problème du GPO"):
        gm.change_problem_status(engine, gpo, gpos["p_east"], "priorise")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_status, author FROM problem_status_change WHERE problem_id = :p"),
                            {"p": gpos["p_centre"]}).all() == [("priorise", "Cheffe")]


@pytest.fixture
def app_engine(database_url):
    eng = database.create_engine(database.app_url(database_url))
    yield eng
    eng.dispose()


def test_row_level_security_gives_each_scope_its_gpos_actions_contacts_and_problems(engine, gpos, app_engine):
    scope = chief(gpos["csp"], "BEL-CENTRE")
    gm.add_action(engine, scope, gpos["centre"], kind="arrete_municipal", organisation_id=gpos["town"],
                  owner="Le maire", due_on=TODAY)
    gm.add_action(engine, scope, gpos["centre"], kind="videoprotection", organisation_id=gpos["landlord"],
                  owner="Mme Gardienne", due_on=TODAY, problem_id=gpos["p_centre"])

    def seen(role, **settings):
        with app_engine.begin() as conn:
            set_scope(conn, role, **settings)
            return {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                    for table in ("gpo", "gpo_action", "organisation_contact", "problem")}

    assert seen(None) == {"gpo": 0, "gpo_action": 0, "organisation_contact": 0, "problem": 0}
    assert seen("admin") == {"gpo": 2, "gpo_action": 2, "organisation_contact": 1, "problem": 2}
    assert seen("chef_secteur", sector_keys=(f"{gpos['csp']}:AGG-EST",)) == {
        "gpo": 1, "gpo_action": 0, "organisation_contact": 0, "problem": 1}
    assert seen("partenaire", organisation=gpos["landlord"]) == {
        "gpo": 1, "gpo_action": 1, "organisation_contact": 1, "problem": 1}
    assert seen("partenaire", organisation=gpos["town"]) == {
        "gpo": 2, "gpo_action": 1, "organisation_contact": 1, "problem": 0}
    assert seen("maire", commune="90010")["gpo"] == 1
