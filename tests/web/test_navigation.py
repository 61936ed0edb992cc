"""The menu (issue 13 item 6): each role's menu lists the pages the access policy lets it open, every link
answers 200, and a page it may not open is never listed."""

from __future__ import annotations

import re

import pytest

from geo.accounts.users import create_user
from tests.fixtures.accounts import client_as

PASSWORD = "mot de passe de test"
MENU = re.compile(r'<nav class="menu".*?</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)">([^<]+)</a>')


def menu_links(html: str) -> dict[str, str]:
    block = MENU.search(html)
    assert block, "no menu in the page"
    return {url: label for url, label in LINK.findall(block.group(0))}


@pytest.fixture
def users(engine, territory):
    for email, role, scope in (("chef@psq.test", "chef_secteur", {"sectors": ["BEL-CENTRE", "BEL-GLACIS"]}),
                               ("maire@psq.test", "maire", {"commune": "90010"}),
                               ("referent@psq.test", "referent", {}), ("partenaire@psq.test", "partenaire", {})):
        create_user(engine, email, role, PASSWORD, **scope)


@pytest.mark.parametrize("email", ["chef@psq.test", "maire@psq.test", "referent@psq.test", "partenaire@psq.test"])
def test_every_link_of_the_menu_opens(app, login, users, email):
    client = client_as(app, login, email, PASSWORD)
    links = menu_links(client.get("/", follow_redirects=True).text)
    assert links
    for url in links:
        assert client.get(url, follow_redirects=True).status_code == 200, (email, url)  # "/" lands on the home page


def test_each_role_sees_what_it_may_open_and_nothing_else(app, login, users):
    chief = menu_links(client_as(app, login, "chef@psq.test", PASSWORD).get("/", follow_redirects=True).text)
    sectors = {u for u in chief if u.startswith("/secteur/") and not u.endswith("/zones")}
    assert sectors == {"/secteur/CSP%20Belfort/BEL-CENTRE", "/secteur/CSP%20Belfort/BEL-GLACIS"}
    assert {u for u in chief if u.endswith("/zones")} == {f"{u}/zones" for u in sectors}
    assert "/vue-ensemble" in chief and "/csp/CSP%20Belfort" in chief and "/commune/90010" in chief
    assert "/cameras" in chief  # the cameras of his sectors
    mayor = menu_links(client_as(app, login, "maire@psq.test", PASSWORD).get("/commune/90010").text)
    assert set(mayor) == {"/", "/commune/90010", "/gpo", "/gpo/chiffres", "/conventions", "/audits",
                          "/alertes", "/cameras"}  # the GPOs covering his town
    referent = menu_links(client_as(app, login, "referent@psq.test", PASSWORD).get("/", follow_redirects=True).text)
    assert len([u for u in referent if u.startswith("/secteur/")]) == 8  # every sector, no zones to edit
    assert not any(u.endswith("/zones") for u in referent)
    assert len([u for u in referent if u.startswith("/commune/")]) > 90  # every commune of the département
    partner = menu_links(client_as(app, login, "partenaire@psq.test", PASSWORD).get("/", follow_redirects=True).text)
    assert set(partner) == {"/"}  # in no organisation yet: no GPO
