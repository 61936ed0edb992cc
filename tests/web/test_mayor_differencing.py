"""The differencing attack on the mayor's figures, replayed through the app as the logged-in mayor.

The attack of issue 9 (point 3): ask the cells of ``du=A&au=2026-11`` for the 24 values
of ``A`` and of ``du=2024-12&au=B`` for the 24 values of ``B``; wherever two periods one
month apart both show a cell and its counts differ by 1, a single event is located in
one 200 m cell and one month. The same by category with the monthly bars and totals.

Every figure a mayor can get must be a sum of published monthly atoms, each at least 3,
and every remainder he can compute (a month's total minus its published cells or
categories) must be 0 or at least 3. These tests check it on the Belfort demo (dense)
and on a village with hand-made months where each rule fires (sparse), against
independent SQL counts; they also show that the old rule (a direct count of the period,
kept when at least 3) let the attack locate thousands of single events.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import random
import re
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pymannkendall
import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.analysis import commune_figures as stats
from geo.analysis import disclosure
from geo.db.models import Base
from geo.demo.loader import load_synthetic
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from tests.fixtures.mayor_page import chart_bars
from tests.support import BOUNDARIES, ROOT

MAYOR = ("maire.differences@psq.test", "mot de passe du maire")
VILLAGE_MAYOR = ("maire.village@psq.test", "mot de passe du maire du village")
VILLAGE = "90085"  # Riervescemont, 100 inhabitants
#: The 24 months the attack walks over (the last finished month is November 2026).
FIRST_MONTH, LAST_MONTH = dt.date(2024, 12, 1), dt.date(2026, 11, 1)
MONTHS = tuple(stats.month_start(FIRST_MONTH, k) for k in range(24))
REFUSED = (1, 2)  # counts that locate one or two events


def ym(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def months_of(period: tuple[str, str]) -> list[str]:
    first, last = (dt.date(int(p[:4]), int(p[5:]), 1) for p in period)
    return [ym(stats.month_start(first, k)) for k in range(stats._months_between(first, last))]


# -- unit tests of the suppression rules (geo.analysis.disclosure) ---------------------------------------
def test_primary_hides_atoms_under_three():
    assert disclosure.primary([0, 1, 2, 3, 4, 120]).tolist() == [False, False, False, True, True, True]
    assert disclosure.primary([2, 5], k=5).tolist() == [False, True]
    with pytest.raises(ValueError):
        disclosure.primary([1], k=0)


@pytest.mark.parametrize("counts, expected", [
    ([5, 4, 1], [True, False, False]),          # remainder 1: the smallest published (4) goes too -> 5
    ([9, 3, 2], [True, False, False]),          # remainder 2 -> 5
    ([3, 1, 1], [False, False, False]),         # remainder 2, only one published: it goes -> 5 hidden
    ([6, 7, 1, 1], [False, True, False, False]),  # remainder 2 -> 8
])
def test_complementary_turns_a_remainder_of_one_or_two_into_at_least_three(counts, expected):
    published = disclosure.primary(counts)
    assert disclosure.hidden_remainder(sum(counts), counts, published) in REFUSED
    kept = disclosure.complementary(counts, published, sum(counts))
    assert kept.tolist() == expected
    assert disclosure.hidden_remainder(sum(counts), counts, kept) >= 4


def test_complementary_leaves_a_remainder_of_zero_or_at_least_three_alone():
    assert disclosure.complementary([4, 5], [True, True], 9).tolist() == [True, True]
    assert disclosure.complementary([4, 1, 1, 1], [True, False, False, False], 7).tolist() == [True, False, False,
                                                                                               False]
    # A child of 0 counts for nothing: its absence reveals no event.
    assert disclosure.month_publication([4, 0, 3])[0].tolist() == [True, False, True]


def test_complementary_ties_are_deterministic():
    # Equal smallest counts: the first in the fixed order goes, whatever order the rows came in.
    assert disclosure.complementary([4, 4, 2], [True, True, False], 10).tolist() == [False, True, False]
    rows = pd.DataFrame({"month": [1] * 4, "i": [7, 3, 5, 3], "j": [0, 2, 0, 1], "n": [4, 4, 2, 6]})
    expected = disclosure.publish(rows, ["i", "j"])
    hidden = expected[~expected.published & (expected.n >= 3)][["i", "j"]].values.tolist()
    assert hidden == [[3, 2]]  # (3, 2) comes before (7, 0)
    for seed in range(5):
        shuffled = rows.sample(frac=1, random_state=seed)
        pd.testing.assert_frame_equal(disclosure.publish(shuffled, ["i", "j"]), expected)
    categories = pd.DataFrame({"month": [1] * 3, "category": ["transports", "stationnement", "rodeos"],
                               "n": [4, 4, 2]})
    published = disclosure.publish(categories, ["category"])
    assert published[published.published].category.tolist() == ["transports"]  # 'stationnement' < 'transports'


def test_a_month_under_three_is_all_hidden():
    children, total = disclosure.month_publication([1, 1])
    assert children.tolist() == [False, False] and total is False
    atoms = pd.DataFrame({"month": ["2026-01", "2026-02", "2026-02"], "n": [2, 1, 1]})
    assert disclosure.month_totals(atoms, ["2026-01", "2026-02", "2026-03"]) == [None, None, None]
    children, total = disclosure.month_publication([3])
    assert children.tolist() == [True] and total is True


def test_a_months_publication_depends_on_that_month_only():
    rng = np.random.default_rng(9)
    rows = pd.DataFrame({"month": rng.integers(0, 6, 300), "i": rng.integers(0, 8, 300), "j": rng.integers(0, 3, 300)})
    atoms = rows.groupby(["month", "i", "j"], as_index=False).size().rename(columns={"size": "n"})
    whole = disclosure.publish(atoms, ["i", "j"])
    for month in range(6):
        alone = disclosure.publish(atoms[atoms.month == month], ["i", "j"])
        pd.testing.assert_frame_equal(alone, whole[whole.month == month].reset_index(drop=True))


def test_random_tables_never_leave_a_remainder_of_one_or_two():
    rng = random.Random(3)
    for _ in range(2000):
        counts = [rng.choice([0, 1, 1, 1, 2, 2, 3, 3, 4, 5, 8]) for _ in range(rng.randint(1, 7))]
        children, total_published = disclosure.month_publication(counts)
        values = np.asarray(counts)
        assert (values[children] >= 3).all()
        if total_published:
            assert sum(counts) - values[children].sum() not in REFUSED, counts
        else:
            assert sum(counts) < 3 and not children.any()


def test_period_sums_and_bars_use_published_atoms_only():
    rows = pd.DataFrame({"month": [1, 1, 1, 2, 2], "category": ["a", "b", "c", "a", "b"], "n": [5, 4, 1, 2, 9],
                         "published": [True, False, False, False, True]})
    assert disclosure.period_sums(rows.rename(columns={"category": "i"}).assign(j=0), ["i", "j"]).values.tolist() == [
        ["a", 0, 5], ["b", 0, 9]]
    assert disclosure.monthly_values(rows, "category", [1, 2, 3]) == {"a": [5, None, None], "b": [None, 9, None]}


def test_trends_come_from_published_months_only():
    rising = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert disclosure.published_trend(rising) == "hausse"
    # Whatever the masked months hold (0 or 2), the word is the same: it only sees the published ones.
    masked = rising[:3] + [None] + rising[4:7] + [None] + rising[8:]
    assert disclosure.published_trend(masked) == disclosure.published_trend([v for v in masked if v is not None])
    assert disclosure.published_trend([None] * 5 + rising[5:]) == "insuffisant"  # 7 published of 12
    assert disclosure.published_trend([None] * 4 + rising[4:]) == "hausse"  # 8 of 12


# -- what a mayor can get, collected through the app ---------------------------------------------
@dataclasses.dataclass
class Observed:
    """Everything a mayor got from the app, as he sees it."""

    periods: dict[tuple[str, str], dict[str, int]]  # the cells JSON of each requested period
    totals: dict[str, int | None]  # the whole commune's bar per month (None: masked), every page agreeing
    bars: dict[str, dict[str, int | None]]  # per category, per month
    pages: list[dict]  # per page: its period, cells, summary figures, charts and trend words

    def single(self, month: str) -> dict[str, int]:
        return self.periods[(month, month)]


def log_in(app, email: str, password: str):
    client = app.test_client()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/connexion").text).group(1)
    response = client.post("/connexion", data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 302, response.text
    return client


def cells_of(client, insee: str, du: str, au: str) -> dict[str, int]:
    response = client.get(f"/api/communes/{insee}/cellules?du={du}&au={au}")
    assert response.status_code == 200, (du, au, response.text)
    return {f["properties"]["cell"]: f["properties"]["count"] for f in response.get_json()["features"]}


def number(text: str) -> int:
    return int(text.replace("\u202f", "").replace(",", ""))


def read_page(client, insee: str, du: str, au: str) -> dict:
    response = client.get(f"/commune/{insee}?du={du}&au={au}")
    assert response.status_code == 200
    html = response.text
    cells = {c: int(n) for c, n in re.findall(r'"cell": "(\d+_\d+)", "count": (\d+)', html)}
    summary = re.search(r'<p class="cells-summary">(\d+) carreaux? affichés?,\s*([\d\u202f]+) faits\s*;\s*'
                        r'([\d\u202f]+) faits dans toute la commune', html)
    charts, words, totals = {}, {}, {}
    for code, body in re.findall(r'<li class="trend[^"]*" data-category="([^"]+)">(.*?)</li>', html, re.S):
        charts[code] = chart_bars(body)
        words[code] = re.search(r'data-trend="([a-z]+)"', body).group(1)
        totals[code] = int(re.search(r'<span class="trend-total">(\d+) faits</span>', body).group(1))
    return {"period": (du, au), "cells": cells, "shown": len(cells) if summary is None else int(summary.group(1)),
            "cells_total": number(summary.group(2)) if summary else 0,
            "commune_total": number(summary.group(3)) if summary else None,
            "charts": charts, "words": words, "chart_totals": totals, "html": html}


def observe(client, insee: str) -> Observed:
    """The attack of the issue: 24 + 24 periods, the 24 single months, and a page per month."""
    periods = {}
    for month in MONTHS:
        for du, au in ((month, LAST_MONTH), (FIRST_MONTH, month), (month, month)):
            periods[(ym(du), ym(au))] = cells_of(client, insee, ym(du), ym(au))
    pages = [read_page(client, insee, ym(m), ym(m)) for m in MONTHS]
    pages.append(read_page(client, insee, ym(stats.month_start(LAST_MONTH, -11)), ym(LAST_MONTH)))
    codes = {code for page in pages for code in page["charts"]}
    series: dict[str, dict[str, int | None]] = {code: {} for code in codes}
    for page in pages:
        months = list(page["charts"]["ensemble"])
        assert len(months) == 12
        for code in codes:
            # A category missing from a page has no published month in its 12 months.
            chart = page["charts"].get(code, dict.fromkeys(months))
            assert list(chart) == months
            for month, value in chart.items():
                # The same month shows the same figure on every page, whatever the period asked.
                assert series[code].setdefault(month, value) == value, (code, month)
    totals = series.pop("ensemble")
    return Observed(periods, totals, series, pages)


def raw_counts(engine, insee: str) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Independent SQL truth: per month AAAA-MM, the occurrences of each cell and of each category."""
    local = "occurred_at AT TIME ZONE 'Europe/Paris'"
    with engine.connect() as conn:
        cells = conn.execute(sa.text(
            f"SELECT to_char({local}, 'YYYY-MM') AS m, floor(ST_X(geom) / 200)::bigint || '_' || "
            "floor(ST_Y(geom) / 200)::bigint AS cell, count(*) AS n FROM occurrence WHERE commune_insee = :insee "
            "GROUP BY 1, 2"), {"insee": insee}).all()
        categories = conn.execute(sa.text(
            f"SELECT to_char({local}, 'YYYY-MM') AS m, category_code AS g, count(*) AS n FROM occurrence "
            "WHERE commune_insee = :insee GROUP BY 1, 2"), {"insee": insee}).all()
    by_cell: dict[str, dict[str, int]] = defaultdict(dict)
    by_category: dict[str, dict[str, int]] = defaultdict(dict)
    for r in cells:
        by_cell[r.m][r.cell] = int(r.n)
    for r in categories:
        by_category[r.m][r.g] = int(r.n)
    return by_cell, by_category


