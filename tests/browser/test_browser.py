"""The map page in a real headless Chromium (Debian's, driven by Playwright).

No request may leave 127.0.0.1, no JavaScript error may occur, and the sectors must
be drawn. Screenshots are written to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt

from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS, BOUNDARIES


def test_csp_map_renders_offline_with_its_layers(engine, live_server, browser, admin_account):
    load_communes(engine, "90")
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2024, 1, 1))
    watch = PageWatch(browser)
    watch.log_in(live_server, *admin_account, landing="/csp/**")
    watch.page.goto(live_server + "/")
    watch.page.wait_for_selector("path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch.page.screenshot(path=str(ARTIFACTS / "csp-map.png"))

    assert watch.errors == []
    assert watch.off_site() == []
    # 8 sectors over the communes drawn as background.
    paths = watch.page.locator("path.leaflet-interactive").count()
    assert paths >= 8 + 40
    control = watch.page.locator(".leaflet-control-layers").inner_text()
    assert "Secteurs" in control and "Communes" in control
    # Hovering a sector shows its code and name.
    watch.page.locator(".leaflet-control-layers input").first.uncheck()  # hide communes
    box = watch.page.locator(".map").bounding_box()
    watch.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = watch.page.wait_for_selector(".leaflet-tooltip")
    assert "Secteur" in tooltip.inner_text()
    watch.page.screenshot(path=str(ARTIFACTS / "csp-map-tooltip.png"))
