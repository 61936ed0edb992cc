"""Patrol zones in a real headless Chromium: drawn with the mouse (on the sector map and on the zones page), saved, found again after a reload.

Uses Debian's /usr/bin/chromium as tests/browser/test_browser.py does. No request may leave
127.0.0.1 and no JavaScript error may occur (the browser's own line about the 400
answer of a refused zone is the expected refusal, not an error of ours). Screenshots go to
tests/artifacts/zones-*.png.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.demo.loader import load_synthetic
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from layers.hotspot_layers import EMERGING_STYLE
from layers.style import ZONE_COLOUR
from tests.fixtures.browser import INSIDE, PageWatch, base_map_canvases, draw_polygon, pan_to, screen_points
from tests.support import ARTIFACTS, BOUNDARIES, ROOT

CHIEF = ("chef.centre@demo.psq.fr", "demo-psq-belfort")
OUTSIDE = (47.631923, 6.843716)  # inside BEL-RESID, not his


@pytest.fixture
def demo(engine):
    load_communes(engine, "90")
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2000, 1, 1))
    load_synthetic(engine)
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=("BEL-CENTRE", "BEL-GLACIS"))
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()


def screenshot(page, name):
    """A screenshot of the page, a second after the last action (zoom animations end)."""
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / name))


def zone_ids(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM patrol_zone WHERE deleted_at IS NULL ORDER BY id")).scalars().all()


def test_draw_a_zone_with_the_mouse_and_find_it_after_reload(engine, live_server, browser, demo):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch = PageWatch(browser)
    watch.log_in(live_server, *CHIEF, landing="/secteur/**")
    watch.page.goto(live_server + "/secteur/CSP%20Belfort/BEL-CENTRE/zones")
    watch.page.wait_for_selector("a.leaflet-draw-draw-polygon")
    watch.page.wait_for_load_state("networkidle")
    assert "Zones suggérées" in watch.page.inner_text("aside")
    watch.page.fill("#zone-reason", "Rassemblements nocturnes sur la place")
    watch.page.fill("#zone-from", "2026-11-01")
    watch.page.fill("#zone-to", "2027-03-31")
    watch.page.fill("#zone-slots", "ven-sam 20:00-02:00")
    pan_to(watch.page, *INSIDE)
    draw_polygon(watch.page, screen_points(watch.page, *INSIDE))
    message = watch.page.wait_for_selector(".zone-message.ok")
    assert "enregistrée" in message.inner_text()
    screenshot(watch.page, "zones-drawn.png")
    [zone_id] = zone_ids(engine)
    with engine.connect() as conn:
        reason, slots, area = conn.execute(sa.text(
            "SELECT reason, time_slots, ST_Area(geom) FROM patrol_zone WHERE id = :id"), {"id": zone_id}).one()
    assert reason == "Rassemblements nocturnes sur la place"
    assert slots == [{"days": ["ven", "sam"], "start": "20:00", "end": "02:00"}]
    assert 20_000 < area < 40_000

    watch.page.reload()
    watch.page.wait_for_selector(f"path.psq-zone-{zone_id}")
    watch.page.wait_for_load_state("networkidle")
    watch.page.wait_for_timeout(500)  # let the zoom animation of fitBounds end before the screenshot
    entry = watch.page.inner_text(f"#zone-{zone_id}")
    assert "Rassemblements nocturnes sur la place" in entry and "ven-sam 20:00-02:00" in entry
    screenshot(watch.page, "zones-reloaded.png")

    # Outside his sectors: refused with the French sentence, the shape removed, nothing stored.
    watch.page.fill("#zone-reason", "Zone hors de mes secteurs")
    pan_to(watch.page, *OUTSIDE)
    paths_before = watch.page.locator("path.leaflet-interactive").count()
    draw_polygon(watch.page, screen_points(watch.page, *OUTSIDE))
    refused = watch.page.wait_for_selector(".zone-message.refused")
    assert "La zone sort de vos secteurs sur" in refused.inner_text()
    watch.page.wait_for_timeout(300)
    assert watch.page.locator("path.leaflet-interactive").count() == paths_before
    screenshot(watch.page, "zones-refused.png")
    assert zone_ids(engine) == [zone_id]

    watch.page.goto(f"{live_server}/zones/{zone_id}/briefing")
    watch.page.wait_for_selector(f"path.psq-zone-{zone_id}")
    assert "Rassemblements nocturnes sur la place" in watch.page.inner_text(".briefing")
    watch.page.screenshot(path=str(ARTIFACTS / "zones-briefing.png"), full_page=True)

    expected_refusal = "the server responded with a status of 400"
    assert [e for e in watch.errors if expected_refusal not in e] == []
    assert sum(expected_refusal in e for e in watch.errors) <= 1
    assert watch.off_site() == []


def test_chief_sees_recurring_hotspots_and_draws_on_his_sector_map(engine, live_server, browser, demo):
    """The issue's path: log in, see the sector's recurring hotspots, draw a zone on that map, find it again."""
    planted = json.loads((ROOT / "data" / "demo" / "planted.json").read_text(encoding="utf-8"))
    expected = {(p["category_label"], EMERGING_STYLE[p["expected_emerging_class"] + " hot spot"][1].lower())
                for p in planted["places"] if p["sector"] == "BEL-CENTRE" and p["expected_emerging_class"]}
    assert expected  # the demo plants recurring places in this sector
    watch = PageWatch(browser)
    watch.log_in(live_server, *CHIEF, landing="/secteur/**")
    page = "/secteur/CSP%20Belfort/BEL-CENTRE?du=2025-11-16&au=2026-11-15"
    watch.page.goto(live_server + page)
    watch.page.wait_for_selector(".leaflet-psqTrends-pane path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    panel = watch.page.inner_text("table.recurring")
    for category, trend in expected:
        assert f"{category} : {trend}" in panel, (category, trend, panel)

    watch.page.fill("#zone-reason", "Alcoolisation devant la supérette")
    watch.page.fill("#zone-slots", "lun-dim 18:00-23:00")
    pan_to(watch.page, *INSIDE)
    draw_polygon(watch.page, screen_points(watch.page, *INSIDE))
    assert "enregistrée" in watch.page.wait_for_selector(".zone-message.ok").inner_text()
    [zone_id] = zone_ids(engine)
    watch.page.goto(live_server + page)
    watch.page.wait_for_selector(f"path.psq-zone-{zone_id}")
    assert "Alcoolisation devant la supérette" in watch.page.inner_text(f"#zone-{zone_id}")
    screenshot(watch.page, "sector-zone-drawn.png")
    # At zoom 14 over the base map: the zone's thick outline in its own colour, its number on it.
    watch.page.evaluate("""([lat, lon]) => {
        const config = JSON.parse(document.getElementById('zones-config').textContent);
        window[config.map].setView([lat, lon], 14, {animate: false});
    }""", list(INSIDE))
    watch.page.wait_for_load_state("networkidle")
    label = watch.page.wait_for_selector(".leaflet-tooltip.psq-map-label")
    assert label.inner_text() == f"n° {zone_id}" and label.is_visible()
    outline = watch.page.eval_on_selector(f"path.psq-zone-{zone_id}",
                                          "p => [p.getAttribute('stroke'), p.getAttribute('stroke-width')]")
    assert outline == [ZONE_COLOUR, "5"]
    assert base_map_canvases(watch.page)["painted"] > 0
    screenshot(watch.page, "sector-zone-z14.png")
    assert "faits dans le voisinage en 104 semaines" in watch.page.content()
    assert watch.errors == []
    assert watch.off_site() == []


def test_withdrawing_a_zone_asks_first(engine, live_server, browser, demo, admin_client):
    """"Supprimer" asks for confirmation: declined, the zone stays; accepted, it is withdrawn."""
    from tests.fixtures.accounts import csrf_token_in

    token = csrf_token_in(admin_client.get("/page-absente").text)
    square = {"type": "Polygon", "coordinates": [[[6.8540, 47.6386], [6.8551, 47.6386], [6.8551, 47.6394],
                                                  [6.8540, 47.6394], [6.8540, 47.6386]]]}
    created = admin_client.post("/api/zones", data=json.dumps({
        "csp_id": demo, "sector_code": "BEL-CENTRE", "geometry": square, "reason": "Parvis de la gare",
        "valid_from": "2026-01-01"}), content_type="application/json", headers={"X-CSRFToken": token})
    assert created.status_code == 201
    zone = created.json["id"]
    watch = PageWatch(browser)
    watch.log_in(live_server, *CHIEF, landing="/secteur/**")
    watch.page.goto(live_server + "/secteur/CSP%20Belfort/BEL-CENTRE/zones")
    watch.page.wait_for_load_state("networkidle")
    asked = []
    watch.page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    watch.page.click(f"button.zone-delete[data-zone-id='{zone}']")
    watch.page.wait_for_timeout(500)
    assert asked == [f"Retirer la zone n° {zone} ? Elle ne sera plus en vigueur (elle reste dans l'historique)."]
    assert zone_ids(engine) == [zone]
    watch.page.once("dialog", lambda d: d.accept())
    with watch.page.expect_response(lambda r: r.url.endswith(f"/api/zones/{zone}/supprimer")):
        watch.page.click(f"button.zone-delete[data-zone-id='{zone}']")
    assert zone_ids(engine) == []
    assert not watch.errors, watch.errors