def old_rule_answers(engine, insee: str, periods) -> dict[tuple[str, str], dict[str, int]]:
    """What the old code returned: a direct count of the period per cell, kept when at least 3."""
    answers = {}
    with engine.connect() as conn:
        for du, au in periods:
            first = dt.date(int(du[:4]), int(du[5:]), 1)
            stop = stats.month_start(dt.date(int(au[:4]), int(au[5:]), 1), 1)
            rows = conn.execute(sa.text(
                "SELECT floor(ST_X(geom) / 200)::bigint || '_' || floor(ST_Y(geom) / 200)::bigint AS cell, "
                "count(*) AS n FROM occurrence WHERE commune_insee = :insee "
                "AND occurred_at >= CAST(:first AS date)::timestamp AT TIME ZONE 'Europe/Paris' "
                "AND occurred_at < CAST(:stop AS date)::timestamp AT TIME ZONE 'Europe/Paris' "
                "GROUP BY 1 HAVING count(*) >= 3"), {"insee": insee, "first": first, "stop": stop}).all()
            answers[(du, au)] = {r.cell: int(r.n) for r in rows}
    return answers


def isolated_cell_months(answers: dict[tuple[str, str], dict[str, int]], gaps=(1,)) -> set[tuple[str, str]]:
    """The attack as the issue writes it: two periods one month apart both show a cell, counts differ by 1."""
    found = set()
    for (p, a), (q, b) in itertools.permutations(answers.items(), 2):
        extra = set(months_of(q)) - set(months_of(p))
        if len(extra) != 1 or not set(months_of(p)) < set(months_of(q)):
            continue
        (month,) = extra
        for cell in a.keys() & b.keys():
            if b[cell] - a[cell] in gaps:
                found.add((cell, month))
    return found


