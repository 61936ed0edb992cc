"""The mayor's commune page and its GeoJSON of cells, through Flask's test client."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.analysis import commune_figures as stats
from geo.demo.loader import load_synthetic
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from geo.settings import local_today
from tests.fixtures.mayor_page import chart_bars
from tests.support import BOUNDARIES

MAYOR = ("maire.test@psq.test", "mot de passe du maire")
PERIOD = "du=2025-11-01&au=2026-10-31"
SECRET_DESCRIPTION = "Jean Dupont vu au 12 rue des Secrets"
SECRET_ADDRESS = "12 rue des Secrets"


@pytest.fixture
def belfort(engine):
    """The demo territory with synthetic data, plus one occurrence carrying personal data."""
    load_communes(engine, "90")
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2000, 1, 1))
    load_synthetic(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, description, address, "
            "commune_insee) SELECT 'test', 'secret-1', 'incivilites', '2026-05-05 12:00+02', "
            "ST_PointOnSurface(geom), :d, :a, insee FROM commune WHERE insee = '90010'"),
            {"d": SECRET_DESCRIPTION, "a": SECRET_ADDRESS})
        conn.execute(sa.text("UPDATE problem SET description = :d WHERE commune_insee = '90010'"),
                     {"d": SECRET_DESCRIPTION})
    create_user(engine, MAYOR[0], "maire", MAYOR[1], commune="90010")


@pytest.fixture
def mayor(app, belfort, login):
    client = app.test_client()
    response = login(client, *MAYOR)
    assert response.status_code == 302 and response.headers["Location"].endswith("/commune/90010")
    return client


def embedded_counts(html: str) -> list[int]:
    """The counts of the cells in the map's embedded GeoJSON."""
    return [int(n) for n in re.findall(r'"count":\s*(\d+)', html)]


