"""Hostile text in every field a user can write, rendered in a real headless Chromium: it stays text.

Stored through the paths users take: a patrol zone's reason drawn and then changed
on the zones page (POST /api/zones and POST /api/zones/<id>, with the CSRF token, by
web/static/js/zones.js); a problem's title, description and partner through
``psq load problems``'s loader; a sector's code and name through the sector loader;
a commune's name (imported data) and the users' display names in the database.
Then, as an admin and as the chief of the sector, every page that shows them (zones
page, sector page, briefing, CSP page, overview, the commune's page) is opened, and
every tooltip and popup of its map is opened too, by the mouse for the zone and the
problem, by Leaflet's own calls for all the others (their content is set as
innerHTML when they open).

Nothing may run (``window.__xss`` stays undefined, no dialog opens), no console error
may appear (a script or handler blocked by the Content-Security-Policy is one), the raw
HTML may hold no script tag without the nonce and no markup from the data, and the text
must show as written. The last test injects scripts into a real page, in the browser:
without the nonce they are blocked, with it they run.

Uses Debian's /usr/bin/chromium as tests/browser/test_browser.py does; screenshots go to
tests/artifacts/hostile-*.png.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.demo.loader import SECTORS_FILE, SECTORS_VALID_FROM, load_synthetic
from geo.ingest.communes import load_communes
from geo.ingest.problems import load_problems
from geo.ingest.sectors import load_sectors
from tests.fixtures.browser import INSIDE, PageWatch, draw_polygon, pan_to, screen_points
from tests.fixtures.csp import SCRIPT, assert_scripts_carry_the_nonce, assert_strong, nonce_of
from tests.support import ARTIFACTS

#: Each payload tries another way out: of the HTML (a script, an attribute handler), of a
#: JavaScript template literal (``${}``, a backtick, a backslash), of a string (quotes,
#: U+2028), of a Jinja template ({{ }}).
PAYLOAD = ('</script><script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
           "${window.__xss=3}` \\` \u2028 ' \" {{7*7}}")
REASON_DRAWN = "Motif dessiné " + PAYLOAD
REASON = "Motif modifié </script><script>alert(2)</script> " + PAYLOAD  # the request
TITLE = "Titre " + PAYLOAD
DESCRIPTION = "Description " + PAYLOAD
PARTNER = "Partenaire " + PAYLOAD
SECTOR_NAME = "Centre " + PAYLOAD
# A code goes into URLs: no slash; still quotes, markup and a template expression.
SECTOR_CODE = "AGG-EST<img src=x onerror=\"window.__xss=5\">'`${window.__xss=6}`"
COMMUNE_NAME = "Belfort " + PAYLOAD
ADMIN = ("admin.hostile@psq.test", "mot de passe de l'admin", "Admin " + PAYLOAD)
CHIEF = ("chef.hostile@psq.test", "mot de passe du chef", "Chef " + PAYLOAD)
SPOT = (6.8628, 47.6376)  # lon, lat: the hostile problem, in BEL-CENTRE and Belfort (90010)

PERIOD = "du=2025-11-16&au=2026-11-15"  # the demo's synthetic weeks
MONTHS = "du=2025-11&au=2026-10"
SECTOR = "/secteur/" + quote("CSP Belfort") + "/BEL-CENTRE"

#: Raw markup of the payloads: never in a page, anywhere (escaped, it reads &lt;img...).
RAW_MARKUP = ("<script>window.__xss", "<script>alert(2)", "<img src=x")

OPEN_EVERY_OVERLAY = """() => {
    // Every tooltip and popup of the map, opened as Leaflet opens them on hover or click
    // (for a GeoJSON layer: once per feature); returns their textContent.
    const map = Object.keys(window).filter(k => k.startsWith("map_")).map(k => window[k])
        .find(v => v instanceof L.Map);
    const layers = [];
    map.eachLayer(layer => layers.push(layer));
    const texts = [];
    for (const layer of layers) {
        for (const kind of ["Tooltip", "Popup"]) {
            const overlay = layer["_" + kind.toLowerCase()];
            if (!overlay) { continue; }
            overlay.options.autoPan = false;
            const parts = [];
            if (layer.eachLayer) { layer.eachLayer(part => parts.push(part)); } else { parts.push(layer); }
            for (const part of parts) {
                if (!part._map) { continue; }
                overlay._source = part;
                layer["open" + kind](part.getLatLng ? part.getLatLng() : part.getCenter());
                const element = overlay.getElement();
                texts.push(element ? element.textContent : "");
                layer["close" + kind]();
            }
        }
    }
    return texts;
}"""


def hostile_sectors(tmp_path):
    """The demo's sector file with BEL-CENTRE renamed and AGG-EST recoded."""
    data = json.loads(SECTORS_FILE.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["code"] == "BEL-CENTRE":
            feature["properties"]["name"] = SECTOR_NAME
        if feature["properties"]["code"] == "AGG-EST":
            feature["properties"]["code"] = SECTOR_CODE
    path = tmp_path / "secteurs-hostiles.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def hostile(engine, tmp_path):
    """The demo territory and data, with hostile text in every field a user (or a file) can fill."""
    load_communes(engine, "90")
    load_sectors(engine, hostile_sectors(tmp_path), valid_from=SECTORS_VALID_FROM)
    load_synthetic(engine)
    problems = tmp_path / "problemes-hostiles.geojson"
    problems.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": list(SPOT)},
        "properties": {"id": "hostile-1", "category": "stupefiants", "title": TITLE, "description": DESCRIPTION,
                       "partner": PARTNER, "status": "priorise", "reported_on": "2026-03-01"}}]}), encoding="utf-8")
    assert load_problems(engine, problems).added == 1
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE commune SET name = :name WHERE insee = '90010'"), {"name": COMMUNE_NAME})
        problem_id = conn.execute(sa.text("SELECT id FROM problem WHERE external_id = 'hostile-1'")).scalar_one()
        assert conn.execute(sa.text("SELECT count(*) FROM sector WHERE code = :c"), {"c": SECTOR_CODE}).scalar() == 1
    create_user(engine, ADMIN[0], "admin", ADMIN[1], display_name=ADMIN[2])
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=("BEL-CENTRE", "BEL-GLACIS"),
                display_name=CHIEF[2])
    return problem_id


