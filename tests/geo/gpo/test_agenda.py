"""The GPO agenda: each factor moves a problem up as documented, the weights change the order, the shares add up,
resolved problems and other categories stay off, and `psq agenda` prints it in French or JSON.

A tiny territory of its own (one 2 km square sector of 10 x 10 cells of 200 m) keeps every case hand-made and fast:
two problems identical but for one factor, the one with more of it ranks first, although created second (a tie
would put it second: ties go by problem id).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from geo.accounts.users import UserScope
from geo.db import engine as database
from geo.db.unit_of_work import set_scope
from geo.gpo import meetings as gm
from geo.gpo.agenda import agenda
from geo.gpo.groups import add_gpo, add_organisation, get_gpo
from geo.settings import AGENDA_FACTORS, SettingError

ADMIN = UserScope("admin")
MEETING = dt.date(2026, 7, 1)
X0, Y0, SIZE = 990_000.0, 6_735_000.0, 200.0
SOURCE = "agenda-test"


def centre(ci: int, cj: int) -> tuple[float, float]:
    """The centre of the cell (ci, cj) of the test sector."""
    return X0 + ci * SIZE + SIZE / 2, Y0 + cj * SIZE + SIZE / 2


@pytest.fixture
def ground(engine):
    """A CSP with one sector AG-1 (a 2 km square), two partner organisations and the sector's GPO."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM sensitive_place WHERE source = :s"), {"s": SOURCE})
        csp = conn.execute(sa.text("INSERT INTO csp (name) VALUES ('CSP Agenda') RETURNING id")).scalar_one()
        sector = conn.execute(sa.text(
            "INSERT INTO sector (csp_id, code, name, geom, valid_from) VALUES (:c, 'AG-1', 'Agenda', "
            "ST_Multi(ST_MakeEnvelope(:x0, :y0, :x0 + 2000, :y0 + 2000, 2154)), DATE '2020-01-01') RETURNING id"),
            {"c": csp, "x0": X0, "y0": Y0}).scalar_one()
    landlord = add_organisation(engine, "Bailleur agenda", "bailleur_social")
    town = add_organisation(engine, "Mairie agenda", "mairie")
    gpo = add_gpo(engine, csp_id=csp, name="GPO Agenda", sector_codes=["AG-1"], rhythm="mensuel",
                  first_meeting_on=dt.date(2026, 1, 1), members=[landlord, town])
    yield {"csp": csp, "sector": sector, "gpo": gpo, "landlord": landlord, "town": town}
    with engine.begin() as conn:  # no foreign key brings this table into the tests' cleaning
        conn.execute(sa.text("DELETE FROM sensitive_place WHERE source = :s"), {"s": SOURCE})


def problem(engine, ground, name: str, at: tuple[float, float], category: str = "stupefiants",
            reported_on: dt.date = MEETING - dt.timedelta(days=30), status: str = "signale",
            organisation: int | None = None) -> int:
    with engine.begin() as conn:
        return conn.execute(sa.text(
            "INSERT INTO problem (source, external_id, category_code, title, geom, sector_id, csp_id, status, "
            "reported_on, organisation_id) VALUES (:src, :name || (SELECT count(*) FROM problem), :cat, :name, ST_SetSRID(ST_MakePoint(:x, :y), 2154), "
            ":sector, :csp, :status, :reported, :org) RETURNING id"),
            {"src": SOURCE, "name": name, "cat": category, "x": at[0], "y": at[1], "sector": ground["sector"],
             "csp": ground["csp"], "status": status, "reported": reported_on, "org": organisation}).scalar_one()