# -- the checks, for any commune -------------------------------------------------------------------
def check_nested_differences(observed: Observed) -> int:
    """Two periods, one inside the other: no cell's difference is 1 or 2 (nor negative)."""
    pairs = 0
    for (p, a), (q, b) in itertools.permutations(observed.periods.items(), 2):
        if set(months_of(q)) < set(months_of(p)):
            pairs += 1
            for cell in a.keys() | b.keys():
                difference = a.get(cell, 0) - b.get(cell, 0)
                assert difference >= 0 and difference not in REFUSED, (p, q, cell, difference)
    return pairs


def check_every_answer_is_a_sum_of_single_months(observed: Observed) -> None:
    """Every answer is the sum of the single-month answers of its months, each at least 3.

    So the difference of ANY two answers (nested or not) is a signed sum of published
    single-month figures: a combination of atoms of at least 3 each.
    """
    for month in MONTHS:
        assert all(n >= 3 for n in observed.single(ym(month)).values())
    for period, answer in observed.periods.items():
        expected = Counter()
        for month in months_of(period):
            expected.update(observed.single(month))
        assert answer == dict(expected), period
    for (p, a), (q, b) in itertools.combinations(observed.periods.items(), 2):
        only_p, only_q = set(months_of(p)) - set(months_of(q)), set(months_of(q)) - set(months_of(p))
        for cell in a.keys() | b.keys():
            difference = a.get(cell, 0) - b.get(cell, 0)
            assert difference == (sum(observed.single(m).get(cell, 0) for m in only_p)
                                  - sum(observed.single(m).get(cell, 0) for m in only_q))


