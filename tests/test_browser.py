"""The map page in a real headless Chromium (Debian's, driven by Playwright).

No request may leave 127.0.0.1, no JavaScript error may occur, and the sectors must
be drawn. Screenshots are written to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from tests.support import ARTIFACTS, BOUNDARIES

CHROMIUM = "/usr/bin/chromium"
# --force-gpu-mem-available-mb: without a GPU, Chromium's default tile memory is too small
# for a full-window map; tiles past the budget are left unpainted (grey bands, blank text)
# in screenshots of the larger pages.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--force-gpu-mem-available-mb=2048"]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """A page that records console errors and every request it makes."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1400, "height": 850})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def log_in(self, server: str, email: str, password: str, landing: str | None = None) -> None:
        """Log in through the form; with ``landing`` (a glob such as ``/secteur/**``), wait to land there."""
        self.page.goto(server + "/connexion")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("input[type=submit]")
        if landing:
            self.page.wait_for_url(server + landing)

    def off_site(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("http://127.0.0.1:", "data:", "about:"))]


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