def occurrences(engine, ground, facts: list[tuple[float, float, dt.date]], category: str = "stupefiants") -> None:
    """Occurrences at (x, y) on a local day, at noon."""
    start = _count(engine, "occurrence")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, sector_id, csp_id) "
            "VALUES (:src, :id, :cat, (CAST(:day AS date) + TIME '12:00') AT TIME ZONE 'Europe/Paris', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 2154), :sector, :csp)"),
            [{"src": SOURCE, "id": f"o{start + k}", "cat": category, "day": d, "x": x, "y": y,
              "sector": ground["sector"], "csp": ground["csp"]} for k, (x, y, d) in enumerate(facts)])


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def place(engine, kind: str, at: tuple[float, float], name: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO sensitive_place (kind, name, source, external_id, geom) "
            "VALUES (:k, :n, :s, :n, ST_SetSRID(ST_MakePoint(:x, :y), 2154))"),
            {"k": kind, "n": name, "s": SOURCE, "x": at[0], "y": at[1]})


def the_agenda(engine, ground, gpo_id: int | None = None, **options):
    return agenda(engine, get_gpo(engine, ADMIN, gpo_id or ground["gpo"]), MEETING, **options)


# -- one scenario per factor: (less, more) problems identical but for it ----------------------------------------
def recurrence_case(engine, ground):
    # One fact at every cell's centre (the same for both; no cell stands out), five more within 150 m of "more".
    occurrences(engine, ground, [(*centre(i, j), dt.date(2026, 5, 15)) for i in range(10) for j in range(10)])
    x, y = centre(2, 2)
    occurrences(engine, ground, [(x + dx, y + 30, dt.date(2026, 5, 10)) for dx in (-60, -30, 0, 30, 60)])
    return problem(engine, ground, "moins", centre(7, 7)), problem(engine, ground, "plus", centre(2, 2))


def trend_case(engine, ground):
    # Both: 3 facts a month from January to June (the same two 90-day windows, the same hot cells); "less" also
    # 3 a month from July to December 2025 (flat), "more" none then (a rise).
    def monthly(at, months):
        return [(at[0] + 10 * k, at[1], dt.date(year, month, 15)) for year, month in months for k in range(3)]
    spring = [(2026, m) for m in range(1, 7)]
    autumn = [(2025, m) for m in range(7, 13)]
    occurrences(engine, ground, monthly(centre(7, 7), autumn + spring) + monthly(centre(2, 2), spring))
    return problem(engine, ground, "moins", centre(7, 7)), problem(engine, ground, "plus", centre(2, 2))


def hotspot_case(engine, ground):
    # 32 facts in the eight cells around "more", all 250 m or more from it: outside its 150 m, inside its window.
    x, y = centre(2, 2)
    ring = [(dx, dy) for dx in (-250, 0, 250) for dy in (-250, 0, 250) if (dx, dy) != (0, 0)]
    occurrences(engine, ground, [(x + dx + k, y + dy, dt.date(2026, 6, 1) - dt.timedelta(days=k))
                                 for dx, dy in ring for k in range(4)])
    return problem(engine, ground, "moins", centre(7, 7)), problem(engine, ground, "plus", centre(2, 2))


def severity_case(engine, ground):
    return (problem(engine, ground, "moins", centre(7, 7), category="stationnement"),
            problem(engine, ground, "plus", centre(2, 2), category="stupefiants"))


def sensitive_case(engine, ground):
    x, y = centre(2, 2)
    place(engine, "school", (x + 100, y), "École")
    place(engine, "transport", (x + 1500, y), "Arrêt loin de tous")  # 1.5 km from "more", 1 km from "less"
    return problem(engine, ground, "moins", centre(7, 7)), problem(engine, ground, "plus", centre(2, 2))


def age_case(engine, ground):
    return (problem(engine, ground, "moins", centre(7, 7)),
            problem(engine, ground, "plus", centre(2, 2), reported_on=MEETING - dt.timedelta(days=200)))


def partners_case(engine, ground):
    less = problem(engine, ground, "moins", centre(7, 7), organisation=ground["landlord"])
    more = problem(engine, ground, "plus", centre(2, 2), organisation=ground["landlord"])
    gm.add_action(engine, ADMIN, ground["gpo"], kind="arrete_municipal", organisation_id=ground["town"],
                  owner="M. le Maire", due_on=MEETING - dt.timedelta(days=5), problem_id=more)
    return less, more


