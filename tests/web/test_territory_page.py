"""The CSP map page through Flask's test client."""

from __future__ import annotations

import re

import pytest

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.fixture
def client(admin_client):
    """Every page needs a login: these tests see them as an admin (tests/web/test_auth.py checks the others)."""
    return admin_client


def test_empty_database_says_what_to_do(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "Aucune donnée chargée" in page.text
    assert "psq demo" in page.text


def test_csp_page_shows_every_sector_with_local_assets_only(client, belfort):
    home = client.get("/")
    assert home.status_code == 302
    page = client.get(home.headers["Location"])
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fr">' in html
    for code in ("BEL-CENTRE", "BEL-GLACIS", "BEL-MIOTTE", "BEL-RESID", "AGG-NORD", "AGG-SUD", "AGG-EST", "AGG-OUEST"):
        assert code in html
    assert "Secteurs en vigueur le" in html
    assert "8 secteurs de proximité" in html
    assets = ASSET.findall(html)
    assert assets, "the page loads no asset at all"
    for url in assets:
        assert not url.startswith(("http:", "https:", "//")), url
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html.replace(
        "https://leafletjs.com", "")
    assert len(html) < 300_000


def test_sectors_before_they_existed(client, belfort):
    page = client.get("/csp/CSP Belfort?date=2023-06-01")
    assert page.status_code == 200
    assert "Aucun secteur en vigueur à cette date." in page.text


def test_bad_date_is_refused_in_french(client, belfort):
    page = client.get("/csp/CSP Belfort?date=2024-02-30")
    assert page.status_code == 400
    assert "La date « 2024-02-30 » n&#39;est pas une date valide (format attendu : AAAA-MM-JJ)." in page.text


def test_unknown_csp_is_404_in_french(client, belfort):
    page = client.get("/csp/CSP Nulle-Part")
    assert page.status_code == 404
    assert "Aucune CSP nommée « CSP Nulle-Part »." in page.text