def test_mayor_sees_his_commune_with_aggregated_cells_only(mayor, engine):
    page = mayor.get(f"/commune/90010?{PERIOD}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Belfort <span class=\"insee\">(90010)</span></h1>" in html and "carreaux de 200 m" in html
    counts = embedded_counts(html)
    assert counts and min(counts) >= 3
    # The cells shown are the sums of their published months, written independently from SQL;
    # small cells do exist but are hidden, and a direct count of the period is no longer what is shown.
    truth = published_truth(engine, dt.date(2025, 11, 1), dt.date(2026, 11, 1))
    assert sorted(counts) == sorted(truth.values())
    all_cells = stats.cell_counts(engine, "90010", dt.date(2025, 11, 1), dt.date(2026, 10, 31), k=1)
    direct = {f"{c.i}_{c.j}": c.count for c in all_cells}
    assert any(c.count < 3 for c in all_cells)
    assert any(n >= 3 and cell not in truth for cell, n in direct.items())  # cells of 1-2 a month, never shown
    assert any(truth[cell] < n for cell, n in direct.items() if cell in truth)  # months of 1-2 left out
    assert all(truth[cell] <= direct[cell] for cell in truth)
    assert SECRET_DESCRIPTION not in html and SECRET_ADDRESS not in html
    assert "cdn.jsdelivr" not in html


def test_cells_json_hides_cells_under_three(mayor):
    response = mayor.get(f"/api/communes/90010/cellules?{PERIOD}")
    assert response.status_code == 200
    collection = response.get_json()
    assert collection["type"] == "FeatureCollection"
    counts = [f["properties"]["count"] for f in collection["features"]]
    assert counts and min(counts) >= 3
    assert set(collection["features"][0]["properties"]) == {"cell", "count"}
    assert SECRET_ADDRESS not in json.dumps(collection)


def test_cell_threshold_is_a_parameter(mayor, engine):
    first, last = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
    default = stats.cell_counts(engine, "90010", first, last)
    stricter = stats.cell_counts(engine, "90010", first, last, k=10)
    assert min(c.count for c in stricter) >= 10
    assert {(c.i, c.j) for c in stricter} < {(c.i, c.j) for c in default}


def category_month_truth(engine, first: dt.date, stop: dt.date) -> dict[tuple[str, str], int]:
    """Occurrences of Belfort per (category, month AAAA-MM) over [first, stop), written independently."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT category_code AS g, to_char(occurred_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM') AS m, "
            "count(*) AS n FROM occurrence WHERE commune_insee = '90010' "
            "AND (occurred_at AT TIME ZONE 'Europe/Paris')::date >= :first "
            "AND (occurred_at AT TIME ZONE 'Europe/Paris')::date < :stop GROUP BY 1, 2"),
            {"first": first, "stop": stop}).all()
    return {(r.g, r.m): int(r.n) for r in rows}


def test_trend_chart_for_each_category_with_data(mayor, engine):
    html = mayor.get(f"/commune/90010?{PERIOD}").text
    trends = stats.category_trends(engine, "90010", dt.date(2026, 10, 31))
    assert trends
    truth = category_month_truth(engine, dt.date(2025, 11, 1), dt.date(2026, 11, 1))
    for trend in trends:
        item = re.search(rf'<li class="trend" data-category="{trend.code}">(.*?)</li>', html, re.S)
        assert item, trend.code
        assert item.group(1).count("<rect") == 12
        word = {"hausse": "en hausse", "baisse": "en baisse", "stable": "stable",
                "insuffisant": "trop peu de mois publiés"}[trend.trend]
        assert word in item.group(1) and f'data-trend="{trend.trend}"' in item.group(1)
        bars = chart_bars(item.group(1))
        assert list(bars.values()) == list(trend.counts)
        # A bar is the true count of its month, or masked (never 0): under 3, or the smallest category
        # of a month whose categories under 3 add up to 1 or 2 (complementary suppression).
        for month, value in bars.items():
            true = truth.get((trend.code, month), 0)
            small = sum(n for (_, m), n in truth.items() if m == month and n < 3)
            if value is None:
                assert true < 3 or small in (1, 2), (trend.code, month, true)
            else:
                assert value == true >= 3, (trend.code, month)
        assert f"{trend.total} faits" in item.group(1)
        assert trend.total == sum(v for v in bars.values() if v is not None)
    assert html.count('<li class="trend"') == len(trends)
    # The whole commune's monthly totals are drawn too.
    everything = re.search(r'<li class="trend trend-all" data-category="ensemble">(.*?)</li>', html, re.S)
    totals = Counter()
    for (_, month), n in truth.items():
        totals[month] += n
    assert chart_bars(everything.group(1)) == {m: (n if n >= 3 else None) for m, n in sorted(totals.items())}


def test_problems_list_with_status_but_no_description(mayor, engine):
    html = mayor.get("/commune/90010").text
    problems = stats.commune_problems(engine, "90010")
    assert problems
    for problem in problems:
        assert str(problem.title).replace("'", "&#39;") in html
        assert problem.status in html
    assert SECRET_DESCRIPTION not in html


def test_another_commune_is_forbidden(mayor):
    page = mayor.get("/commune/90011")
    assert page.status_code == 403
    assert "Accès refusé" in page.text
    api = mayor.get("/api/communes/90011/cellules")
    assert api.status_code == 403
    assert "error" in api.get_json()


def test_anonymous_gets_401_json_and_login_page(client, belfort):
    api = client.get("/api/communes/90010/cellules")
    assert api.status_code == 401
    assert api.get_json()["error"]
    page = client.get("/commune/90010")
    assert page.status_code == 302 and "/connexion" in page.headers["Location"]


def test_admin_sees_any_commune_partner_none(admin_client, belfort, engine, app, login):
    assert admin_client.get("/commune/90011").status_code == 200
    assert admin_client.get("/commune/99999").status_code == 404
    create_user(engine, "bailleur@psq.test", "partenaire", "mot de passe partenaire")
    partner = app.test_client()
    login(partner, "bailleur@psq.test", "mot de passe partenaire")
    assert partner.get("/commune/90010").status_code == 403


def test_bad_period(mayor):
    assert mayor.get("/commune/90010?du=2026-13-01").status_code == 400
    assert mayor.get("/api/communes/90010/cellules?du=2026-10-01&au=2026-01-01").status_code == 400
    assert mayor.get("/api/communes/90010/cellules?du=2026-10&au=2026-01").status_code == 400
    assert mayor.get("/api/communes/90010/cellules?du=hier").status_code == 400


# -- whole-month periods only (no differencing attack on the k = 3 rule) -----------------
WHOLE_MONTHS = "du=2026-01&au=2026-06"
FIRST_DAY_REFUSED = "La période se compte en mois entiers : « du » doit être un mois (AAAA-MM) ou le 1er d'un mois"
LAST_DAY_REFUSED = ("La période se compte en mois entiers : « au » doit être un mois (AAAA-MM) ou le dernier jour "
                    "d'un mois")


def sql_truth(engine, first: dt.date, stop: dt.date) -> dict[str, int]:
    """Every 200 m cell of Belfort with its count over [first, stop) in local days, written independently."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT floor(ST_X(geom) / 200)::bigint AS i, floor(ST_Y(geom) / 200)::bigint AS j, count(*) AS n "
            "FROM occurrence WHERE commune_insee = '90010' "
            "AND (occurred_at AT TIME ZONE 'Europe/Paris')::date >= :first "
            "AND (occurred_at AT TIME ZONE 'Europe/Paris')::date < :stop GROUP BY 1, 2"),
            {"first": first, "stop": stop}).all()
    return {f"{r.i}_{r.j}": int(r.n) for r in rows}


