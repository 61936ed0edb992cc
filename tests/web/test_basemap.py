"""The local base map: the archive served by range requests to logged-in users only, drawn by every map page,
named by its setting, and left out (never a broken page) when missing or unreadable."""

from __future__ import annotations

import html

from pmtiles.tile import deserialize_header

from tests.fixtures.accounts import CHIEF, account, client_as

ARCHIVE = "/fond-de-carte.pmtiles"


def test_a_logged_in_user_reads_the_archive_by_range_requests(admin_client, base_map_archive):
    head = admin_client.get(ARCHIVE, headers={"Range": "bytes=0-126"})
    assert head.status_code == 206
    assert head.headers["Content-Range"] == f"bytes 0-126/{base_map_archive.stat().st_size}"
    assert head.headers["Accept-Ranges"] == "bytes" and head.headers["ETag"]
    assert head.mimetype == "application/vnd.pmtiles" and head.headers["Cache-Control"] == "no-store"
    header = deserialize_header(head.data)
    assert (header["min_zoom"], header["max_zoom"]) == (8, 14)
    tail = admin_client.get(ARCHIVE, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and len(tail.data) == 10


def test_nobody_anonymous_gets_it(client):
    answer = client.get(ARCHIVE, headers={"Range": "bytes=0-126"})
    assert answer.status_code in (302, 401)
    assert b"PMTiles" not in answer.data


def test_every_map_page_draws_it(app, engine, territory, login):
    chief = client_as(app, login, *account(engine, CHIEF[0], "chef_secteur", CHIEF[1],
                                            sectors=["BEL-CENTRE", "BEL-GLACIS"]))
    for page in ("/secteur/CSP%20Belfort/BEL-CENTRE", "/secteur/CSP%20Belfort/BEL-CENTRE/zones",
                 "/csp/CSP%20Belfort"):
        html = chief.get(page).text
        assert "/static/vendor/protomaps-leaflet/protomaps-leaflet.js" in html, page
        assert '"url": "/fond-de-carte.pmtiles"' in html and "commune_labels" in html, page
        assert "Limites : IGN Admin Express (communes), PSQ (secteurs)" in html, page


def test_without_an_archive_the_maps_have_none_and_the_url_says_why(app, engine, territory, login, tmp_path):
    app.config["BASE_MAP"] = str(tmp_path / "absent.pmtiles")
    chief = client_as(app, login, *account(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE"]))
    page = chief.get("/secteur/CSP%20Belfort/BEL-CENTRE")
    assert page.status_code == 200 and "protomapsL" not in page.text
    missing = chief.get(ARCHIVE)
    assert missing.status_code == 404
    assert "Aucun fond de carte n'est installé (réglage BASE_MAP)." in html.unescape(missing.text)


def test_an_unreadable_archive_leaves_the_map_without_a_base_map(app, engine, territory, login, tmp_path):
    broken = tmp_path / "cassé.pmtiles"
    broken.write_bytes(b"not an archive at all" * 10)
    app.config["BASE_MAP"] = str(broken)
    chief = client_as(app, login, *account(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE"]))
    page = chief.get("/secteur/CSP%20Belfort/BEL-CENTRE")
    assert page.status_code == 200 and "protomapsL" not in page.text


def test_a_protomaps_flavour_is_drawn_as_such(app, engine, territory, login):
    app.config["BASE_MAP_STYLE"] = "light"
    chief = client_as(app, login, *account(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE"]))
    assert '"style": "light"' in chief.get("/secteur/CSP%20Belfort/BEL-CENTRE").text