def check_cells_against_the_database(observed: Observed, raw_cells) -> None:
    """A published cell-month is its true count; what is hidden in a month adds up to 0 or at least 3."""
    for month in MONTHS:
        month, shown, true = ym(month), observed.single(ym(month)), raw_cells.get(ym(month), {})
        assert all(true[cell] == n for cell, n in shown.items()), month
        total = sum(true.values())
        if total < 3:
            assert shown == {} and observed.totals[month] is None, month
            continue
        assert observed.totals[month] == total, month
        assert total - sum(shown.values()) not in REFUSED, month
        secret = [cell for cell, n in true.items() if n >= 3 and cell not in shown]
        assert len(secret) <= 1, month  # at most one complementary suppression per month
        if secret:
            small = sum(n for n in true.values() if n < 3)
            assert small in REFUSED and true[secret[0]] <= min(shown.values(), default=true[secret[0]])


def check_charts_against_the_database(observed: Observed, raw_categories) -> None:
    """A bar is its true count (at least 3) or masked; the month total minus the published bars is 0 or >= 3."""
    for month, total in observed.totals.items():
        true = raw_categories.get(month, {})
        assert total == (sum(true.values()) if sum(true.values()) >= 3 else None), month
        published = {code: chart[month] for code, chart in observed.bars.items() if chart.get(month) is not None}
        assert all(true[code] == n >= 3 for code, n in published.items()), month
        if total is None:
            assert published == {}, month
            continue
        assert total - sum(published.values()) not in REFUSED, month
        secret = [code for code, n in true.items() if n >= 3 and code not in published]
        assert len(secret) <= 1, month
        if secret:
            assert sum(n for n in true.values() if n < 3) in REFUSED, month