class HostileWatch(PageWatch):
    """A watched page that also records dialogs (alert, confirm) and checks each page it opens."""

    def __init__(self, browser):
        super().__init__(browser)
        self.dialogs: list[str] = []

        def dismiss(dialog):
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", dismiss)

    def open(self, url: str) -> str:
        """Go to ``url``, wait for its map, check its raw HTML and headers; returns the HTML."""
        response = self.page.goto(url)
        assert response.status == 200, (url, response.status)
        try:
            self.page.wait_for_selector(".folium-map path.leaflet-interactive", state="attached", timeout=15_000)
        except Exception as error:  # the map script broke: say what the console saw
            raise AssertionError(f"{url}: no map drawn; console: {self.errors}") from error
        self.page.wait_for_load_state("networkidle")
        raw = response.text()
        policy = {p.split()[0]: p.split()[1:] for p in response.headers["content-security-policy"].split(";")
                  if p.strip()}
        assert_strong(policy)
        assert_scripts_carry_the_nonce(raw, nonce_of(policy), url)
        for marker in RAW_MARKUP:
            assert marker not in raw, (url, marker)
        for attributes, body in SCRIPT.findall(raw):
            assert "<img" not in body, (url, attributes)  # an injected <script> lacks the nonce: checked above
            if "application/json" not in attributes:  # code, not a JSON data block: not even a raw ${ of the data
                assert "${window.__xss" not in body, (url, attributes)
        self.assert_nothing_ran(url)
        return raw

    def assert_nothing_ran(self, where: str) -> None:
        assert self.page.evaluate("typeof window.__xss") == "undefined", (where, self.page.evaluate("window.__xss"))
        assert self.dialogs == [], (where, self.dialogs)

    def text(self, selector: str = "body") -> str:
        return self.page.locator(selector).first.text_content()

    def overlays(self) -> list[str]:
        texts = self.page.evaluate(OPEN_EVERY_OVERLAY)
        self.assert_nothing_ran(self.page.url)
        print(f"{self.page.url}: {len(texts)} tooltips and popups opened")
        return texts