CASES = {"recurrence": recurrence_case, "trend": trend_case, "hotspot": hotspot_case, "severity": severity_case,
         "sensitive": sensitive_case, "age": age_case, "partners": partners_case}


@pytest.mark.parametrize("key", AGENDA_FACTORS)
def test_more_of_one_factor_ranks_a_problem_first(engine, ground, key):
    less, more = CASES[key](engine, ground)
    lines = the_agenda(engine, ground).lines
    assert [line.problem_id for line in lines] == [more, less]
    first, second = lines
    assert first.factor(key).normalised > second.factor(key).normalised
    assert {k: first.factor(k).normalised for k in AGENDA_FACTORS if k != key} == \
           {k: second.factor(k).normalised for k in AGENDA_FACTORS if k != key}
    assert [line.rank for line in lines] == [1, 2]


def test_a_sector_too_quiet_for_any_finding_says_so_and_the_others_still_count(engine, ground):
    with engine.begin() as conn:
        quiet = conn.execute(sa.text(
            "INSERT INTO sector (csp_id, code, name, geom, valid_from) VALUES (:c, 'AG-2', 'Calme', "
            "ST_Multi(ST_MakeEnvelope(:x0 + 2000, :y0, :x0 + 4000, :y0 + 2000, 2154)), DATE '2020-01-01') RETURNING id"),
            {"c": ground["csp"], "x0": X0, "y0": Y0}).scalar_one()
    _, hot = hotspot_case(engine, ground)
    lone = problem(engine, {**ground, "sector": quiet}, "isolé", (X0 + 3000, Y0 + 1000))
    occurrences(engine, {**ground, "sector": quiet}, [(X0 + 3000, Y0 + 1000, dt.date(2026, 6, 1))])
    both = add_gpo(engine, csp_id=ground["csp"], name="GPO deux secteurs", sector_codes=["AG-1", "AG-2"],
                   rhythm="mensuel", first_meeting_on=dt.date(2026, 1, 1))
    result = the_agenda(engine, ground, both)
    by_id = {line.problem_id: line.factor("hotspot") for line in result.lines}
    assert (by_id[hot].value, by_id[hot].raw) == ("classe 3 (99\u00a0%)", 3)
    assert (by_id[lone].value, by_id[lone].raw, by_id[lone].normalised) == ("non", None, 0)
    assert "Point chaud, secteur AG-2 : Trop peu de faits (1)" in " ".join(result.notes)


def test_the_factors_read_as_documented(engine, ground):
    less, more = trend_case(engine, ground)
    by_id = {line.problem_id: line for line in the_agenda(engine, ground).lines}
    rising, flat = by_id[more], by_id[less]
    assert rising.factor("recurrence").value == "9 faits (contre 9)"
    assert rising.factor("recurrence").normalised == pytest.approx(9 / 19)
    assert rising.factor("trend").value == "hausse (τ = 0,55)" and flat.factor("trend").value == "pas de tendance"
    assert rising.factor("trend").normalised == pytest.approx(36 / 66)
    assert rising.factor("hotspot").value == "classe 3 (99\u00a0%)" and rising.factor("hotspot").normalised == 1
    assert rising.factor("severity").value == "5 sur 5"
    assert rising.factor("age").value == "30 jours" and rising.factor("age").raw == 30
    assert rising.factor("sensitive").value == "aucun"
    assert [f.label for f in rising.factors] == ["récurrence", "tendance", "point chaud", "gravité", "lieux sensibles",
                                                 "ancienneté", "partenaires"]