def check_cells_against_charts(observed: Observed) -> None:
    """Cross checks of one month: the cells (single-month answers) against the total and the bars."""
    for month in map(ym, MONTHS):
        total, cells = observed.totals[month], observed.single(month)
        if total is None:
            assert cells == {}
            continue
        assert total - sum(cells.values()) not in REFUSED, month
        published = [chart[month] for chart in observed.bars.values() if chart.get(month) is not None]
        for count in cells.values():
            if count == total:  # the only non-empty cell: its breakdown by category is the month's
                assert all(count - bar not in REFUSED for bar in published), month
                assert count - sum(published) not in REFUSED, month


def check_page_totals(observed: Observed) -> None:
    """The page's figures are sums of shown figures: cells, the commune's months, the category bars."""
    for page in observed.pages:
        answer = observed.periods[page["period"]]
        assert page["cells"] == answer and page["shown"] == len(answer), page["period"]
        assert page["cells_total"] == sum(answer.values()), page["period"]
        commune = sum(observed.totals[m] or 0 for m in months_of(page["period"]))
        if answer:
            # The commune's total over the period is the sum of its published months; what the
            # cells leave out is a sum of monthly remainders, each 0 or at least 3.
            assert page["commune_total"] == commune, page["period"]
            assert commune - page["cells_total"] not in REFUSED, page["period"]
        for code, chart in page["charts"].items():
            assert page["chart_totals"][code] == sum(v for v in chart.values() if v is not None), code


def check_trend_words(observed: Observed) -> None:
    """Each trend word is Mann-Kendall (pymannkendall, 5 %) of the published bars only, 8 of 12 at least."""
    for page in observed.pages:
        for code, chart in page["charts"].items():
            shown = [v for v in chart.values() if v is not None]
            if len(shown) < 8:
                expected = "insuffisant"
            else:
                expected = {"increasing": "hausse", "decreasing": "baisse", "no trend": "stable"}[
                    pymannkendall.original_test(shown, alpha=0.05).trend]
            assert page["words"][code] == expected, (page["period"], code)


