"""The page of the GPOs' figures (issue 15 item 5): French tables per CSP and in total, each role's scope, the
partner refused, a bad period refused in one French sentence."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from geo.settings import local_today
from tests.fixtures.accounts import account, client_as
from tests.fixtures.figures import SOURCE, make_figures_data

URL = "/gpo/chiffres?du=2026-01-01&au=2026-06-30"


@pytest.fixture
def data(engine, territory) -> int:
    make_figures_data(engine, territory)
    return territory


def _table(text: str, caption: str) -> str:
    found = re.search(rf"<caption>{re.escape(caption)}</caption>(.*?)</table>", text, re.S)
    assert found, caption
    return found.group(1)


def _cells(row_html: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>",
                                                                                   row_html, re.S)]


def _row(table: str, label: str) -> list[str]:
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = _cells(row)
        if cells and cells[0].startswith(label):
            return cells[1:]
    raise AssertionError(f"no row {label}")


def test_the_admin_reads_french_tables_per_csp_with_totals_and_categories(admin_client, engine, data):
    with engine.begin() as conn:  # 1 234 problems in BEL-RESID: the thousands are written the French way
        conn.execute(sa.text("""
            INSERT INTO problem (source, external_id, category_code, title, geom, sector_id, csp_id, reported_on)
            SELECT :source, 'lot-' || k, 'alcoolisation', 'Lot', ST_PointOnSurface(s.geom), s.id, s.csp_id,
                   DATE '2026-02-02'
            FROM sector s, generate_series(1, 1234) k WHERE s.code = 'BEL-RESID'"""), {"source": SOURCE})
    page = admin_client.get(URL)
    assert page.status_code == 200
    text = page.text
    assert "Chiffres des GPO" in text and "Du 01/01/2026 au 30/06/2026" in html.unescape(text)
    csp = _table(text, "CSP Belfort")
    assert _row(csp, "BEL-CENTRE") == ["4", "4", "3", "4"]
    assert _row(csp, "AGG-EST") == ["1", "1", "0", "1"]
    assert _row(csp, "BEL-RESID") == ["0", "1\u202f234", "0", "1\u202f234"]
    assert _row(csp, "Hors secteur") == ["0", "1", "0", "1"]
    assert _row(csp, "Total CSP Belfort") == ["4", "1\u202f240", "3", "1\u202f240"]
    assert _row(_table(text, "Total de votre périmètre"), "Total") == ["4", "1\u202f240", "3", "1\u202f240"]
    categories = _table(text, "Problèmes par catégorie")
    assert _row(categories, "Rodéos et deux-roues") == ["3", "1", "3"]
    assert _row(categories, "Alcoolisation sur la voie publique") == ["1\u202f234", "0", "1\u202f234"]


def test_the_default_period_is_the_calendar_year_to_date(admin_client, data):
    today = local_today()
    text = html.unescape(admin_client.get("/gpo/chiffres").text)
    assert f"Du 01/01/{today.year} au {today:%d/%m/%Y}" in text
    assert f'value="{dt.date(today.year, 1, 1).isoformat()}"' in text


def test_a_chief_sees_only_his_sector_and_a_mayor_only_his_commune(app, engine, login, data):
    chief = client_as(app, login, *account(engine, "chef.chiffres@psq.test", "chef_secteur", sectors=["AGG-EST"]))
    text = chief.get(URL).text
    csp = _table(text, "CSP Belfort")
    assert _row(csp, "AGG-EST") == ["1", "1", "0", "1"] and "BEL-CENTRE" not in text and "Hors secteur" not in text
    assert _row(_table(text, "Total de votre périmètre"), "Total") == ["1", "1", "0", "1"]
    mayor = client_as(app, login, *account(engine, "maire.chiffres@psq.test", "maire", commune="90010"))
    text = mayor.get(URL).text
    assert _row(_table(text, "CSP Belfort"), "BEL-CENTRE") == ["4", "4", "3", "4"]
    assert "AGG-EST" not in text and "Hors secteur" not in text
    assert _row(_table(text, "Total de votre périmètre"), "Total") == ["4", "4", "3", "4"]


def test_a_partner_is_refused(app, engine, login, data):
    partner = client_as(app, login, *account(engine, "partenaire.chiffres@psq.test", "partenaire"))
    page = partner.get(URL)
    assert page.status_code == 403 and "n'est pas ouverte au rôle partenaire" in html.unescape(page.text)


@pytest.mark.parametrize("query, message", [
    ("du=2026-02-30", "La date « du » = « 2026-02-30 » n'est pas une date valide (format attendu : AAAA-MM-JJ)."),
    ("du=2026-03-01&au=2026-02-01", "La période commence le 01/03/2026, après sa fin le 01/02/2026."),
    ("du=2019-01-01&au=2026-01-01", "La période du 01/01/2019 au 01/01/2026 dépasse 5 ans."),
    ("au=<script>", "La date « au » = « <script> » n'est pas une date valide"),
])
def test_a_bad_period_is_refused_with_400_in_french(admin_client, query, message):
    page = admin_client.get(f"/gpo/chiffres?{query}")
    assert page.status_code == 400 and message in html.unescape(page.text)
    assert "<script>" not in page.text