def shown_in(texts: list[str], expected: str) -> bool:
    return any(expected in t for t in texts)


def hide_layer(watch, name: str) -> None:
    watch.page.locator(".leaflet-control-layers label", has_text=name).locator("input").uncheck()


def mouse_point(page, lat: float, lon: float) -> tuple[float, float]:
    """Page pixels of a point of the map."""
    return tuple(page.evaluate("""([lat, lon]) => {
        const map = Object.keys(window).filter(k => k.startsWith("map_")).map(k => window[k])
            .find(v => v instanceof L.Map);
        map.setView([lat, lon], 17, {animate: false});
        const box = map.getContainer().getBoundingClientRect();
        const p = map.latLngToContainerPoint([lat, lon]);
        return [box.left + p.x, box.top + p.y];
    }""", [lat, lon]))


def zone_ids(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM patrol_zone WHERE deleted_at IS NULL ORDER BY id")).scalars().all()


@pytest.mark.parametrize("who", [ADMIN, CHIEF], ids=["admin", "chef_secteur"])
def test_hostile_text_stays_text_on_every_page(engine, hostile, live_server, browser, who):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    role = "admin" if who is ADMIN else "chef"
    watch = HostileWatch(browser)
    watch.log_in(live_server, who[0], who[1], landing="/csp/**" if who is ADMIN else "/secteur/**")
    watch.page.wait_for_load_state("networkidle")
    watch.assert_nothing_ran("landing page")

    # 1. The zones page: the form lists the hostile problem; a zone is drawn with a hostile
    #    reason (POST /api/zones), then its reason is changed (POST /api/zones/<id>).
    watch.open(live_server + SECTOR + "/zones")
    assert TITLE in watch.text("#zone-form")
    assert who[2] in watch.text(".topbar")
    watch.page.fill("#zone-reason", REASON_DRAWN)
    watch.page.check(f"input[name=problem_ids][value='{hostile}']")
    pan_to(watch.page, *INSIDE)
    draw_polygon(watch.page, screen_points(watch.page, *INSIDE))
    assert "enregistrée" in watch.page.wait_for_selector(".zone-message.ok").text_content()
    [zone_id] = zone_ids(engine)
    assert REASON_DRAWN in watch.text(f"#zone-{zone_id}")  # written by zones.js (textContent)
    watch.open(live_server + SECTOR + "/zones")  # the server's list holds the zone's buttons
    assert REASON_DRAWN in watch.text(f"#zone-{zone_id}")
    assert shown_in(watch.overlays(), REASON_DRAWN)
    watch.page.fill("#zone-reason", REASON)
    watch.page.check(f"input[name=problem_ids][value='{hostile}']")  # the form's fields replace the zone's
    watch.page.click(f".zone-apply[data-zone-id='{zone_id}']")
    watch.page.wait_for_selector(".zone-message.ok:has-text('mise à jour')")
    assert REASON in watch.text(f"#zone-{zone_id}")
    watch.assert_nothing_ran("after the zone was saved")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT reason FROM patrol_zone WHERE id = :id"), {"id": zone_id}).scalar() == REASON

    # 2. The zones page again, from the server: list, tooltips of the zone, sectors and communes.
    watch.open(live_server + SECTOR + "/zones")
    assert REASON in watch.text(f"#zone-{zone_id}")
    texts = watch.overlays()
    for expected in (REASON, SECTOR_NAME, COMMUNE_NAME):
        assert shown_in(texts, expected), (expected, texts[:5])
    if who is ADMIN:  # an admin's map shows every sector of the CSP
        assert shown_in(texts, SECTOR_CODE)

    # 3. The sector page: the zone's popup and the problem's popup, each on a click.
    watch.open(f"{live_server}{SECTOR}?{PERIOD}")
    assert SECTOR_NAME in watch.text("h1")
    assert TITLE in watch.text("ul.problems") and PARTNER in watch.text("ul.problems")
    assert REASON in watch.text(f"#zone-{zone_id}")
    for layer in ("Faits (carreaux de 200 m)", "Problèmes récurrents"):
        hide_layer(watch, layer)  # they lie above the zone
    watch.page.mouse.click(*mouse_point(watch.page, INSIDE[0], INSIDE[1]))
    zone_popup = watch.page.wait_for_selector(".leaflet-popup-content:has-text('Motif modifié')")
    assert REASON in zone_popup.text_content()
    assert "</script><script>alert(2)</script>" in zone_popup.text_content()
    watch.page.wait_for_timeout(400)  # the popup fades in
    watch.page.screenshot(path=str(ARTIFACTS / f"hostile-{role}-zone-popup.png"))
    watch.page.mouse.click(*mouse_point(watch.page, SPOT[1], SPOT[0]))
    popup = watch.page.wait_for_selector(".leaflet-popup-content:has-text('Titre')")
    assert TITLE in popup.text_content() and PARTNER in popup.text_content()
    watch.page.wait_for_timeout(400)  # the popup fades in
    watch.page.screenshot(path=str(ARTIFACTS / f"hostile-{role}-problem-popup.png"))
    watch.assert_nothing_ran("after the hover and the click")
    texts = watch.overlays()
    for expected in (REASON, TITLE, PARTNER, SECTOR_NAME, COMMUNE_NAME):
        assert shown_in(texts, expected), expected

    # 4. The briefing sheet of the zone.
    watch.open(f"{live_server}/zones/{zone_id}/briefing")
    assert REASON in watch.text(".briefing-reason")
    assert TITLE in watch.text(".briefing") and who[2] in watch.text(".briefing .note")  # its author
    assert shown_in(watch.overlays(), COMMUNE_NAME)

    # 5. The CSP page: sector codes and names in the table and on the map.
    watch.open(live_server + "/csp/" + quote("CSP Belfort"))
    panel = watch.text("aside")
    assert SECTOR_NAME in panel and SECTOR_CODE in panel and COMMUNE_NAME in panel
    texts = watch.overlays()
    for expected in (SECTOR_NAME, SECTOR_CODE, COMMUNE_NAME):
        assert shown_in(texts, expected), expected

    # 6. The overview: the table of rates and the choropleth's tooltips.
    watch.open(f"{live_server}/vue-ensemble?{PERIOD}")
    assert SECTOR_NAME in watch.text("table.rates") and SECTOR_CODE in watch.text("table.rates")
    texts = watch.overlays()
    for expected in (SECTOR_NAME, SECTOR_CODE, COMMUNE_NAME):
        assert shown_in(texts, expected), expected

    if who is ADMIN:  # 6b. The sector whose code is hostile (its URL, its panel, its map's layers).
        watch.open(f"{live_server}/secteur/{quote('CSP Belfort')}/{quote(SECTOR_CODE, safe='')}?{PERIOD}")
        assert SECTOR_CODE in watch.text(".crumbs")
        assert shown_in(watch.overlays(), SECTOR_CODE)

    # 7. The commune's page (the mayor's): its name, the problems table, the commune's tooltip.
    watch.open(f"{live_server}/commune/90010?{MONTHS}")
    assert COMMUNE_NAME in watch.text("h1")
    problems = watch.text("table.problems")
    assert TITLE in problems and PARTNER in problems and DESCRIPTION not in problems
    assert shown_in(watch.overlays(), COMMUNE_NAME)
    watch.page.screenshot(path=str(ARTIFACTS / f"hostile-{role}-commune.png"))

    watch.assert_nothing_ran("the end")
    assert watch.errors == []
    assert watch.off_site() == []
    # The description is stored as written (shown on no page: the mayor's page leaves it out).
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT description FROM problem WHERE id = :id"),
                            {"id": hostile}).scalar() == DESCRIPTION
    watch.page.close()