# -- the Belfort demo: the attack of the issue -------------------------------------------------------
@pytest.fixture(scope="module")
def belfort_replay(database_url, engine):
    """The demo data, the mayor of Belfort, and every answer of the attack (kept in memory).

    The tables are emptied first (the other tests leave them full); the per-test cleaning
    that follows does not matter, everything needed is collected here.
    """
    from web import create_app

    tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "category")
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    load_communes(engine, "90")
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2000, 1, 1))
    load_synthetic(engine)
    create_user(engine, MAYOR[0], "maire", MAYOR[1], commune="90010")
    client = log_in(create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"}), *MAYOR)
    observed = observe(client, "90010")
    raw_cells, raw_categories = raw_counts(engine, "90010")
    attack = [p for p in observed.periods if p[0] == ym(FIRST_MONTH) or p[1] == ym(LAST_MONTH)]
    old = old_rule_answers(engine, "90010", attack)
    default_old = old_rule_answers(engine, "90010", [(ym(stats.month_start(LAST_MONTH, -11)), ym(LAST_MONTH))])
    planted = json.loads((ROOT / "data" / "demo" / "planted.json").read_text())
    return {"observed": observed, "raw_cells": raw_cells, "raw_categories": raw_categories, "attack": attack,
            "old": old, "default_old": next(iter(default_old.values())), "planted": planted}


def test_the_old_rule_let_the_attack_locate_thousands_of_single_events(belfort_replay):
    old = belfort_replay["old"]
    assert len(old) == 47  # 24 + 24 periods, the full 24 months counted once
    isolated = isolated_cell_months(old)
    assert len(isolated) > 2000  # 2,305 with the demo data
    # And they are real: each isolated cell-month holds exactly one occurrence.
    raw = belfort_replay["raw_cells"]
    assert all(raw[month][cell] == 1 for cell, month in isolated)
    # The check the new answers pass fails on the old ones: it can tell a leak.
    with pytest.raises(AssertionError):
        check_nested_differences(Observed(old, {}, {}, []))


def test_the_attack_isolates_nothing_now(belfort_replay):
    observed = belfort_replay["observed"]
    answers = {p: observed.periods[p] for p in belfort_replay["attack"]}
    assert len(answers) == 47 and all(answers.values())
    assert isolated_cell_months(answers, gaps=REFUSED) == set()
    assert isolated_cell_months(observed.periods, gaps=REFUSED) == set()


def test_no_difference_of_two_periods_isolates_one_or_two_events(belfort_replay):
    observed = belfort_replay["observed"]
    assert check_nested_differences(observed) > 1000
    check_every_answer_is_a_sum_of_single_months(observed)


def test_published_cells_and_bars_are_the_database_truth(belfort_replay):
    observed = belfort_replay["observed"]
    check_cells_against_the_database(observed, belfort_replay["raw_cells"])
    check_charts_against_the_database(observed, belfort_replay["raw_categories"])
    # Every month of the attack has a published total and published cells (Belfort is dense).
    assert all(observed.totals[ym(m)] for m in MONTHS) and all(observed.single(ym(m)) for m in MONTHS)
    # Belfort's months all hide a remainder of many small cells (never 1 or 2), so no complementary
    # suppression is needed: a month shows exactly its cells of at least 3 (the village below needs it).
    raw = belfort_replay["raw_cells"]
    for month in map(ym, MONTHS):
        assert observed.single(month) == {cell: n for cell, n in raw[month].items() if n >= 3}
        assert sum(raw[month].values()) - sum(observed.single(month).values()) > 100


def test_cells_charts_and_totals_agree(belfort_replay):
    observed = belfort_replay["observed"]
    check_cells_against_charts(observed)
    check_page_totals(observed)
    check_trend_words(observed)


def test_the_mayor_still_sees_his_hotspots(belfort_replay):
    """The planted places of Belfort show with nearly all their occurrences over the default 12 months."""
    observed = belfort_replay["observed"]
    default = observed.pages[-1]
    assert default["period"] == ("2025-12", "2026-11")
    raw = belfort_replay["raw_cells"]
    months = months_of(default["period"])
    places = []
    for place in belfort_replay["planted"]["places"]:
        for part in [place] + [place[k] for k in ("old", "new") if k in place]:
            if part["commune_insee"] == "90010":
                places.append(f"{part['cell']['i']}_{part['cell']['j']}")
    places = sorted(set(places))
    assert len(places) == 7
    for cell in places:
        true = sum(raw[m].get(cell, 0) for m in months)
        assert true >= 100 and default["cells"][cell] >= 0.95 * true, (cell, true, default["cells"].get(cell))
    assert sum(n >= 50 for n in default["cells"].values()) >= 8
    # The map keeps more than a hundred cells (337 with the old rule, which leaked).
    assert len(default["cells"]) > 150 and len(belfort_replay["default_old"]) > len(default["cells"])


# -- a village with hand-made months: each rule fires ---------------------------------------------------
#: (month, cell offset (di, dj), category, how many) around the village's point on surface.
VILLAGE_EVENTS = [
    # March: one cell of 5 = 4 dealing + 1 rodeo: the cell is the month total (5), dealing
    # alone (4) would give the rodeo away: the category remainder is 1, dealing is masked too.
    ("2026-03", (0, 0), "stupefiants", 4), ("2026-03", (0, 0), "rodeos", 1),
    # April: 2 occurrences: the whole month is masked.
    ("2026-04", (0, 0), "incivilites", 2),
    # May: cells 6, 4, 1: remainder 1, so the 4 is masked too.
    ("2026-05", (0, 0), "alcoolisation", 6), ("2026-05", (1, 0), "alcoolisation", 4),
    ("2026-05", (2, 0), "alcoolisation", 1),
    # June: cells 4, 4, 2 (a tie: the lower i goes) and categories 4, 4, 2 (the lower code goes).
    ("2026-06", (0, 0), "stationnement", 4), ("2026-06", (1, 0), "transports", 4), ("2026-06", (2, 0), "rodeos", 2),
    # July: cells 3, 3, 3 and categories 3, 3, 3: everything published, remainder 0.
    ("2026-07", (0, 0), "incivilites", 3), ("2026-07", (0, 1), "rassemblements", 3),
    ("2026-07", (1, 1), "stupefiants", 3),
]


@pytest.fixture
def village(app, engine):
    load_communes(engine, "90")
    with engine.begin() as conn:
        i0, j0 = conn.execute(sa.text(
            "SELECT floor(ST_X(p) / 200)::bigint, floor(ST_Y(p) / 200)::bigint "
            "FROM (SELECT ST_PointOnSurface(geom) AS p FROM commune WHERE insee = :insee) AS c"),
            {"insee": VILLAGE}).one()
        number = 0
        for month, (di, dj), category, n in VILLAGE_EVENTS:
            for k in range(n):
                number += 1
                conn.execute(sa.text(
                    "INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, commune_insee) "
                    "VALUES ('test', :id, :g, CAST(:at AS timestamptz), "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 2154), :insee)"),
                    {"id": f"v{number}", "g": category, "at": f"{month}-{10 + k:02d} 12:00+02",
                     "x": (i0 + di) * 200 + 20 + 10 * k, "y": (j0 + dj) * 200 + 50, "insee": VILLAGE})
    create_user(engine, VILLAGE_MAYOR[0], "maire", VILLAGE_MAYOR[1], commune=VILLAGE)
    return log_in(app, *VILLAGE_MAYOR), (int(i0), int(j0))


