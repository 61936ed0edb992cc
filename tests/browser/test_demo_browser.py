"""The demo as ``psq demo`` builds it on a given day (issue 13 item 2): every sector's default view of that day
shows its planted recurring places in their category and class, read from the map in Chromium against the
planted.json written for those dates.

The day is fixed (2026-12-02, a Wednesday: the data end on Sunday 2026-11-29) and the views say ``au`` the day
before, which is what their default was then; the test gives the same answer whatever day it runs.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote

from pyproj import Transformer

from geo.demo.check import planted_cells
from geo.demo.loader import demo_end, demo_seed, load_synthetic
from geo.problems.categories import categories
from geo.settings import CELL_SIZE_M
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS

# Every feature of the map's recurring-problems layer: its properties and its bounds in lon/lat.
RECURRING = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    const found = [];
    map.eachLayer(layer => {
        const p = layer.feature && layer.feature.properties;
        if (p && p.emerging_category && layer.getBounds) {
            const b = layer.getBounds();
            found.push({category: p.category, trend: p.emerging_category,
                        west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth()});
        }
    });
    return found;
}"""
_TO_WGS = Transformer.from_crs(2154, 4326, always_xy=True)
BUILT_ON = dt.date(2026, 12, 2)


def planted(truth: dict) -> list[tuple[str, str, dict, str]]:
    """(sector, category code, cell, expected class) of every planted cell with an expected class."""
    return [row[1:] for row in planted_cells(truth)]


def test_every_sectors_default_view_shows_its_planted_places_in_their_class(
        engine, territory, admin_account, live_server, browser, tmp_path):
    truth_file = tmp_path / "planted.json"
    load_synthetic(engine, truth_file=truth_file, demo=demo_seed(demo_end(BUILT_ON))[1])  # as psq demo does
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    assert truth["weeks"]["end"] == "2026-11-29"
    labels = {c.code: c.label for c in categories()}
    watch = PageWatch(browser)
    watch.log_in(live_server, *admin_account)
    by_sector: dict[str, list] = {}
    for row in planted(truth):
        by_sector.setdefault(row[0], []).append(row)
    seen = []
    for sector, places in sorted(by_sector.items()):
        watch.page.goto(f"{live_server}/secteur/{quote('CSP Belfort')}/{sector}?au={BUILT_ON - dt.timedelta(days=1)}")
        watch.page.wait_for_load_state("networkidle")
        features = watch.page.evaluate(RECURRING)
        for _, category, cell, expected in places:
            lon, lat = _TO_WGS.transform((cell["i"] + 0.5) * CELL_SIZE_M, (cell["j"] + 0.5) * CELL_SIZE_M)
            got = [f["trend"] for f in features if f["category"] == labels[category]
                   and f["west"] <= lon <= f["east"] and f["south"] <= lat <= f["north"]]
            want = [] if expected == "no pattern" else [f"{expected} hot spot"]
            seen.append((sector, category, got == want))
            assert got == want, (sector, category, cell, got, want)
        if sector == "BEL-CENTRE":
            watch.page.screenshot(path=str(ARTIFACTS / "demo-bel-centre-default-view.png"))
    assert len(seen) == len(planted(truth)) >= 10
    assert not watch.errors, watch.errors
