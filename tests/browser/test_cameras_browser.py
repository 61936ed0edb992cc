"""The mayor of Belfort opens the cameras page in a real headless Chromium and sees his town's wedges.

The map draws the wedges (SVG paths in Leaflet's overlay pane: an existing one solid, a proposed one dashed)
over his town's limits, the table beside it lists his two cameras and not the neighbour's; no JavaScript
error, no request outside 127.0.0.1. The screenshot goes to /tmp/cameras.png (and tests/artifacts/).
"""

from __future__ import annotations

import shutil

from geo.referents.cameras import load_cameras
from tests.fixtures.accounts import account
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS


def test_the_mayor_sees_his_towns_cameras(engine, live_server, browser, territory, tmp_path):
    path = tmp_path / "cameras.csv"
    path.write_text("id,lat,lon,bearing,fov,range,status,owner\n"
                    "BEL-01,47.6375,6.8625,90,60,120,existante,commune\n"
                    "BEL-02,47.6400,6.8560,0,360,80,proposée,commune\n"
                    "OFF-01,47.6630,6.8787,180,90,80,existante,bailleur\n", encoding="utf-8")
    load_cameras(engine, path)
    email, password = account(engine, "maire@psq.test", "maire", commune="90010")
    watch = PageWatch(browser)
    page = watch.page
    watch.log_in(live_server, email, password, landing="/commune/90010")
    page.click("nav.menu summary:text('Prévention situationnelle')")  # the menu's dropdown, as a user opens it
    page.click("nav.menu a[href='/cameras']")
    page.wait_for_url(live_server + "/cameras")
    watch.settle()

    wedges = page.locator(".leaflet-overlay-pane svg path.leaflet-interactive")
    assert wedges.count() >= 2  # his town's outline and the two wedges
    assert page.locator(".leaflet-overlay-pane svg path[stroke='#ea580c'][stroke-dasharray='6 4']").count() == 1
    assert page.locator(".leaflet-overlay-pane svg path[stroke='#1d4ed8']").count() == 1
    assert [t.strip() for t in page.locator("table.cameras td.camera-id").all_inner_texts()] == ["BEL-01", "BEL-02"]
    summary = page.inner_text(".camera-summary")
    assert "2 caméras" in summary and "dont 1 proposée" in summary, summary
    assert "tous azimuts" in page.inner_text("table.cameras")
    assert "OFF-01" not in page.content()

    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/cameras.png", full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy("/tmp/cameras.png", ARTIFACTS / "cameras.png")
    assert watch.errors == [] and watch.off_site() == []