def test_the_village_shows_only_safe_figures(village, engine):
    client, (i0, j0) = village

    def cell(di, dj):
        return f"{i0 + di}_{j0 + dj}"

    observed = observe(client, VILLAGE)
    assert observed.single("2026-03") == {cell(0, 0): 5}
    assert observed.single("2026-04") == {}
    assert observed.single("2026-05") == {cell(0, 0): 6}
    assert observed.single("2026-06") == {cell(1, 0): 4}
    assert observed.single("2026-07") == {cell(0, 0): 3, cell(0, 1): 3, cell(1, 1): 3}
    assert observed.periods[("2024-12", "2026-11")] == {cell(0, 0): 14, cell(1, 0): 4, cell(0, 1): 3, cell(1, 1): 3}
    totals = {m: v for m, v in observed.totals.items() if v is not None}
    assert totals == {"2026-03": 5, "2026-05": 11, "2026-06": 10, "2026-07": 9}
    published = {code: {m: v for m, v in chart.items() if v is not None} for code, chart in observed.bars.items()}
    assert published == {"stupefiants": {"2026-07": 3}, "alcoolisation": {"2026-05": 11},
                         "transports": {"2026-06": 4}, "incivilites": {"2026-07": 3},
                         "rassemblements": {"2026-07": 3}}
    # Rodeos and parking never have a published month: they are not listed at all.
    default = observed.pages[-1]
    assert "rodeos" not in default["charts"] and "stationnement" not in default["charts"]
    assert set(default["words"].values()) == {"insuffisant"}
    assert "trop peu de mois publiés (4 sur 12)" in default["html"]
    # March's 4 dealing would give the single rodeo away: masked, and so is the 4 of June's parking.
    july = next(p for p in observed.pages if p["period"] == ("2026-07", "2026-07"))
    assert july["charts"]["stupefiants"]["2026-03"] is None and july["charts"]["ensemble"]["2026-03"] == 5
    assert "stupefiants" not in next(p for p in observed.pages if p["period"] == ("2026-03", "2026-03"))["charts"]
    raw_cells, raw_categories = raw_counts(engine, VILLAGE)
    check_every_answer_is_a_sum_of_single_months(observed)
    check_nested_differences(observed)
    check_cells_against_the_database(observed, raw_cells)
    check_charts_against_the_database(observed, raw_categories)
    check_cells_against_charts(observed)
    check_page_totals(observed)
    check_trend_words(observed)
    # The old rule would have shown March's cell (5) and dealing (4): the single rodeo located.
    old = old_rule_answers(engine, VILLAGE, [("2026-03", "2026-03")])[("2026-03", "2026-03")]
    assert old == {cell(0, 0): 5} and raw_categories["2026-03"] == {"stupefiants": 4, "rodeos": 1}


def test_without_complementary_suppression_the_checks_fail(village, engine, monkeypatch):
    """The village's checks can fail: with primary suppression only, its remainders of 1 and 2 show."""
    client, _ = village
    monkeypatch.setattr(disclosure, "complementary", lambda counts, published, total, k=3: np.asarray(published))
    observed = observe(client, VILLAGE)
    raw_cells, raw_categories = raw_counts(engine, VILLAGE)
    with pytest.raises(AssertionError):
        check_cells_against_the_database(observed, raw_cells)  # May: 10 of 11 shown, the single one located
    with pytest.raises(AssertionError):
        check_charts_against_the_database(observed, raw_categories)  # March: 5 - 4 dealing = the rodeo