def test_sensitive_places_and_partners_are_counted_and_named(engine, ground):
    at = centre(4, 4)
    for k, kind in enumerate(["school", "school", "transport", "housing"]):
        place(engine, kind, (at[0] + 40 * k, at[1] + 50), f"Lieu {k}")
    place(engine, "school", (at[0] + 260, at[1]), "École trop loin")
    pid = problem(engine, ground, "entouré", at, organisation=ground["landlord"])
    gm.add_action(engine, ADMIN, ground["gpo"], kind="arrete_municipal", organisation_id=ground["town"],
                  owner="M. le Maire", due_on=MEETING - dt.timedelta(days=5), problem_id=pid)
    gm.add_action(engine, ADMIN, ground["gpo"], kind="controle_parties_communes", organisation_id=ground["landlord"],
                  owner="Gardienne", due_on=MEETING + dt.timedelta(days=5), problem_id=pid)
    [line] = the_agenda(engine, ground).lines
    assert line.factor("sensitive").value == "2 écoles, 1 arrêt de transport, 1 résidence sociale"
    assert line.factor("sensitive").normalised == pytest.approx(1 - 0.5 ** 4)
    assert (line.factor("partners").raw, line.factor("partners").normalised) == (2, pytest.approx(2 / 3))
    assert (line.open_actions, line.overdue_actions) == (2, 1)


def test_age_counts_from_the_last_reopening(engine, ground):
    pid = problem(engine, ground, "rouvert", centre(4, 4), reported_on=MEETING - dt.timedelta(days=500),
                  status="reouvert")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO problem_status_change (problem_id, from_status, to_status, changed_at) VALUES "
            "(:p, 'resolu', 'reouvert', TIMESTAMPTZ '2026-06-21 10:00+02'), "
            "(:p, 'resolu', 'reouvert', TIMESTAMPTZ '2026-08-01 10:00+02')"), {"p": pid})  # after the meeting
    [line] = the_agenda(engine, ground).lines
    assert line.factor("age").value == "10 jours"


def test_weights_change_the_order_and_zero_removes_a_factor(engine, ground, monkeypatch):
    grave = problem(engine, ground, "grave", centre(2, 2), category="stupefiants")
    near_school = problem(engine, ground, "près de l'école", centre(7, 7), category="stationnement")
    place(engine, "school", (centre(7, 7)[0] + 50, centre(7, 7)[1]), "École")
    order = lambda **kw: [line.problem_id for line in the_agenda(engine, ground, **kw).lines]  # noqa: E731
    assert order() == [grave, near_school]
    assert order(weights={"severity": 0.1, "sensitive": 5}) == [near_school, grave]
    assert order(weights={"severity": 0}) == [near_school, grave]
    monkeypatch.setenv("PSQ_AGENDA_WEIGHTS", "severity=0.1, sensitive=5")
    assert order() == [near_school, grave]
    assert the_agenda(engine, ground).weights["sensitive"] == 5
    # Every factor at zero but one: the order is that factor's alone, ties by id.
    assert order(weights={k: 0 for k in AGENDA_FACTORS}) == [grave, near_school]
    monkeypatch.setenv("PSQ_AGENDA_WEIGHTS", "severity=beaucoup")
    with pytest.raises(SettingError, match="PSQ_AGENDA_WEIGHTS : le poids de severity « beaucoup »"):
        order()
    monkeypatch.delenv("PSQ_AGENDA_WEIGHTS")
    with pytest.raises(SettingError, match="« gravite » n'est pas un facteur"):
        order(weights={"gravite": 1})


def test_shares_add_up_to_one_and_points_to_the_score(engine, ground):
    partners_case(engine, ground)
    sensitive_case(engine, ground)
    for line in the_agenda(engine, ground).lines:
        assert sum(f.share for f in line.factors) == pytest.approx(1)
        assert sum(f.points for f in line.factors) == pytest.approx(line.score)
        assert all(0 <= f.normalised <= 1 and f.points == pytest.approx(f.weight * f.normalised) for f in line.factors)
        stored = line.as_dict()
        assert set(stored) == {*AGENDA_FACTORS, "rank", "score"}
        assert json.loads(json.dumps(stored))["recurrence"]["share"] == line.factor("recurrence").share
    zero = the_agenda(engine, ground, weights={k: 0 for k in AGENDA_FACTORS}).lines[0]
    assert zero.score == 0 and all(f.share == 0 for f in zero.factors)