def test_a_script_without_the_nonce_does_not_run(engine, live_server, browser, admin_account):
    """Scripts slipped into a real page (as a forgotten escape would let them in) are blocked by the policy.

    The page's own map script, with the nonce, still runs; an injected one with the
    right nonce runs too (so the injection itself works and the test can fail).
    """
    load_communes(engine, "90")
    load_sectors(engine, SECTORS_FILE, valid_from=SECTORS_VALID_FROM)
    watch = HostileWatch(browser)
    watch.log_in(live_server, *admin_account, landing="/csp/**")
    seen = {}

    def inject(route):
        response = route.fetch()
        header = response.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", header).group(1)
        seen["header"] = header
        body = response.text().replace("</body>", (
            '<script>window.__xss = "inline without nonce";</script>'
            '<script nonce="a-guessed-nonce-value-0123456789">window.__xss = "wrong nonce";</script>'
            '<img src="/static/favicon.svg" onload="window.__xss = \'handler\'" alt="">'
            f'<script nonce="{nonce}">window.__control = "with the nonce";</script></body>'))
        route.fulfill(response=response, body=body)

    watch.page.route("**/csp/**", inject)
    watch.page.goto(live_server + "/csp/" + quote("CSP Belfort"))
    watch.page.wait_for_selector(".folium-map path.leaflet-interactive")  # the page's map script ran
    watch.page.wait_for_load_state("networkidle")
    assert watch.page.evaluate("window.__control") == "with the nonce"
    assert watch.page.evaluate("typeof window.__xss") == "undefined"
    blocked = [e for e in watch.errors if "Content Security Policy" in e]
    assert sum("inline script" in e for e in blocked) == 2, watch.errors
    assert sum("inline event handler" in e for e in blocked) == 1, watch.errors
    assert len(blocked) == len(watch.errors) == 3, watch.errors
    # What the browser enforced.
    directives = dict(p.strip().split(" ", 1) for p in seen["header"].split(";") if p.strip())
    assert directives["script-src"].startswith("'self' 'nonce-") and "unsafe" not in directives["script-src"]
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["connect-src"] == "'self'"


