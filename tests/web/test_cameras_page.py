"""The cameras page (issue 16 item 6): a mayor sees his town's cameras, a chief those of his sectors, admin all;
a partner is refused; a malformed or foreign commune is refused in French; ids from files are escaped."""

from __future__ import annotations

import re
from html import unescape

import pytest

from geo.referents.cameras import load_cameras
from tests.fixtures.accounts import account, client_as

HEADER = "id,lat,lon,bearing,fov,range,status,owner\n"
HOSTILE = "<script>alert(1)</script>"
BELFORT = "CAM-BELFORT"  # Belfort's centre, sector BEL-CENTRE
DELLE = "CAM-DELLE"  # Delle, in no sector of the CSP
OFFEMONT = "CAM-OFFEMONT"
ROW = re.compile(r'<td class="camera-id">(.*?)</td>', re.S)


def load(engine, tmp_path, *lines: str) -> None:
    path = tmp_path / "cameras.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    load_cameras(engine, path)


@pytest.fixture
def cameras(engine, territory, tmp_path):
    load(engine, tmp_path, f"{BELFORT},47.6375,6.8625,90,60,50,existante,commune\n",
         f"{DELLE},47.5076,6.9979,0,360,40,proposee,commune\n",
         f"{OFFEMONT},47.6630,6.8787,180,90,80,existante,bailleur\n")


def ids(html: str) -> list[str]:
    return [i.strip() for i in ROW.findall(html)]


def message(html: str) -> str:
    """The refusal's sentence of the French error page, unescaped."""
    found = re.search(r'<div class="message">(.*?)</div>', html, re.S)
    assert found, html[:500]
    return unescape(found.group(1))


def test_the_mayor_sees_his_towns_camera_only(app, login, engine, cameras):
    client = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    page = client.get("/cameras")
    assert page.status_code == 200
    assert ids(page.text) == [BELFORT]
    assert "1 caméra</strong>" in page.text and "dans votre périmètre" in page.text
    assert "(dont 0 proposée)" in page.text
    assert "Belfort" in page.text and "Commune" in page.text and "existante" in page.text
    assert "90°" in page.text and "60°" in page.text and "50&nbsp;m" in page.text
    assert "leaflet" in page.text and "Caméra CAM-BELFORT" in page.text  # the wedge's tooltip on the map
    for other in (DELLE, OFFEMONT):
        assert other not in page.text
    assert client.get("/cameras?commune=90010").status_code == 200


def test_a_chief_sees_the_cameras_of_his_sectors(app, login, engine, cameras):
    client = client_as(app, login, *account(engine, "chef@psq.test", "chef_secteur", sectors=("BEL-CENTRE",)))
    page = client.get("/cameras")
    assert page.status_code == 200
    assert ids(page.text) == [BELFORT]
    assert DELLE not in page.text and OFFEMONT not in page.text


def test_admin_sees_every_camera_in_french(admin_client, cameras):
    page = admin_client.get("/cameras")
    assert page.status_code == 200
    assert sorted(ids(page.text)) == sorted([BELFORT, DELLE, OFFEMONT])
    assert "3 caméras</strong>" in page.text and "(dont 1 proposée)" in page.text
    assert "tous azimuts" in page.text and "360°" in page.text and "proposée" in page.text
    assert "Delle" in page.text and "Offemont" in page.text and "Bailleur social" in page.text
    assert page.text.count('"color": "#ea580c", "dashArray": "6 4"') == 1  # the proposed wedge is dashed
    assert page.text.count('"color": "#1d4ed8", "dashArray": null') == 2  # the existing ones solid
    one = admin_client.get("/cameras?commune=90033")
    assert one.status_code == 200 and ids(one.text) == [DELLE]


def test_a_partner_is_refused(app, login, engine, cameras):
    client = client_as(app, login, *account(engine, "partenaire@psq.test", "partenaire"))
    page = client.get("/cameras")
    assert page.status_code == 403
    assert "n'est pas ouverte au rôle partenaire" in message(page.text)
    assert BELFORT not in page.text


def test_another_town_is_refused_to_the_mayor(app, login, engine, cameras):
    client = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    page = client.get("/cameras?commune=90033")
    assert page.status_code in (403, 404)
    assert "Vous n'avez pas accès aux caméras de la commune 90033" in message(page.text)
    assert ids(page.text) == [] and DELLE not in page.text and BELFORT not in page.text


@pytest.mark.parametrize("code", ["abc", "9001", "900100", "2C001", "90 10"])
def test_a_malformed_commune_is_a_400_in_french(app, login, engine, cameras, code):
    client = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    page = client.get("/cameras", query_string={"commune": code})
    assert page.status_code == 400
    assert "n'est pas un code INSEE" in message(page.text)
    assert ids(page.text) == []


def test_an_unknown_commune_is_a_404_for_admin(admin_client, cameras):
    page = admin_client.get("/cameras?commune=99999")
    assert page.status_code == 404 and "Aucune commune n'a le code INSEE 99999" in message(page.text)


def test_no_camera_is_a_sentence_not_an_error(app, login, engine, territory):
    client = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    page = client.get("/cameras")
    assert page.status_code == 200
    assert "Aucune caméra n'est enregistrée dans votre" in unescape(page.text) and ids(page.text) == []
    assert "leaflet" in page.text  # the map framed on his town


def test_a_hostile_id_is_escaped_in_the_table_and_the_map(admin_client, engine, territory, tmp_path):
    load(engine, tmp_path, f"{HOSTILE},47.6375,6.8625,90,60,50,existante,commune\n")
    page = admin_client.get("/cameras")
    assert page.status_code == 200
    assert HOSTILE not in page.text
    assert ids(page.text) == ["&lt;script&gt;alert(1)&lt;/script&gt;"]
    assert "Caméra &lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # the wedge's tooltip in the map script