def test_resolved_problems_and_other_categories_stay_off(engine, ground):
    open_one = problem(engine, ground, "ouvert", centre(2, 2), category="rodeos")
    problem(engine, ground, "résolu", centre(3, 3), category="rodeos", status="resolu")
    other = problem(engine, ground, "autre catégorie", centre(4, 4), category="stupefiants")
    assert [line.problem_id for line in the_agenda(engine, ground).lines] == [other, open_one]
    thematic = add_gpo(engine, csp_id=ground["csp"], name="GPO Rodéos", sector_codes=["AG-1"], rhythm="mensuel",
                       first_meeting_on=dt.date(2026, 1, 1), theme="Rodéos", categories=["rodeos"])
    assert [line.problem_id for line in the_agenda(engine, ground, thematic).lines] == [open_one]


def test_without_any_occurrence_nothing_recurs_and_nothing_is_hot(engine, ground):
    problem(engine, ground, "un", centre(2, 2))
    problem(engine, ground, "deux", centre(5, 5), category="rodeos")
    result = the_agenda(engine, ground)
    assert [(line.factor("recurrence").value, line.factor("recurrence").normalised, line.factor("hotspot").value,
             line.factor("hotspot").normalised, line.factor("trend").value) for line in result.lines] == \
        [("0 fait (contre 0)", 0, "non", 0, "pas de tendance")] * 2
    assert any("Aucun lieu sensible" in note for note in result.notes)
    assert any("aucun fait des catégories" in note for note in result.notes)


def test_an_empty_gpo_has_an_empty_agenda(engine, ground):
    result = the_agenda(engine, ground)
    assert (result.lines, result.gpo_name, result.meeting_on) == ((), "GPO Agenda", MEETING)


@pytest.fixture
def app_engine(database_url):
    eng = database.create_engine(database.app_url(database_url))
    yield eng
    eng.dispose()


def test_the_web_apps_role_computes_it_under_row_level_security(engine, ground, app_engine):
    less, more = sensitive_case(engine, ground)
    gpo = get_gpo(engine, ADMIN, ground["gpo"])
    for keys, expected in (((f"{ground['csp']}:AG-1",), [more, less]), ((f"{ground['csp']}:AG-9",), [])):
        with app_engine.begin() as conn:
            set_scope(conn, "chef_secteur", sector_keys=keys)
            result = agenda(conn, gpo, MEETING)
        assert [line.problem_id for line in result.lines] == expected
    assert result.gpo_name == "GPO Agenda"


def test_psq_agenda_prints_the_french_table_and_json(engine, ground, psq):
    partners_case(engine, ground)
    result = psq("agenda", "--gpo", ground["gpo"], "--date", MEETING.isoformat())
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("rang"))
    assert header.split("  ")[0] == "rang" and [c.strip() for c in header.split("  ") if c.strip()] == [
        "rang", "problème", "catégorie", "récurrence", "tendance", "point chaud", "gravité", "lieux sensibles",
        "ancienneté", "partenaires", "score"]
    assert "0 fait (contre 0) · 0\u00a0%" in result.output
    as_json = json.loads(psq("agenda", "--gpo", ground["gpo"], "--date", MEETING.isoformat(), "--json").output)
    assert (as_json["gpo"]["name"], as_json["date"], as_json["weights"]["recurrence"]) == ("GPO Agenda", "2026-07-01", 3)
    assert [line["title"] for line in as_json["lines"]] == ["plus", "moins"]
    assert as_json["lines"][0]["partners"]["value"] == "2" and as_json["lines"][0]["rank"] == 1


def test_psq_agenda_refuses_an_unknown_gpo(engine, ground, psq):
    result = psq("agenda", "--gpo", ground["gpo"] + 100)
    assert result.exit_code == 1
    assert f"Aucun GPO n° {ground['gpo'] + 100}" in result.output
