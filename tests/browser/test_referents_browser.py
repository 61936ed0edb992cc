"""A référent logs in, in a real headless Chromium, and lands on the coverage map of the référents.

The map draws the commune polygons (SVG paths in Leaflet's overlay pane) and the bases, the table
beside it has his row highlighted; no JavaScript error, no request outside 127.0.0.1. The screenshot
goes to /tmp/referents.png (and tests/artifacts/).
"""

from __future__ import annotations

import re
import shutil

from geo.referents.referents import load_referents
from tests.fixtures.accounts import account
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS


def test_a_referent_lands_on_the_coverage_map(engine, live_server, browser, territory, tmp_path):
    path = tmp_path / "referents.csv"
    path.write_text("name;kind;service;lat;lon;communes\n"
                    "Capitaine Arnaud;referent;DDSP 90 — état-major;47.6386;6.8628;"
                    "90010 90008 90099 90065 90018 90032 90039 90053 90093 90094\n"
                    "Brigadier Colin;correspondant;CSP Belfort — Delle;47.5076;6.9979;"
                    "90033 90009 90049 90007 90015 90036 90068 90083 90089\n"
                    "Major Durand;referent;CSP Belfort — nord;47.7152;6.8150;90035 90041 90052 90055 90071 90078\n",
                    encoding="utf-8")
    load_referents(engine, path)
    email, password = account(engine, "arnaud@psq.test", "referent", referent="Capitaine Arnaud")
    watch = PageWatch(browser)
    page = watch.page
    watch.log_in(live_server, email, password, landing="/referents")

    paths = page.locator(".leaflet-overlay-pane svg path.leaflet-interactive")
    assert paths.count() >= 100  # 101 communes and 3 bases
    rows = page.locator("table.referents tbody tr")
    assert rows.count() == 3
    own = page.locator("table.referents tr.own")
    assert own.count() == 1 and "Capitaine Arnaud" in own.inner_text()
    assert "Communes non couvertes" in page.inner_text("aside")

    # The mouse on Bavilliers (one of his, no base on it) gives its référent, population and distance in French.
    x, y = page.evaluate("""() => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        let found = null;
        map.eachLayer(l => { if (l.feature && l.feature.properties.insee === '90008') { found = l; } });
        const point = map.latLngToContainerPoint(found.getCenter()), box = map.getContainer().getBoundingClientRect();
        return [box.left + point.x, box.top + point.y];
    }""")
    page.mouse.move(x, y)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    text = tooltip.inner_text()
    assert "Bavilliers" in text and "Capitaine Arnaud" in text and "4\u202f726" in text, text
    assert re.search(r"\d+,\d\u00a0km", text), text
    watch.settle()
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/referents.png", full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy("/tmp/referents.png", ARTIFACTS / "referents.png")
    assert watch.errors == [] and watch.off_site() == []
