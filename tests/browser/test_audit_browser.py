"""The audit page of a video-protection request in a real headless Chromium, as the référent of Belfort opens it:
the cameras' wedges and the hot cells on the map, then p = 3 new cameras asked and the proposed sites with their
gains. No request may leave 127.0.0.1 and no JavaScript error may occur. Screenshot: /tmp/audit.png."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from geo.accounts.users import UserScope, create_user
from geo.referents.audits import create_request
from geo.settings import local_today
from tests.fixtures.browser import PageWatch
from tests.fixtures.cameras import hot_cameras

REFERENT = ("referent.audit@psq.test", "mot de passe du référent")


def test_a_referent_studies_the_cameras_of_belfort(engine, live_server, browser, demo, tmp_path):
    with engine.begin() as conn:
        rid = conn.execute(sa.text(
            "INSERT INTO referent (name, kind, service, base) VALUES ('Rémi Référent', 'referent', 'DDSP 90', "
            "ST_Transform(ST_SetSRID(ST_MakePoint(6.86, 47.64), 4326), 2154)) RETURNING id")).scalar_one()
        conn.execute(sa.text("INSERT INTO referent_commune (commune_insee, referent_id) VALUES ('90010', :r)"),
                     {"r": rid})
    create_user(engine, REFERENT[0], "referent", REFERENT[1], referent="Rémi Référent", display_name="Rémi Référent")
    hot_cameras(engine, tmp_path / "cameras.csv")
    request_id = create_request(engine, UserScope("admin"), commune="90010", kind="videoprotection_voie_publique",
                                need="Vidéoprotection du centre-ville : rassemblements et rodéos le soir.",
                                site="Centre-ville")

    watch = PageWatch(browser)
    page = watch.page
    watch.log_in(live_server, *REFERENT)
    page.goto(f"{live_server}/audits")
    page.click("text=Vidéoprotection de voie publique >> xpath=ancestor::tr//a")
    page.wait_for_url(f"{live_server}/audits/{request_id}")
    watch.settle()
    assert "Les 3 caméras existantes couvrent" in page.inner_text("p.coverage-figures")
    wedges = page.locator(".leaflet-overlay-pane path").count()
    assert wedges >= 3

    # p = 3 domes of 80 m over the last 30 days (the whole year takes the solver over a minute on the demo).
    today = local_today()
    page.fill("input[name=p]", "3")
    page.fill("input[name=portee]", "80")
    page.evaluate("""([first, last]) => {
        document.querySelector('input[name=du]').value = first;
        document.querySelector('input[name=au]').value = last;
    }""", [(today - dt.timedelta(days=30)).isoformat(), (today - dt.timedelta(days=1)).isoformat()])
    page.click("form.proposal-form button")
    page.wait_for_selector("table.proposed-sites")
    watch.settle()
    rows = page.locator("table.proposed-sites tbody tr")
    assert 1 <= rows.count() <= 3
    assert all("+" in rows.nth(k).inner_text() and "fait" in rows.nth(k).inner_text() for k in range(rows.count()))
    # The existing wedges and the proposed ones (hot cells of the shorter period come on top).
    assert page.locator(".leaflet-overlay-pane path[stroke-dasharray]").count() == rows.count()
    assert page.locator(".leaflet-overlay-pane path").count() >= 3 + rows.count()
    assert "caméra" in page.inner_text("p.proposal-figures")
    page.locator("table.proposed-sites").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/audit.png", full_page=True)

    # The audit file of the same proposal opens from the page.
    page.click("text=Dossier d'audit")
    page.wait_for_selector("table.proposed-sites")
    assert page.locator("img.area-map").count() == 1
    page.screenshot(path="/tmp/audit-file.png", full_page=True)
    assert watch.errors == [] and watch.off_site() == []
