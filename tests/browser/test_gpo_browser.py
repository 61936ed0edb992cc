"""The GPO cycle in a real headless Chromium, as a sector chief runs it: a problem created from a recurring cell of
his sector map, put on the agenda, a meeting recorded, an action decided and done, the assessment shown and kept.

No request may leave 127.0.0.1 and no JavaScript error may occur. Screenshots go to tests/artifacts/gpo-*.png.
"""

from __future__ import annotations

import datetime as dt
import html

import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.gpo.groups import add_gpo, add_organisation
from geo.settings import local_today
from tests.fixtures.browser import PageWatch
from tests.support import ARTIFACTS

CHIEF = ("chef.gpo@psq.test", "mot de passe du chef")


def _gpo(engine, csp_id: int) -> int:
    landlord = add_organisation(engine, "Territoire Habitat (test)", "bailleur_social")
    police = add_organisation(engine, "Police nationale (test)", "police_nationale")
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=("BEL-CENTRE",), display_name="Cheffe Centre")
    return add_gpo(engine, csp_id=csp_id, name="GPO Belfort Centre", sector_codes=["BEL-CENTRE"], rhythm="mensuel",
                   first_meeting_on=dt.date(2026, 1, 12), members=[landlord, police])


def shot(page, name: str) -> None:
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"gpo-{name}.png"), full_page=True)


def test_a_chief_runs_the_whole_gpo_cycle_in_the_browser(engine, live_server, browser, demo, territory):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    gpo_id = _gpo(engine, territory)
    watch = PageWatch(browser)
    page = watch.page
    watch.log_in(live_server, *CHIEF, landing="/secteur/**")

    # 1. From a recurring cell of the sector map, one click creates the problem, located and categorised.
    cell = page.locator(".leaflet-psqTrends-pane path.leaflet-interactive").first
    cell.wait_for()
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("form.psq-new-problem-form button")
    shot(page, "1-popup")
    page.fill("form.psq-new-problem-form input[name=titre]", "Trafic – parking de la résidence (carte)")
    page.click("form.psq-new-problem-form button")
    page.wait_for_url(f"{live_server}/gpo/{gpo_id}**")
    with engine.connect() as conn:
        problem_id, sector, category = conn.execute(sa.text(
            "SELECT p.id, s.code, p.category_code FROM problem p JOIN sector s ON s.id = p.sector_id "
            "WHERE p.source = 'carte'")).one()
    assert sector == "BEL-CENTRE" and category
    agenda = page.inner_text("table.agenda")
    assert "Trafic – parking de la résidence (carte)" in agenda and "Récurrence" in agenda
    shot(page, "2-agenda")

    # 2. The meeting: present partners, the problem reviewed with its decision.
    page.click("#nouvelle-reunion summary")
    page.check(f"#nouvelle-reunion input[name=problemes][value='{problem_id}']")
    page.fill(f"#nouvelle-reunion input[name='decision-{problem_id}']", "Patrouilles en soirée et contrôle des caves")
    page.fill("#nouvelle-reunion textarea[name=decisions]", "Réunion de décembre : deux actions décidées.")
    page.click("#nouvelle-reunion button[type=submit]")
    page.wait_for_selector("article.meeting")
    assert "Patrouilles en soirée et contrôle des caves" in page.inner_text("article.meeting")

    # 3. The action, for the landlord, then done.
    page.click("#nouvelle-action summary")
    page.select_option("#nouvelle-action select[name=type]", "controle_parties_communes")
    page.select_option("#nouvelle-action select[name=probleme]", str(problem_id))
    page.fill("#nouvelle-action input[name=responsable]", "M. Gardien")
    page.fill("#nouvelle-action input[name=echeance]", (local_today() + dt.timedelta(days=14)).isoformat())
    page.click("#nouvelle-action button[type=submit]")
    page.wait_for_selector("table.actions")
    assert "M. Gardien" in page.inner_text("table.actions")
    page.select_option("table.actions select[name=statut]", "faite")
    page.click("table.actions form button")
    page.wait_for_selector("table.actions")
    assert "Faite" in page.inner_text("table.actions")
    shot(page, "3-actions")

    # 4. The assessment of the problem's place: the three areas, the chart, the reading; kept on the GPO page.
    page.click("text=Évaluer une action")
    page.select_option("select[name=zone]", f"problem:{problem_id}")
    page.fill("input[name=date]", (local_today() - dt.timedelta(days=60)).isoformat())
    page.click("form.assessment-form button")
    page.wait_for_selector("table.assessment-counts")
    watch.settle()
    assert "Zone témoin (C)" in page.inner_text("table.assessment-counts")
    assert page.locator(".leaflet-overlay-pane path").count() >= 3
    reading = page.inner_text("p.reading")
    assert reading.strip()
    shot(page, "4-assessment")
    page.click("text=Enregistrer l'évaluation")
    page.wait_for_selector("#evaluations")
    assert html.unescape(reading.strip()) in page.inner_text("ul.assessments")
    shot(page, "5-gpo")
    assert watch.errors == [] and watch.off_site() == []