def published_truth(engine, first: dt.date, stop: dt.date) -> dict[str, int]:
    """The cells a mayor must see over the whole months of [first, stop), written independently of the app.

    Per local month: a cell-month is published if it holds at least 3 occurrences; if the
    month's total minus its published cell-months is 1 or 2, the smallest published one (then
    the lowest i, j) is hidden too; a month under 3 hides everything. A cell's figure is the
    sum of its published months; cells summing to 0 are absent.
    """
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT to_char(occurred_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM') AS m, "
            "floor(ST_X(geom) / 200)::bigint AS i, floor(ST_Y(geom) / 200)::bigint AS j, count(*) AS n "
            "FROM occurrence WHERE commune_insee = '90010' "
            "AND (occurred_at AT TIME ZONE 'Europe/Paris')::date >= :first "
            "AND (occurred_at AT TIME ZONE 'Europe/Paris')::date < :stop GROUP BY 1, 2, 3"),
            {"first": first, "stop": stop}).all()
    months: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    for r in rows:
        months[r.m][(int(r.i), int(r.j))] = int(r.n)
    shown: Counter = Counter()
    for cells in months.values():
        total = sum(cells.values())
        if total < 3:
            continue
        published = {cell: n for cell, n in cells.items() if n >= 3}
        if 0 < total - sum(published.values()) < 3:
            del published[min(published, key=lambda cell: (published[cell], cell))]
        for (i, j), n in published.items():
            shown[f"{i}_{j}"] += n
    return dict(shown)


def snapshot(engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                     for table in ("occurrence", "problem", "audit_log", "app_user"))


def page_text(response) -> str:
    return html_lib.unescape(response.text)


@pytest.mark.parametrize("query, sentence", [
    ("du=2026-01-02&au=2026-06-30", FIRST_DAY_REFUSED + ", et non le 02/01/2026."),
    ("du=2026-01-01&au=2026-06-29", LAST_DAY_REFUSED + ", et non le 29/06/2026."),
    ("du=2026-01-15&au=2026-01-20", FIRST_DAY_REFUSED + ", et non le 15/01/2026."),
    ("du=2026-02&au=2026-06-15", LAST_DAY_REFUSED + ", et non le 15/06/2026."),
])
def test_a_period_to_the_day_is_refused_and_changes_nothing(mayor, engine, query, sentence):
    before = snapshot(engine)
    page = mayor.get(f"/commune/90010?{query}")
    assert page.status_code == 400
    assert sentence in page_text(page)
    assert embedded_counts(page.text) == [] and "leaflet" not in page.text.lower()
    api = mayor.get(f"/api/communes/90010/cellules?{query}")
    assert api.status_code == 400
    assert api.get_json() == {"error": sentence}
    assert snapshot(engine) == before


def test_differencing_two_periods_a_day_apart_is_impossible(mayor):
    """The attack of the brief: the same half-year, then one day less; the second is refused."""
    whole = mayor.get("/api/communes/90010/cellules?du=2026-01-01&au=2026-06-30")
    assert whole.status_code == 200 and whole.get_json()["features"]
    one_day_less = mayor.get("/api/communes/90010/cellules?du=2026-01-02&au=2026-06-30")
    assert one_day_less.status_code == 400 and "features" not in one_day_less.get_json()


