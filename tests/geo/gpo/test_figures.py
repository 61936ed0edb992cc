"""The figures of the GPOs (issue 15 item 5): meetings held in and out of the period, problems raised, resolved
and open by category (local days, reopening), the rollups, and the scope's clip (chief, mayor, partner)."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.accounts.users import SectorRef, UserScope
from geo.db import engine as database
from geo.db.unit_of_work import set_scope
from geo.gpo.figures import FiguresError, figures, parse_period
from tests.fixtures.figures import SOURCE, make_figures_data, problem_with_trail, utc_at  # noqa: F401

FIRST, LAST = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
ADMIN = UserScope("admin")
def chief(csp_id: int, code: str) -> UserScope:
    return UserScope("chef_secteur", sectors=(SectorRef(csp_id, "CSP Belfort", code),))


def counts(line) -> tuple[int, int, int, int]:
    return line.meetings, line.raised, line.resolved, line.open


def by_code(result) -> dict:
    return {s.sector_code: s for s in result.sectors}


@pytest.fixture
def data(engine, territory) -> int:
    make_figures_data(engine, territory)
    return territory


def test_the_admin_sees_every_sector_with_known_counts_and_the_rollups(engine, data):
    result = figures(engine, ADMIN, FIRST, LAST)
    sectors = by_code(result)
    assert counts(sectors["BEL-CENTRE"]) == (4, 4, 3, 4)  # 3 of its own GPO in the period, 1 of the thematic
    assert counts(sectors["AGG-EST"]) == (1, 1, 0, 1)
    assert counts(sectors[None]) == (0, 1, 0, 1) and sectors[None].sector_name == "Hors secteur"
    assert counts(sectors["BEL-GLACIS"]) == (0, 0, 0, 0)  # a seen sector with nothing is listed
    assert sectors["BEL-CENTRE"].sector_name == "Belfort Centre – Vieille Ville"
    [csp] = result.csps
    assert csp.csp_name == "CSP Belfort" and counts(csp) == (4, 6, 3, 6)  # the thematic meeting counts once
    assert counts(result.total) == (4, 6, 3, 6)
    assert len(result.sectors_of(csp)) == 9  # the 8 demo sectors and the line outside them
    categories = {c.code: (c.raised, c.resolved, c.open) for c in sectors["BEL-CENTRE"].categories}
    assert categories == {"stupefiants": (1, 1, 1), "rodeos": (2, 1, 2), "rassemblements": (1, 1, 1)}
    assert [c.code for c in result.total.categories] == ["stupefiants", "rassemblements", "rodeos"]  # file order
    assert result.total.categories[0].label.startswith("Stupéfiants")
    assert {c.code: c.raised for c in csp.categories} == {"stupefiants": 2, "rassemblements": 1, "rodeos": 3}


def test_the_period_bounds_are_local_days(engine, data):
    first_day = figures(engine, ADMIN, FIRST, FIRST)
    assert counts(by_code(first_day)["BEL-CENTRE"]) == (1, 0, 1, 1)  # the 1 January meeting and resolution; open: the one reported in November
    assert counts(figures(engine, ADMIN, dt.date(2026, 7, 1), dt.date(2026, 7, 1)).total)[:3] == (1, 0, 2)


def test_a_chief_sees_only_his_sector(engine, data):
    result = figures(engine, chief(data, "AGG-EST"), FIRST, LAST)
    assert list(by_code(result)) == ["AGG-EST"]
    assert counts(result.total) == (1, 1, 0, 1)
    centre = figures(engine, chief(data, "BEL-CENTRE"), FIRST, LAST)
    assert list(by_code(centre)) == ["BEL-CENTRE"] and counts(centre.total) == (4, 4, 3, 4)


def test_a_mayor_sees_his_communes_problems_and_the_gpos_covering_it(engine, data):
    result = figures(engine, UserScope("maire", commune_insee="90010"), FIRST, LAST)
    sectors = by_code(result)
    assert "AGG-EST" not in sectors and None not in sectors
    assert counts(sectors["BEL-CENTRE"]) == (4, 4, 3, 4)
    assert counts(result.total) == (4, 4, 3, 4)
    assert counts(figures(engine, UserScope("maire", commune_insee="90011"), FIRST, LAST).total)[1:] == (0, 0, 0)


def test_a_partner_sees_nothing(engine, data):
    result = figures(engine, UserScope("partenaire", organisation_id=1), FIRST, LAST)
    assert (result.sectors, result.csps, counts(result.total)) == ((), (), (0, 0, 0, 0))


def test_the_app_role_under_row_level_security_gets_the_same_figures(engine, data, database_url):
    app_engine = database.create_engine(database.app_url(database_url))
    try:
        for scope, settings, expected in ((chief(data, "BEL-CENTRE"), {"sector_keys": (f"{data}:BEL-CENTRE",)},
                                           (4, 4, 3, 4)),
                                          (UserScope("maire", commune_insee="90010"), {"commune": "90010"},
                                           (4, 4, 3, 4)),
                                          (UserScope("referent"), {}, (4, 6, 3, 6))):
            with app_engine.begin() as conn:
                set_scope(conn, scope.role, **settings)
                assert counts(figures(conn, scope, FIRST, LAST).total) == expected, scope.role
    finally:
        app_engine.dispose()


@pytest.mark.parametrize("du, au, message", [
    ("2026-02-30", None, "La date « du » = « 2026-02-30 » n'est pas une date valide"),
    ("2026", None, "« 2026 » n'est pas une date valide"),
    ("2026-03-01", "2026-02-01", "La période commence le 01/03/2026, après sa fin le 01/02/2026."),
    ("2020-01-01", "2025-01-01", "dépasse 5 ans"),
    (None, "9999-01-01", "hors des années 1990 à 2100"),
])
def test_a_bad_period_is_refused_in_one_french_sentence(du, au, message):
    with pytest.raises(FiguresError, match=message):
        parse_period(du, au, today=dt.date(2026, 11, 22))


def test_figures_refuse_a_period_longer_than_five_years(engine):
    assert parse_period("2021-01-01", "2025-12-31") == (dt.date(2021, 1, 1), dt.date(2025, 12, 31))
    with pytest.raises(FiguresError, match="dépasse 5 ans"):
        figures(engine, ADMIN, dt.date(2020, 1, 1), dt.date(2026, 1, 1))
