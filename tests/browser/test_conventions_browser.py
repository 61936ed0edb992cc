"""The conventions and security contracts page in a real headless Chromium, as a chief of the Belfort centre opens it.

His towns' conventions only, the one due for tacit renewal within 90 days standing out, the contract of his towns
with its engagements; the map draws the communes; no JavaScript error, no request outside 127.0.0.1. The
screenshot goes to /tmp/conventions.png (and tests/artifacts/).
"""

from __future__ import annotations

import datetime as dt
import shutil

from geo.referents.conventions import load_contracts, load_conventions
from geo.settings import local_today
from tests.fixtures.accounts import account
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS


def _years_ago(years: int, plus_days: int = 0) -> str:
    today = local_today()
    return (today.replace(year=today.year - years, day=min(today.day, 28)) + dt.timedelta(days=plus_days)).isoformat()


def test_a_chief_reads_the_conventions_of_his_towns(engine, live_server, browser, territory, tmp_path):
    conventions = tmp_path / "conventions.csv"
    conventions.write_text("commune,signed_on,duration_years,volunteers\n"
                           f"90010,{_years_ago(3, 30)},3,7\n"  # Belfort: renews itself within 90 days
                           f"90033,{_years_ago(1)},3,4\n", encoding="utf-8")  # Delle: not one of his towns
    contracts = tmp_path / "contracts.csv"
    contracts.write_text("name,communes,signed_on,duration_years,municipal_police,cameras,supervision_centre,"
                         "engagements\n"
                         f"CSI de Belfort,90010 90075,{_years_ago(2)},5,30,120,oui,Centre de supervision urbain\n"
                         f"CSI de Delle,90033,{_years_ago(2)},5,4,10,non,Caméras aux entrées de ville\n",
                         encoding="utf-8")
    load_conventions(engine, conventions)
    load_contracts(engine, contracts)
    email, password = account(engine, "chef.conventions@psq.test", "chef_secteur", sectors=("BEL-CENTRE",))
    watch = PageWatch(browser)
    page = watch.page
    watch.log_in(live_server, email, password)
    page.goto(f"{live_server}/conventions")
    page.wait_for_selector("path.leaflet-interactive")

    rows = page.locator("table.conventions tbody tr")
    assert rows.count() == 1 and "Belfort" in rows.inner_text()
    assert page.locator("table.conventions tr.due-soon").count() == 1
    assert "à reconduire avant le" in rows.inner_text()
    contracts_rows = page.locator("table.contracts tbody tr")
    assert contracts_rows.count() == 1 and "CSI de Belfort" in contracts_rows.inner_text()
    assert "Delle" not in page.inner_text("aside")
    assert page.locator(".leaflet-overlay-pane svg path.leaflet-interactive").count() >= 2
    watch.settle()
    page.screenshot(path="/tmp/conventions.png", full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy("/tmp/conventions.png", ARTIFACTS / "conventions.png")
    assert watch.errors == [] and watch.off_site() == []