def test_template_syntax_in_data_never_runs_on_the_server(app, engine, admin_client, tmp_path):
    """branca compiles rendered map output again as Jinja: data holding ``{{ }}`` must stay text.

    Before layers/escaping.py, a problem title ``{{ cycler.__init__.__globals__.os... }}``
    ran on the server when any map showing it rendered.
    """
    load_communes(engine, "90")
    load_sectors(engine, SECTORS_FILE, valid_from=SECTORS_VALID_FROM)
    title = "Titre {{ 'SSTI-' ~ (6 * 7) }} {% for i in range(2) %}boucle{% endfor %} {# commentaire #}"
    problems = tmp_path / "problemes.geojson"
    problems.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": list(SPOT)},
        "properties": {"id": "ssti", "category": "stupefiants", "title": title, "partner": "{{ config }}",
                       "reported_on": "2026-03-01"}}]}), encoding="utf-8")
    load_problems(engine, problems)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sector SET name = :n WHERE code = 'BEL-CENTRE'"), {"n": "Centre {{ 7 * 7 }}"})
    for url in (f"{SECTOR}?{PERIOD}", "/csp/" + quote("CSP Belfort"), f"/vue-ensemble?{PERIOD}"):
        page = admin_client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        assert "SSTI-42" not in page.text and "boucleboucle" not in page.text and "Centre 49" not in page.text, url
        assert "SECRET_KEY" not in page.text, url
    # The texts are there, escaped for innerHTML (and for the JSON of the script: & is \u0026).
    assert "&#123;&#123; &#x27;SSTI-&#x27; ~ (6 * 7) &#125;&#125;".replace("&", "\\u0026").replace(
        "'", "\\u0027") in admin_client.get(f"{SECTOR}?{PERIOD}").text
