"""The sector chief's page in a real headless Chromium (Debian's, driven by Playwright).

A chief logs in through the form and opens his sector, which holds the demo's problems
and 100,000 more occurrences: the layers render, the grid cells come from the JSON
endpoint for the view, nothing leaves 127.0.0.1, no JavaScript error occurs, and the
first view stays within the design's weight budget.
"""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.demo.loader import load_synthetic
from tests.fixtures.accounts import CHIEF
from tests.fixtures.browser import PageWatch
from tests.fixtures.sector_page import LAYER_NAMES, PERIOD
from tests.fixtures.territory import plant_occurrences
from tests.support import ARTIFACTS

PAGE = "/secteur/" + quote("CSP Belfort") + "/BEL-CENTRE" + PERIOD
HTML_BUDGET = 300_000
FIRST_VIEW_BUDGET = 1_500_000


def record_bodies(watch: PageWatch) -> dict[str, int]:
    """URL -> body size of every answer of the page's own server (HTML and JSON only)."""
    sizes: dict[str, int] = {}

    def keep(response):
        kind = response.headers.get("content-type", "")
        if response.ok and ("html" in kind or "json" in kind):
            sizes[response.url] = len(response.body())

    watch.page.on("response", keep)
    return sizes


class FrenchPage(PageWatch):
    """A watched page in a browser set to French (date fields then read jj/mm/aaaa, as for our users)."""

    def __init__(self, browser):
        super().__init__(browser)
        self.page.close()
        self.page = browser.new_page(viewport={"width": 1400, "height": 850}, locale="fr-FR")
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))


def test_chief_sector_page_renders_offline_with_its_layers(engine, territory, live_server, browser):
    load_synthetic(engine)
    plant_occurrences(engine, "BEL-CENTRE", 100_000)
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE", "BEL-GLACIS"])
    watch = FrenchPage(browser)
    watch.log_in(live_server, *CHIEF, landing="/secteur/**")
    watch.page.wait_for_load_state("networkidle")  # the landing page (his first sector) loads its own cells
    watch.requests.clear()

    sizes = record_bodies(watch)
    watch.page.goto(live_server + PAGE)
    watch.page.wait_for_selector("path.psq-cell")
    watch.page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch.page.screenshot(path=str(ARTIFACTS / "sector-chief-100000.png"))

    assert watch.errors == []
    assert watch.off_site() == []
    cells_requests = [u for u in watch.requests if "/cellules?" in u]
    assert len(cells_requests) == 1
    cells = watch.page.locator("path.psq-cell").count()
    assert cells > 20
    assert watch.page.locator("#" + watch.page.locator(".folium-map").get_attribute("id")).get_attribute(
        "data-grid-cells") == str(cells)
    # Sector limit, communes and problems are drawn too; problems above the cells.
    with engine.connect() as conn:
        problems = conn.execute(sa.text(
            "SELECT count(*) FROM problem p JOIN sector s ON s.code = 'BEL-CENTRE' "
            "WHERE ST_Intersects(ST_PointOnSurface(p.geom), s.geom)")).scalar()
    assert watch.page.locator(".leaflet-psqProblems-pane path.leaflet-interactive").count() == problems > 0
    assert watch.page.locator("path.leaflet-interactive").count() > cells + 20
    control = watch.page.locator(".leaflet-control-layers").inner_text()
    for name in LAYER_NAMES:
        assert name in control or name == "Agrégats (DBSCAN)", name
    # DBSCAN on 100,000 points takes seconds: the page says so in French instead of drawing it.
    assert "trop pour calculer les agrégats" in watch.page.locator(".notes").inner_text()
    assert watch.page.locator(".psq-legend").count() >= 3
    html = sum(n for u, n in sizes.items() if "/secteur/" in u)
    first_view = html + sum(n for u, n in sizes.items() if "/cellules?" in u)
    print(f"sector page: {html} bytes of HTML, {first_view} bytes with the cells of the first view")
    assert 0 < html < HTML_BUDGET
    assert first_view < FIRST_VIEW_BUDGET


def test_demo_sector_and_moving_the_map(engine, territory, live_server, browser):
    load_synthetic(engine)
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE", "BEL-GLACIS"])
    watch = FrenchPage(browser)
    watch.log_in(live_server, *CHIEF, landing="/secteur/**")
    watch.page.goto(live_server + PAGE)
    watch.page.wait_for_selector("path.psq-cell")
    watch.page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch.page.screenshot(path=str(ARTIFACTS / "sector-chief.png"))
    control = watch.page.locator(".leaflet-control-layers").inner_text()
    assert all(name in control for name in LAYER_NAMES), control
    assert watch.page.locator(".notes").count() == 0
    before = watch.page.locator("path.psq-cell").count()
    with watch.page.expect_response(lambda r: "/cellules?" in r.url):
        watch.page.locator(".leaflet-control-zoom-in").click()
    watch.page.wait_for_load_state("networkidle")
    assert 0 < watch.page.locator("path.psq-cell").count() <= before
    # A problem's popup gives its title, status in French, date and partner.
    watch.page.locator(".leaflet-control-layers label", has_text="Problèmes récurrents").locator("input").uncheck()
    watch.page.locator(".leaflet-psqProblems-pane path.leaflet-interactive").first.click(force=True)
    popup = watch.page.wait_for_selector(".leaflet-popup-content").inner_text()
    watch.page.wait_for_timeout(400)  # the popup fades in
    assert "Statut" in popup and "Signalé le" in popup and "Partenaire" in popup
    watch.page.screenshot(path=str(ARTIFACTS / "sector-chief-popup.png"))
    # Hiding the layer and showing it again reloads it (it is not fetched while hidden).
    label = watch.page.locator(".leaflet-control-layers label", has_text="Faits (carreaux de 200 m)")
    label.locator("input").uncheck()
    assert watch.page.locator("path.psq-cell").count() == 0
    with watch.page.expect_response(lambda r: "/cellules?" in r.url):
        label.locator("input").check()
    watch.page.wait_for_selector("path.psq-cell")
    # Each occurrence from the vector-tile endpoint, drawn on canvas tiles once zoomed in close.
    watch.page.locator(".leaflet-control-layers label", has_text="Faits un par un").locator("input").check()
    with watch.page.expect_response(lambda r: ".mvt?" in r.url and r.ok):
        watch.page.evaluate("""() => {
            const name = Object.keys(window).find(k => k.startsWith('map_'));
            window[name].setView([47.638999, 6.854562], 16, {animate: false});
        }""")
    watch.page.wait_for_load_state("networkidle")
    assert watch.page.locator("canvas.leaflet-tile").count() > 0
    watch.page.screenshot(path=str(ARTIFACTS / "sector-chief-tiles.png"))
    assert watch.errors == [] and watch.off_site() == []