def test_whole_months_give_the_sql_truth(mayor, engine):
    truth = sql_truth(engine, dt.date(2026, 1, 1), dt.date(2026, 7, 1))
    assert any(n < 3 for n in truth.values()) and any(n >= 3 for n in truth.values())
    shown = published_truth(engine, dt.date(2026, 1, 1), dt.date(2026, 7, 1))
    assert shown and shown != {cell: n for cell, n in truth.items() if n >= 3}  # no longer a direct count
    for query in (WHOLE_MONTHS, "du=2026-01-01&au=2026-06-30", "du=2026-01&au=2026-06-30", "du=2026-01-01&au=2026-06"):
        response = mayor.get(f"/api/communes/90010/cellules?{query}")
        assert response.status_code == 200, query
        collection = response.get_json()
        assert {f["properties"]["cell"]: f["properties"]["count"] for f in collection["features"]} == shown
        assert collection["properties"]["du"] == "2026-01-01" and collection["properties"]["au"] == "2026-06-30"
    page = mayor.get(f"/commune/90010?{WHOLE_MONTHS}")
    assert page.status_code == 200
    assert sorted(embedded_counts(page.text)) == sorted(shown.values())
    assert "de janv. 2026 à juin 2026" in page_text(page)
    # A single month works too, and February ends on its last day.
    february = sql_truth(engine, dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    response = mayor.get("/api/communes/90010/cellules?du=2026-02&au=2026-02-28")
    assert response.status_code == 200
    published = {f["properties"]["cell"]: f["properties"]["count"] for f in response.get_json()["features"]}
    assert published == published_truth(engine, dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    # Within a single month a published cell is its true count; the hidden remainder is 0 or at least 3.
    assert published and all(february[cell] == n for cell, n in published.items())
    assert sum(february.values()) - sum(published.values()) not in (1, 2)


def test_at_most_24_months(mayor, engine):
    sentence = "La période couvre 25 mois, de oct. 2024 à oct. 2026, mais elle ne peut dépasser 24 mois."
    page = mayor.get("/commune/90010?du=2024-10&au=2026-10")
    assert page.status_code == 400 and sentence in page_text(page)
    api = mayor.get("/api/communes/90010/cellules?du=2024-10-01&au=2026-10-31")
    assert api.status_code == 400 and api.get_json() == {"error": sentence}
    longest = mayor.get("/api/communes/90010/cellules?du=2024-11&au=2026-10")
    assert longest.status_code == 200
    assert {f["properties"]["cell"]: f["properties"]["count"] for f in longest.get_json()["features"]} == (
        published_truth(engine, dt.date(2024, 11, 1), dt.date(2026, 11, 1)))


def test_the_current_month_and_the_future_are_refused(mayor):
    current = stats.month_start(local_today())
    last_full = stats.month_start(current, -1)
    for month in (current, stats.month_start(current, 1), stats.month_start(current, 14)):
        sentence = (f"La période s'arrête au plus tard au dernier mois terminé ({stats.month_label(last_full)}) : "
                    f"{stats.month_label(month)} n'est pas terminé.")
        query = f"du={last_full:%Y-%m}&au={month:%Y-%m}"
        page = mayor.get(f"/commune/90010?{query}")
        assert page.status_code == 400 and sentence in page_text(page), month
        api = mayor.get(f"/api/communes/90010/cellules?{query}")
        assert api.status_code == 400 and api.get_json() == {"error": sentence}
    # A period starting in the future is refused with the same sentence, whatever its end.
    assert mayor.get(f"/api/communes/90010/cellules?du={current:%Y-%m}").status_code == 400
    # Up to the last finished month is fine.
    assert mayor.get(f"/api/communes/90010/cellules?du={last_full:%Y-%m}&au={last_full:%Y-%m}").status_code == 200


def test_default_period_is_the_last_12_full_months(mayor):
    first, last = stats.default_period()
    collection = mayor.get("/api/communes/90010/cellules").get_json()
    assert (collection["properties"]["du"], collection["properties"]["au"]) == (first.isoformat(), last.isoformat())
    alone = mayor.get(f"/api/communes/90010/cellules?au={last:%Y-%m}").get_json()
    assert (alone["properties"]["du"], alone["properties"]["au"]) == (first.isoformat(), last.isoformat())


def test_the_period_form_offers_months_only(mayor):
    html = mayor.get(f"/commune/90010?{WHOLE_MONTHS}").text
    inputs = re.findall(r"<input [^>]*>", html.split('class="dateform"')[1].split("</form>")[0])
    assert len(inputs) == 2 and all('type="month"' in i for i in inputs)
    assert 'name="du" value="2026-01"' in html and 'name="au" value="2026-06"' in html
    assert f'max="{stats.default_period()[1]:%Y-%m}"' in html
    assert 'type="date"' not in html


def test_another_communes_cells_are_forbidden_even_with_a_good_period(mayor):
    assert mayor.get(f"/commune/90011?{WHOLE_MONTHS}").status_code == 403
    assert mayor.get(f"/api/communes/90011/cellules?{WHOLE_MONTHS}").status_code == 403
    # The access check comes first: a bad period on another commune is still a 403.
    assert mayor.get("/api/communes/90011/cellules?du=2026-01-02").status_code == 403
