"""Every role logs in through the real form in Chromium and lands on a page of its
scope that renders its map, offline, without a JavaScript error."""

from __future__ import annotations

import pytest

from geo.accounts.users import create_user
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS

PASSWORD = "mot-de-passe-de-test"
ROLES = [
    ("admin", {}, "/csp/"),
    ("chef_secteur", {"sectors": ["BEL-CENTRE"]}, "/secteur/CSP%20Belfort/BEL-CENTRE"),
    ("referent", {}, "/referents"),
    ("maire", {"commune": "90010"}, "/commune/90010"),
    ("partenaire", {}, "/csp/"),
]


@pytest.mark.parametrize("role, scope, landing", ROLES, ids=[r[0] for r in ROLES])
def test_each_role_lands_on_its_page(engine, demo, live_server, browser, role, scope, landing):
    email = f"{role}@test.psq.fr"
    create_user(engine, email, role, PASSWORD, **scope)
    watch = PageWatch(browser)
    watch.log_in(live_server, email, PASSWORD, landing=landing + "**")
    watch.page.wait_for_selector("path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watch.page.screenshot(path=str(ARTIFACTS / f"landing-{role}.png"))
    assert watch.page.locator("path.leaflet-interactive").count() > 5
    assert watch.errors == []
    assert watch.off_site() == []
    watch.page.close()
