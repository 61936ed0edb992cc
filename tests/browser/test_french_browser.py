"""French everywhere (issue 13 item 5): every page of the app, rendered in Chromium, with the drawing toolbar
opened, shows no English interface word; the scale bar is metric only; numbers and areas are written the French
way."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from geo.demo.loader import load_synthetic
from tests.fixtures.accounts import csrf_token_in
from tests.fixtures.browser import PageWatch
from tests.fixtures.routes import routes, sample_gpo, sample_request

#: Words of Leaflet, Leaflet.draw and folium's defaults that must never reach a French user.
ENGLISH = ["Draw a polygon", "Draw a", "Finish", "Cancel", "Delete last point", "Edit layers", "Delete layers",
           "No layers", "Save changes", "Clear all", "Click to", "Release mouse", "Drag handles", "ft", "mi",
           "Zoom in", "Zoom out", "Layers", "Loading", "Error", "Close"]
WORD = {w: re.compile(r"(?<![\wÀ-ÿ])" + re.escape(w) + r"(?![\wÀ-ÿ])") for w in ENGLISH}

# What a user can read: the text, and the titles and placeholders that tooltips show.
READABLE = """() => {
    const parts = [document.body.innerText, document.title];
    for (const el of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
        for (const a of ['title', 'placeholder', 'aria-label']) {
            if (el.getAttribute(a)) parts.push(el.getAttribute(a));
        }
    }
    return parts.join('\\n');
}"""


def english_words(text: str) -> list[str]:
    # "Leaflet" (the attribution) is a name, not a word of the interface.
    return [w for w, pattern in WORD.items() if pattern.search(text.replace("Leaflet", ""))]


def test_every_page_is_in_french_with_the_drawing_tools_open(app, engine, territory, admin_client, admin_account,
                                                               live_server, browser):
    load_synthetic(engine)
    token = csrf_token_in(admin_client.get("/page-absente").text)
    with engine.connect() as conn:
        csp_id = conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()
    square = {"type": "Polygon", "coordinates": [[[6.8540, 47.6386], [6.8551, 47.6386], [6.8551, 47.6394],
                                                  [6.8540, 47.6394], [6.8540, 47.6386]]]}
    created = admin_client.post("/api/zones", data=json.dumps({
        "csp_id": csp_id, "sector_code": "BEL-CENTRE", "geometry": square, "reason": "Parvis de la gare",
        "valid_from": "2026-01-01"}), content_type="application/json", headers={"X-CSRFToken": token})
    assert created.status_code == 201 and created.json["id"] == 1
    sample_gpo(engine, csp_id)  # routes() asks for gpo_id 1
    sample_request(engine)  # and for request_id 1
    pages = sorted({url for endpoint, method, url in routes(app)
                    if method == "GET" and not url.startswith("/api/") and "tuiles" not in url
                    and not url.endswith((".pmtiles", ".pdf", "/rapport"))})  # the base map, the PDF and an audit's
    # report (a download) are data, not pages
    assert len(pages) >= 7, pages
    watch = PageWatch(browser)
    watch.log_in(live_server, *admin_account)
    checked = []
    for url in ["/connexion", *pages]:
        watch.page.goto(live_server + url)
        watch.settle()
        polygon = watch.page.locator(".leaflet-draw-draw-polygon")
        if polygon.count():
            polygon.first.click()  # opens the actions (finish, delete the last point, cancel) and the tooltip
            watch.page.mouse.move(700, 400)
        text = watch.page.evaluate(READABLE)
        assert not english_words(text), (url, english_words(text))
        for scale in watch.page.locator(".leaflet-control-scale-line").all_inner_texts():
            assert re.fullmatch(r"\d+ k?m", scale.strip()), (url, scale)
        checked.append(url)
    assert not watch.errors, watch.errors
    assert any(u.startswith("/secteur/") for u in checked) and any("/zones" in u for u in checked), checked


def test_areas_and_numbers_are_written_the_french_way(admin_client, engine, territory):
    load_synthetic(engine)
    html = admin_client.get("/secteur/CSP%20Belfort/BEL-CENTRE?du=2025-11-16&au=2026-11-15").text
    assert re.search(r"<td class=\"num\">\d{1,3}\u202f\d{3}</td>", html)  # 2 835, with a narrow no-break space
    assert not re.search(r"<td class=\"num\">\d{4,}</td>", html)
    assert "maille" not in html
