"""Conventions de participation citoyenne (tacit renewal every three years) and CSI (an end, no renewal):
their dates, their loaders, their lists clipped to the scope."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from geo.accounts.users import COMMUNE_SHARE, SectorRef, UserScope, visible_communes
from geo.referents.conventions import (
    CHIEF_COMMUNE_SHARE,
    RENEWAL_NOTICE_DAYS,
    contract_term,
    list_contracts,
    list_conventions,
    load_contracts,
    load_conventions,
    renewal_dates,
    scope_communes,
)
from geo.referents.referents import BadFileError

TODAY = dt.date(2026, 12, 3)


# -- dates ---------------------------------------------------------------------------------------------------
def test_a_convention_renews_itself_every_three_years_from_its_signature():
    renewal = renewal_dates(dt.date(2020, 3, 15), today=TODAY)
    assert (renewal.next_on, renewal.due_soon, renewal.state) == (dt.date(2029, 3, 15), False, "en_vigueur")


def test_a_renewal_within_the_notice_is_due_soon():
    renewal = renewal_dates(dt.date(2023, 12, 20), 3, TODAY)
    assert (renewal.next_on, renewal.due_soon, renewal.state) == (dt.date(2026, 12, 20), True, "a_reconduire")
    assert RENEWAL_NOTICE_DAYS == 90
    assert renewal_dates(dt.date(2024, 3, 3), today=TODAY).due_soon is True   # 2027-03-02 is 90 days on
    assert renewal_dates(dt.date(2024, 3, 4), today=TODAY).due_soon is False  # 91 days on


def test_the_renewal_day_itself_is_still_the_next_renewal():
    assert renewal_dates(dt.date(2023, 12, 3), today=TODAY).next_on == TODAY


def test_a_29_february_renews_on_the_28th_in_a_common_year_and_on_the_29th_in_a_leap_year():
    assert renewal_dates(dt.date(2024, 2, 29), today=TODAY).next_on == dt.date(2027, 2, 28)
    assert renewal_dates(dt.date(2024, 2, 29), 4, TODAY).next_on == dt.date(2028, 2, 29)
    assert renewal_dates(dt.date(2024, 2, 29), today=dt.date(2030, 1, 1)).next_on == dt.date(2030, 2, 28)


def test_an_ended_convention_renews_no_more():
    renewal = renewal_dates(dt.date(2020, 3, 15), today=TODAY, ended_on=dt.date(2025, 6, 30))
    assert (renewal.next_on, renewal.due_soon, renewal.ended, renewal.state) == (None, False, True, "terminee")


def test_a_csi_ends_at_its_term_and_stands_out_within_180_days():
    ended = contract_term(dt.date(2021, 9, 1), 5, TODAY)
    assert (ended.ends_on, ended.near_end, ended.ended) == (dt.date(2026, 9, 1), False, True)
    near = contract_term(dt.date(2022, 4, 1), 5, TODAY)
    assert (near.ends_on, near.near_end, near.ended) == (dt.date(2027, 4, 1), True, False)
    far = contract_term(dt.date(2024, 1, 15), 5, TODAY)
    assert (far.ends_on, far.near_end, far.ended) == (dt.date(2029, 1, 15), False, False)
    assert contract_term(dt.date(2024, 2, 29), 5, TODAY).ends_on == dt.date(2029, 2, 28)


# -- loaders -------------------------------------------------------------------------------------------------
def _csv(tmp_path, text: str, name: str = "f.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def test_conventions_are_loaded_then_updated(engine, territory, tmp_path):
    path = _csv(tmp_path, "commune,signed_on,duration_years,volunteers\n90010,2023-12-20,,14\n90099,2020-03-15,3,5\n")
    assert load_conventions(engine, path).lines() == ["f.csv: 2 rows read, 2 conventions added, 0 updated."]
    path = _csv(tmp_path, "commune;signed_on;volunteers;ended_on\n90010;2023-12-20;20;\n90099;2020-03-15;5;2025-06-30\n")
    assert load_conventions(engine, path).lines() == ["f.csv: 2 rows read, 0 conventions added, 2 updated."]
    rows = {c.commune_insee: c for c in list_conventions(engine, UserScope("admin"), TODAY)}
    assert (rows["90010"].volunteers, rows["90010"].duration_years, rows["90010"].state) == (20, 3, "a_reconduire")
    assert (rows["90099"].ended_on, rows["90099"].state_label) == (dt.date(2025, 6, 30), "Terminée")


@pytest.mark.parametrize("row, reason", [
    ("90010,2024-02-30,3,1", "signed_on '2024-02-30' is not a day written YYYY-MM-DD"),
    ("90010,20/12/2023,3,1", "signed_on '20/12/2023' is not a day written YYYY-MM-DD"),
    ("99999,2023-12-20,3,1", "unknown INSEE code(s) 99999"),
    ("90010,2023-12-20,3,-2", "volunteers -2 must be 0 or more"),
    ("90010,2023-12-20,0,2", "duration_years 0 must be at least 1"),
    ("90010,2023-12-20,trois,2", "duration_years 'trois' is not a whole number"),
    ("90099,2020-03-15,3,1", "the convention of 90099 signed on 2020-03-15 is already on line 2"),
    (",2023-12-20,3,1", "missing commune"),
])
def test_a_bad_convention_refuses_the_file(engine, territory, tmp_path, row, reason):
    path = _csv(tmp_path, f"commune,signed_on,duration_years,volunteers\n90099,2020-03-15,3,5\n{row}\n")
    with pytest.raises(BadFileError) as refused:
        load_conventions(engine, path)
    assert refused.value.problems[1].startswith("line 3: ") and reason in refused.value.problems[1]
    assert _count(engine, "convention") == 0


CONTRACTS = ("name;communes;epci;signed_on;duration_years;municipal_police;cameras;supervision_centre;engagements\n"
             "CSI du Grand Belfort;90010 90008;;2022-04-01;;12;45;oui;Un CSU H24, patrouilles de soirée\n"
             "CSI de Delle;90033;;2024-01-15;5;;;non;\n")


def test_contracts_are_loaded_with_their_communes_and_replaced_by_name(engine, territory, tmp_path):
    assert load_contracts(engine, _csv(tmp_path, CONTRACTS)).lines() == [
        "f.csv: 2 rows read, 2 contracts added, 0 updated."]
    contracts = {k.name: k for k in list_contracts(engine, UserScope("admin"), TODAY)}
    belfort = contracts["CSI du Grand Belfort"]
    assert [i for i, _ in belfort.communes] == ["90008", "90010"]  # by name: Bavilliers, Belfort
    assert (belfort.duration_years, belfort.municipal_police, belfort.cameras, belfort.supervision_centre) == (
        5, 12, 45, True)
    assert (belfort.term.ends_on, belfort.term.near_end) == (dt.date(2027, 4, 1), True)
    assert (contracts["CSI de Delle"].cameras, contracts["CSI de Delle"].supervision_centre) == (None, False)
    load_contracts(engine, _csv(tmp_path, "name,communes,signed_on,supervision_centre\n"
                                           "CSI de Delle,90033 90009,2024-01-15,true\n"))
    delle = {k.name: k for k in list_contracts(engine, UserScope("admin"), TODAY)}["CSI de Delle"]
    assert ([i for i, _ in delle.communes], delle.supervision_centre) == (["90009", "90033"], True)


def test_a_contract_may_name_its_epci_instead_of_its_communes(engine, territory, tmp_path):
    with engine.connect() as conn:
        siren, members = conn.execute(sa.text(
            "SELECT epci_siren, array_agg(insee ORDER BY insee) FROM commune WHERE epci_siren IS NOT NULL "
            "GROUP BY epci_siren ORDER BY count(*) DESC LIMIT 1")).one()
    load_contracts(engine, _csv(tmp_path, f"name,epci,signed_on\nCSI intercommunal,{siren},2022-09-01\n"))
    [contract] = list_contracts(engine, UserScope("admin"), TODAY)
    assert contract.epci_siren == siren and sorted(i for i, _ in contract.communes) == members


@pytest.mark.parametrize("row, reason", [
    ("CSI X,90010,,2022-13-01,5,,,non,", "signed_on '2022-13-01' is not a day written YYYY-MM-DD"),
    ("CSI X,90010 12345,,2022-04-01,5,,,non,", "unknown INSEE code(s) 12345"),
    ("CSI X,,000000000,2022-04-01,5,,,non,", "unknown EPCI '000000000'"),
    ("CSI X,,,2022-04-01,5,,,non,", "no commune: give communes (INSEE codes) or an epci (SIREN)"),
    ("CSI X,90010,,2022-04-01,5,-3,,non,", "municipal_police -3 must be 0 or more"),
    ("CSI X,90010,,2022-04-01,5,,-1,non,", "cameras -1 must be 0 or more"),
    ("CSI X,90010,,2022-04-01,5,,,peut-être,", "supervision_centre 'peut-être' is neither oui nor non"),
    ("CSI A,90010,,2022-04-01,5,,,non,", "contract 'CSI A' already given on line 2"),
])
def test_a_bad_contract_refuses_the_file(engine, territory, tmp_path, row, reason):
    text = ("name,communes,epci,signed_on,duration_years,municipal_police,cameras,supervision_centre,engagements\n"
            f"CSI A,90033,,2022-04-01,5,,,non,\n{row}\n")
    with pytest.raises(BadFileError) as refused:
        load_contracts(engine, _csv(tmp_path, text))
    assert refused.value.problems[1].startswith("line 3: ") and reason in refused.value.problems[1], \
        refused.value.problems
    assert _count(engine, "csi_contract") == 0 and _count(engine, "csi_commune") == 0


def test_the_commands_load_or_refuse(psq, territory, tmp_path):
    good = _csv(tmp_path, "commune,signed_on,volunteers\n90010,2023-12-20,14\n", "c.csv")
    assert psq("load", "conventions", good).exit_code == 0
    result = psq("load", "contracts", _csv(tmp_path, "name,communes,signed_on\nCSI,90010,2022-02-30\n", "k.csv"))
    assert result.exit_code == 1 and "line 2: signed_on '2022-02-30' is not a day written YYYY-MM-DD" in result.output


# -- lists clipped to the scope ------------------------------------------------------------------------------
def test_a_mayor_sees_his_town_and_a_chief_the_towns_of_his_sectors(engine, territory, tmp_path):
    load_conventions(engine, _csv(tmp_path, "commune,signed_on\n90010,2023-12-20\n90033,2021-05-01\n"))
    load_contracts(engine, _csv(tmp_path, CONTRACTS))
    mayor = UserScope("maire", commune_insee="90033")
    assert [c.commune_insee for c in list_conventions(engine, mayor, TODAY)] == ["90033"]
    assert [k.name for k in list_contracts(engine, mayor, TODAY)] == ["CSI de Delle"]
    assert len(list_conventions(engine, UserScope("referent"), TODAY)) == 2
    assert list_conventions(engine, UserScope("partenaire"), TODAY) == []

    with engine.connect() as conn:
        csp_id = conn.execute(sa.text("SELECT id FROM csp")).scalar()
    chief = UserScope("chef_secteur", sectors=(SectorRef(csp_id, "CSP Belfort", "BEL-CENTRE"),))
    codes = scope_communes(engine, chief)
    assert "90010" in codes and "90033" not in codes
    assert codes == [insee for insee, _ in visible_communes(engine, chief)]  # the rule of the accounts
    assert CHIEF_COMMUNE_SHARE == COMMUNE_SHARE
    assert [c.commune_insee for c in list_conventions(engine, chief, TODAY)] == ["90010"]
    assert [k.name for k in list_contracts(engine, chief, TODAY)] == ["CSI du Grand Belfort"]
