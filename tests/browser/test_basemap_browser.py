"""The local base map in a real Chromium: read by range requests from the app, drawn on every map page."""

from __future__ import annotations

import pytest

from geo.accounts.users import create_user
from tests.fixtures.accounts import CHIEF
from tests.fixtures.browser import PageWatch, base_map_canvases

MAYOR = ("maire.test@psq.test", "mot de passe du maire")

PAGES = [
    (CHIEF, "/secteur/CSP%20Belfort/BEL-CENTRE"),
    (CHIEF, "/secteur/CSP%20Belfort/BEL-CENTRE/zones"),
    (CHIEF, "/csp/CSP%20Belfort"),
    (MAYOR, "/commune/90010"),
]


@pytest.fixture
def accounts(engine, demo):
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=("BEL-CENTRE", "BEL-GLACIS"))
    create_user(engine, MAYOR[0], "maire", MAYOR[1], commune="90010")


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_every_map_draws_the_local_base_map_and_its_names(live_server, browser, accounts, who, path):
    watch = PageWatch(browser)
    ranges = []
    watch.page.on("response", lambda r: ranges.append(r.status) if r.url.endswith(".pmtiles") else None)
    watch.log_in(live_server, *who)
    watch.page.goto(live_server + path)
    watch.page.wait_for_load_state("networkidle")
    watch.page.wait_for_timeout(800)  # protomaps-leaflet paints a tile a few ms after its data arrive
    drawn = base_map_canvases(watch.page)
    assert drawn["tiles"] > 0 and drawn["painted"] == drawn["tiles"], drawn
    assert drawn["names_painted"] > 0, drawn  # the commune names, above the overlays
    assert ranges and set(ranges) == {206}, ranges  # range requests, answered in part
    assert watch.errors == []
    assert watch.off_site() == []
