"""The mayor's commune page and the CSP overview in a real headless Chromium.

The mayor logs in through the form and lands on his commune; no request may leave
127.0.0.1 and no JavaScript error may occur. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt

import pytest

from geo.accounts.users import create_user
from geo.demo.loader import load_synthetic
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS, BOUNDARIES

MAYOR = ("maire.belfort@demo.psq.fr", "demo-psq-belfort")
PERIOD = "du=2025-11-01&au=2026-10-31"


@pytest.fixture
def belfort(engine):
    load_communes(engine, "90")
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2000, 1, 1))
    load_synthetic(engine)
    create_user(engine, MAYOR[0], "maire", MAYOR[1], commune="90010", display_name="Maire de Belfort")


def test_mayor_lands_on_his_commune_and_nowhere_else(live_server, browser, belfort):
    watch = PageWatch(browser)
    watch.log_in(live_server, *MAYOR)
    watch.page.wait_for_url(live_server + "/commune/90010")
    watch.page.goto(f"{live_server}/commune/90010?{PERIOD}")
    watch.page.wait_for_selector("path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch.page.screenshot(path=str(ARTIFACTS / "mayor.png"))

    assert watch.errors == []
    assert watch.off_site() == []
    # The commune outline and at least a few aggregated cells are drawn.
    assert watch.page.locator("path.leaflet-interactive").count() > 5
    assert watch.page.locator("svg.sparkline").count() >= 1
    assert "Problèmes suivis par le GPO" in watch.page.inner_text("aside")
    # The page says what the figures are: sums of the months of at least 3 occurrences.
    assert ("Un carreau n'apparaît que pour les mois où il compte au moins 3 faits ; le chiffre d'un carreau sur la "
            "période est la somme de ces mois publiés") in " ".join(watch.page.inner_text("aside").split())
    assert watch.page.locator("li.trend-all svg.sparkline rect").count() == 12

    # The period form offers whole months only; choosing January to June 2026 reloads with months.
    assert watch.page.get_attribute("input#du", "type") == "month"
    assert watch.page.get_attribute("input#au", "type") == "month"
    watch.page.fill("input#du", "2026-01")
    watch.page.fill("input#au", "2026-06")
    watch.page.click(".dateform button[type=submit]")
    watch.page.wait_for_url(live_server + "/commune/90010?du=2026-01&au=2026-06")
    watch.page.wait_for_selector("path.leaflet-interactive")
    assert "de janv. 2026 à juin 2026" in watch.page.inner_text("aside")
    assert watch.errors == []
    # A period to the day, typed in the address bar, is refused with one sentence (Chromium
    # logs the 400 itself as a console error, nothing else may appear).
    response = watch.page.goto(f"{live_server}/commune/90010?du=2026-01-02&au=2026-06-30")
    assert response.status == 400
    assert "La période se compte en mois entiers" in watch.page.inner_text("main")
    assert [e for e in watch.errors if "status of 400" not in e] == []

    response = watch.page.goto(live_server + "/commune/90011")
    assert response.status == 403
    assert "Accès refusé" in watch.page.inner_text("main")
    assert watch.off_site() == []


def test_admin_sees_the_overview(live_server, browser, belfort, admin_account):
    watch = PageWatch(browser)
    watch.log_in(live_server, *admin_account)
    watch.page.wait_for_url(live_server + "/csp/**")
    watch.page.goto(f"{live_server}/vue-ensemble?{PERIOD}")
    watch.page.wait_for_selector("path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch.page.screenshot(path=str(ARTIFACTS / "overview.png"))

    assert watch.errors == []
    assert watch.off_site() == []
    assert watch.page.locator("table.rates tbody tr").count() == 8
    assert watch.page.locator("path.leaflet-interactive").count() >= 8
    assert "Faits pour 1 000 habitants" in watch.page.inner_text(".map-legend")
    # The same sectors coloured by their 12-month trend, with its legend.
    watch.page.locator(".leaflet-control-layers label", has_text="Faits pour 1 000 habitants").locator("input").uncheck()
    watch.page.locator(".leaflet-control-layers label", has_text="Tendance sur 12 mois").locator("input").check()
    legend = watch.page.wait_for_selector(".psq-legend:has-text('Tendance des 12 derniers mois')")
    assert "en hausse" in legend.inner_text() and "en baisse" in legend.inner_text()
    watch.page.wait_for_timeout(300)
    watch.page.screenshot(path=str(ARTIFACTS / "overview-trend.png"))
    assert watch.errors == []
