"""Patrol zones: checks with their French messages, writes in PostGIS and audit_log, roles, export, briefing,
contents and suggestions on the demo's synthetic data."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import shapely
import sqlalchemy as sa

from geo.accounts.users import UserScope, create_user, get_user
from geo.demo.loader import load_synthetic
from geo.demo.synthetic import DEFAULT_END
from geo.patrol.zones import Period, ZoneError, parse_time_slots, suggest_zones, zone_contents
from tests.fixtures.accounts import csrf_token_in
from tests.support import ROOT

CHIEF = ("chef.centre@demo.psq.fr", "demo-psq-belfort")
OTHER_CHIEF = ("chef.resid@demo.psq.fr", "mot de passe autre chef")
MAYOR = ("maire@demo.psq.fr", "mot de passe du maire")
INSIDE = (6.854562, 47.638999)  # well inside BEL-CENTRE
OUTSIDE = (6.843716, 47.631923)  # well inside BEL-RESID: outside the chief's sectors
BORDER = (6.866863, 47.637842)  # on the border of BEL-CENTRE and BEL-GLACIS


def square(lon: float, lat: float, half_m: float = 100.0) -> dict:
    """A square around a point, in lon/lat (about half_m metres each side of it)."""
    dlon, dlat = half_m / 75_000, half_m / 111_000
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat], [lon - dlon, lat + dlat],
            [lon - dlon, lat - dlat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def accounts(engine, territory):
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=("BEL-CENTRE", "BEL-GLACIS"))
    create_user(engine, OTHER_CHIEF[0], "chef_secteur", OTHER_CHIEF[1], sectors=("BEL-RESID",))
    create_user(engine, MAYOR[0], "maire", MAYOR[1], commune="90010")
    return territory


def logged_in(app, login, account):
    client = app.test_client()
    assert login(client, *account).status_code == 302
    return client


@pytest.fixture
def chief(app, login, accounts):
    return logged_in(app, login, CHIEF)


def post(client, url, body=None, token=True):
    headers = {"X-CSRFToken": csrf_token_in(client.get("/page-absente").text)} if token else {}
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", headers=headers)


def new_zone(csp_id, **fields):
    return {"csp_id": csp_id, "sector_code": "BEL-CENTRE", "geometry": square(*INSIDE), "reason": "Alcoolisation au parvis",
            "valid_from": "2026-01-01", "valid_to": "2026-12-31", "time_slots": "ven-sam 20:00-02:00", **fields}


def rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).mappings().all()


# -- refusals: a French sentence, nothing stored ------------------------------------
BOWTIE = {"type": "Polygon", "coordinates": [[[6.852, 47.632], [6.856, 47.634], [6.856, 47.632], [6.852, 47.634],
                                              [6.852, 47.632]]]}

REFUSALS = [
    ({"geometry": square(*OUTSIDE)}, "La zone sort de vos secteurs sur"),
    ({"geometry": BOWTIE}, "se recoupe lui-même près du point 47.63300 N, 6.85400 E"),
    ({"geometry": square(*INSIDE, half_m=1200)}, "La zone couvre 5,"),
    ({"geometry": {"type": "Point", "coordinates": list(INSIDE)}}, "doit être un polygone, pas un objet de type Point"),
    ({"geometry": {"type": "Polygon", "coordinates": "n'importe quoi"}}, "n'est pas une géométrie lisible"),
    ({"reason": "   "}, "Indiquez le motif de la zone"),
    ({"valid_from": "2026-05-01", "valid_to": "2026-04-01"}, "La fin de validité (01/04/2026) précède le début (01/05/2026)"),
    ({"valid_from": "2026-02-30"}, "La date de début « 2026-02-30 » n'est pas une date valide"),
    ({"time_slots": "vendredi soir"}, "Créneau « vendredi soir » illisible"),
    ({"time_slots": "ven 25:00-02:00"}, "l'heure « 25:00 » n'existe pas"),
    ({"time_slots": "xyz 20:00-02:00"}, "jour « xyz » inconnu"),
    ({"problem_ids": [999]}, "Le problème n° 999 n'est pas un problème du secteur BEL-CENTRE"),
]


@pytest.mark.parametrize("fields, message", REFUSALS, ids=[m[:25] for _, m in REFUSALS])
def test_each_refusal_has_its_message_and_stores_nothing(engine, chief, accounts, fields, message):
    response = post(chief, "/api/zones", new_zone(accounts, **fields))
    assert response.status_code == 400, response.text
    assert message in response.json["error"]
    assert rows(engine, "patrol_zone") == []
    assert [r["action"] for r in rows(engine, "audit_log") if r["action"].startswith("patrol_zone")] == []


def test_outside_message_says_how_much(engine, chief, accounts):
    error = post(chief, "/api/zones", new_zone(accounts, geometry=square(*OUTSIDE))).json["error"]
    assert "m² (100 % de sa surface)" in error or "km² (100 % de sa surface)" in error


def test_time_slots_text():
    assert parse_time_slots("sam-lun 22h-5h") == [{"days": ["sam", "dim", "lun"], "start": "22:00", "end": "05:00"}]
    with pytest.raises(ZoneError, match="même heure"):
        parse_time_slots("lun 10:00-10:00")


# -- writes ----------------------------------------------------------------------
def test_create_edit_delete_stored_and_audited(engine, chief, accounts):
    created = post(chief, "/api/zones", new_zone(accounts))
    assert created.status_code == 201, created.text
    zone = created.json
    assert zone["time_slots"] == [{"days": ["ven", "sam"], "start": "20:00", "end": "02:00"}]
    assert 35_000 < zone["area_m2"] < 45_000
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT ST_SRID(geom), GeometryType(geom), sector_code, reason, author_id "
                                      "FROM patrol_zone")).one()
    assert tuple(stored[:4]) == (2154, "MULTIPOLYGON", "BEL-CENTRE", "Alcoolisation au parvis")

    bigger = square(*INSIDE, half_m=150)
    edited = post(chief, f"/api/zones/{zone['id']}", {"geometry": bigger, "time_slots": "lun-ven 16:00-19:00"})
    assert edited.status_code == 200, edited.text
    assert edited.json["reason"] == "Alcoolisation au parvis" and edited.json["area_m2"] > 80_000
    assert edited.json["time_slots_text"] == "lun-ven 16:00-19:00"

    refused = post(chief, f"/api/zones/{zone['id']}", {"reason": ""})
    assert refused.status_code == 400 and "motif" in refused.json["error"]

    deleted = post(chief, f"/api/zones/{zone['id']}/supprimer")
    assert deleted.status_code == 200 and deleted.json == {"id": zone["id"], "deleted": True}
    kept = rows(engine, "patrol_zone")
    assert len(kept) == 1 and kept[0]["deleted_at"] is not None  # soft delete: kept for history
    assert post(chief, f"/api/zones/{zone['id']}", {"reason": "x"}).status_code == 404
    actions = [(r["action"], r["target"]) for r in rows(engine, "audit_log") if r["action"].startswith("patrol")]
    target = f"patrol_zone:{zone['id']}"
    assert actions == [("patrol_zone.create", target), ("patrol_zone.update", target), ("patrol_zone.delete", target)]


def test_zone_across_his_two_sectors_is_accepted(chief, accounts):
    # BEL-CENTRE and BEL-GLACIS are both his: the union counts.
    response = post(chief, "/api/zones", new_zone(accounts, geometry=square(*BORDER, half_m=40)))
    assert response.status_code == 201, response.text


# -- roles and scope -----------------------------------------------------------------
def test_other_chief_and_mayor_are_refused(engine, app, login, chief, accounts):
    zone = post(chief, "/api/zones", new_zone(accounts)).json
    other = logged_in(app, login, OTHER_CHIEF)
    # Another chief's zone answers exactly as an unknown id: no hint that it exists.
    unknown = zone["id"] + 1000
    for url, body in [(f"/api/zones/{zone['id']}", {"reason": "pirate"}), (f"/api/zones/{zone['id']}/supprimer", {})]:
        response = post(other, url, body)
        twin = post(other, url.replace(str(zone["id"]), str(unknown)), body)
        assert response.status_code == twin.status_code == 404
        assert response.json["error"] == twin.json["error"].replace(str(unknown), str(zone["id"]))
        assert "BEL-CENTRE" not in response.json["error"]
    response = post(other, "/api/zones", new_zone(accounts))
    assert response.status_code == 403 and "BEL-CENTRE" in response.json["error"]
    assert other.get("/secteur/CSP%20Belfort/BEL-CENTRE/zones").status_code == 403
    assert other.get("/api/secteurs/CSP%20Belfort/BEL-CENTRE/zones.geojson").status_code == 403
    briefing = other.get(f"/zones/{zone['id']}/briefing")
    assert briefing.status_code == 404 and "BEL-CENTRE" not in briefing.text
    assert other.get(f"/zones/{unknown}/briefing").status_code == 404
    mayor = logged_in(app, login, MAYOR)
    assert post(mayor, "/api/zones", new_zone(accounts)).status_code == 403
    assert mayor.get("/secteur/CSP%20Belfort/BEL-CENTRE/zones").status_code == 403
    assert rows(engine, "patrol_zone")[0]["reason"] == "Alcoolisation au parvis"
    assert rows(engine, "patrol_zone")[0]["deleted_at"] is None


def test_anonymous_gets_401_json_and_missing_csrf_400(client, chief, accounts):
    response = client.post("/api/zones", json=new_zone(accounts))
    assert response.status_code == 401 and response.json["error"] == "Authentification requise."
    response = post(chief, "/api/zones", new_zone(accounts), token=False)
    assert response.status_code == 400 and "CSRF" in response.json["error"]


def test_admin_may_draw_anywhere_in_the_csp(admin_client, accounts):
    response = post(admin_client, "/api/zones", new_zone(accounts, sector_code="BEL-RESID", geometry=square(*OUTSIDE)))
    assert response.status_code == 201, response.text


# -- page, export, briefing ------------------------------------------------------------
def test_page_export_and_briefing(chief, accounts):
    zone = post(chief, "/api/zones", new_zone(accounts)).json
    page = chief.get("/secteur/CSP%20Belfort/BEL-CENTRE/zones")
    assert page.status_code == 200
    html = page.text
    assert "Zones de patrouille" in html and f"psq-zone-{zone['id']}" in html and 'id="zones-config"' in html
    assert "leaflet.draw.js" in html and "cdnjs" not in html and "js/zones.js" in html
    export = chief.get("/api/secteurs/CSP%20Belfort/BEL-CENTRE/zones.geojson")
    assert export.status_code == 200 and export.mimetype == "application/geo+json"
    feature = export.json["features"][0]
    assert feature["properties"]["reason"] == "Alcoolisation au parvis"
    lon, lat = shapely.geometry.shape(feature["geometry"]).centroid.coords[0]
    assert abs(lon - INSIDE[0]) < 1e-4 and abs(lat - INSIDE[1]) < 1e-4  # EPSG:4326
    briefing = chief.get(f"/zones/{zone['id']}/briefing")
    assert briefing.status_code == 200
    assert "Alcoolisation au parvis" in briefing.text and "ven, sam : 20:00 – 02:00" in briefing.text
    assert "@media print" in (ROOT / "web" / "static" / "app.css").read_text()


# -- contents and suggestions on the demo data ----------------------------------------------
def chief_scope(engine, email=CHIEF[0]):
    """The scope of a demo account, as the app builds it at log-in."""
    with engine.connect() as conn:
        user_id = conn.execute(sa.text("SELECT id FROM app_user WHERE email = :e"), {"e": email}).scalar_one()
    return get_user(engine, user_id).scope


def planted(place_id):
    places = json.loads((ROOT / "data" / "demo" / "planted.json").read_text())["places"]
    return next(p for p in places if p["id"] == place_id)


def test_contents_and_suggestions_find_the_planted_places(engine, chief, accounts):
    load_synthetic(engine)
    period = Period.last_days(365)
    pl05, pl07 = planted("PL05"), planted("PL07")
    assert (pl05["sector"], pl07["sector"]) == ("BEL-CENTRE", "BEL-GLACIS")  # PL01 is in BEL-RESID
    body = new_zone(accounts, geometry=square(pl05["centre"]["lon"], pl05["centre"]["lat"], 50))
    zone = post(chief, "/api/zones", body).json
    contents = zone_contents(engine, chief_scope(engine), zone, period)
    assert contents["by_category"][0]["code"] == "alcoolisation" and contents["by_category"][0]["count"] > 100
    assert any(c["category"] == "alcoolisation" and (c["i"], c["j"]) == (4946, 33664) for c in contents["hot_cells"])

    for place, code in ((pl05, "BEL-CENTRE"), (pl07, "BEL-GLACIS")):
        centre = shapely.Point(place["centre"]["lon"], place["centre"]["lat"])
        found = [s for s in suggest_zones(engine, accounts, code, period)
                 if shapely.geometry.shape(s["geometry"]).contains(centre)]
        assert {s["kind"] for s in found} >= {"dbscan"}, place["id"]
        assert all(s["area_m2"] < 4_000_000 for s in found)

    # One click: the suggestion's polygon goes to the create endpoint as is.
    suggestion = suggest_zones(engine, accounts, "BEL-GLACIS", period)[0]
    created = post(chief, "/api/zones", new_zone(accounts, sector_code="BEL-GLACIS", reason=suggestion["label"],
                                                 geometry=suggestion["geometry"]))
    assert created.status_code == 201, created.text


def test_a_suggestion_of_one_category_makes_a_zone_of_that_category(engine, chief, accounts):
    """"Créer cette zone" on a dealing suggestion: the zone follows dealing, counts it only, links its problems."""
    load_synthetic(engine)
    # The year of the synthetic data (not the year to today, whose drift moved the suggestion off every problem).
    period = Period.last_days(365, today=DEFAULT_END + dt.timedelta(days=1))
    suggestion = next(s for s in suggest_zones(engine, accounts, "BEL-CENTRE", period) if s["category"])
    created = post(chief, "/api/zones", new_zone(accounts, reason=suggestion["label"], geometry=suggestion["geometry"],
                                                 category=suggestion["category"]))
    assert created.status_code == 201, created.text
    zone = created.json
    assert zone["category"] == suggestion["category"] and zone["category_label"] in suggestion["label"]
    contents = zone_contents(engine, chief_scope(engine), zone, period)
    assert [c["code"] for c in contents["by_category"]] == [zone["category"]]
    assert contents["hot_cells"] and {c["category"] for c in contents["hot_cells"]} == {zone["category"]}
    with engine.connect() as conn:  # an independent count: that category's problems whose place meets the zone
        expected = sorted(conn.execute(sa.text(
            "SELECT p.id FROM problem p, patrol_zone z WHERE z.id = :id AND p.category_code = z.category_code "
            "AND ST_Intersects(p.geom, z.geom)"), {"id": zone["id"]}).scalars())
    assert expected and zone["problem_ids"] == expected

    # The same place drawn by hand follows every category and links nothing by itself.
    plain = post(chief, "/api/zones", new_zone(accounts, geometry=suggestion["geometry"])).json
    assert plain["category"] is None and plain["problem_ids"] == []
    assert len(zone_contents(engine, chief_scope(engine), plain, period)["by_category"]) > 1

    refused = post(chief, "/api/zones", new_zone(accounts, category="météo"))
    assert refused.status_code == 400 and refused.json["error"] == "Catégorie inconnue : « météo »."


# -- leaks through zones (issue 9): a zone never reads another sector ---------------------
def multipolygon(*polygons: dict) -> dict:
    return {"type": "MultiPolygon", "coordinates": [p["coordinates"] for p in polygons]}


def occurrences_inside(engine, zone_id, sectors, period, *, outside=False):
    """An independent SQL count of the occurrences in a zone and (or, ``outside``: not) in the sectors."""
    keep = "NOT" if outside else ""
    with engine.connect() as conn:
        return conn.execute(sa.text(f"""
            SELECT count(*) FROM occurrence o, patrol_zone z
            WHERE z.id = :id AND ST_Intersects(o.geom, z.geom)
              AND {keep} EXISTS (SELECT 1 FROM sector s WHERE s.code = ANY(:codes) AND s.valid_to IS NULL
                                 AND ST_Intersects(o.geom, s.geom))
              AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE 'Europe/Paris')
              AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE 'Europe/Paris')"""),
            {"id": zone_id, "codes": list(sectors), "first": period.first, "last": period.last}).scalar_one()


def one_occurrence_of(engine, sector_code):
    """Lon/lat of one occurrence of a sector (the single event an attacker would aim at)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT ST_X(ST_Transform(o.geom, 4326)), ST_Y(ST_Transform(o.geom, 4326)) FROM occurrence o "
            "JOIN sector s ON s.code = :code AND s.valid_to IS NULL AND ST_Intersects(o.geom, s.geom) "
            "ORDER BY o.id LIMIT 1"), {"code": sector_code}).one()


def test_a_detached_part_in_another_sector_is_refused(engine, chief, accounts):
    load_synthetic(engine)
    zone = post(chief, "/api/zones", new_zone(accounts, geometry=square(*INSIDE, half_m=500))).json
    # The attack as found: the zone plus a detached 200 m square inside BEL-RESID (under 5 % of the area).
    attack = multipolygon(square(*INSIDE, half_m=500), square(*OUTSIDE, half_m=100))
    response = post(chief, f"/api/zones/{zone['id']}", {"geometry": attack})
    assert response.status_code == 400
    assert re.fullmatch(r"La partie n° 2 de la zone \(\d\d\u202f\d{3} m²\) est entièrement hors de vos secteurs : "
                        r"dessinez chaque partie d'une zone dans vos secteurs\.", response.json["error"])
    # A 6 m square on one occurrence of BEL-MIOTTE, detached, is refused as well; so is a zone wholly outside.
    lon, lat = one_occurrence_of(engine, "BEL-MIOTTE")
    tiny = post(chief, f"/api/zones/{zone['id']}", {"geometry": multipolygon(square(*INSIDE, 500), square(lon, lat, 3))})
    assert tiny.status_code == 400 and "La partie n° 2 de la zone" in tiny.json["error"]
    created = post(chief, "/api/zones", new_zone(accounts, geometry=multipolygon(square(*INSIDE, 500),
                                                                                  square(lon, lat, 3))))
    assert created.status_code == 400 and rows(engine, "patrol_zone")[0]["id"] == zone["id"]
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT ST_NumGeometries(geom) FROM patrol_zone")).scalar_one()
    assert stored == 1  # nothing changed


def test_zone_contents_never_count_outside_the_chiefs_sectors(engine, app, chief, accounts):
    """A lobe over the border is accepted (within the tolerance) but never counted: checked against SQL."""
    load_synthetic(engine)
    period = Period.last_days(365)
    mine = ("BEL-CENTRE", "BEL-GLACIS")
    # One polygon: the part of BEL-CENTRE within 600 m of the BEL-RESID occurrence nearest to it, joined to a
    # disc reaching over the border to that occurrence (and its neighbours): the outside part is well under 5 %.
    with engine.connect() as conn:
        lobe = conn.execute(sa.text("""
            WITH c AS (SELECT geom FROM sector WHERE code = 'BEL-CENTRE' AND valid_to IS NULL),
                 r AS (SELECT geom FROM sector WHERE code = 'BEL-RESID' AND valid_to IS NULL),
                 target AS (SELECT o.geom FROM occurrence o, r, c WHERE ST_Intersects(o.geom, r.geom)
                            AND o.occurred_at >= CAST(:first AS date) AND o.occurred_at < CAST(:last AS date)
                            ORDER BY ST_Distance(o.geom, c.geom), o.id LIMIT 1)
            SELECT ST_AsGeoJSON(ST_Transform(ST_Union(
                       ST_Intersection(c.geom, ST_Buffer(target.geom, 600)),
                       ST_Buffer(target.geom, ST_Distance(target.geom, c.geom) + 25)), 4326), 7)
            FROM c, target"""), {"first": period.first, "last": period.last}).scalar_one()
    scope = chief_scope(engine)
    created = post(chief, "/api/zones", new_zone(accounts, geometry=json.loads(lobe)))
    assert created.status_code == 201, created.text
    zone = created.json
    outside = occurrences_inside(engine, zone["id"], mine, period, outside=True)
    inside = occurrences_inside(engine, zone["id"], mine, period)
    assert outside > 0, "the zone must overlap occurrences of BEL-RESID for this test to mean anything"
    contents = zone_contents(engine, scope, zone, period)
    assert contents["total"] == inside
    # The briefing and the zones page show the same clipped figure.
    briefing = chief.get(f"/zones/{zone['id']}/briefing?jours=365")
    assert briefing.status_code == 200
    assert f'<tr><th>Total</th><th class="num">{inside}</th></tr>' in briefing.text
    page = chief.get("/secteur/CSP%20Belfort/BEL-CENTRE/zones?jours=365")
    assert f'<div class="zone-contents">{inside} fait' in page.text


def test_every_zone_is_clipped_for_every_chief(engine, app, login, chief, accounts):
    """Every zone the demo chiefs can draw, hostile or not: contents equal SQL inside their sectors."""
    load_synthetic(engine)
    period = Period.last_days(365)
    scope = chief_scope(engine)
    lon, lat = one_occurrence_of(engine, "BEL-GLACIS")
    zones = [post(chief, "/api/zones", new_zone(accounts, geometry=g)).json for g in (
        square(*INSIDE), square(*BORDER, half_m=40), square(lon, lat, 30), square(*INSIDE, half_m=500))]
    admin_scope = UserScope("admin")
    for zone in zones:
        assert "id" in zone, zone
        contents = zone_contents(engine, scope, zone, period)
        assert contents["total"] == occurrences_inside(engine, zone["id"], ("BEL-CENTRE", "BEL-GLACIS"), period)
        # Another chief (BEL-RESID) asking for these zones' contents gets nothing of them.
        other = chief_scope(engine, OTHER_CHIEF[0])
        assert zone_contents(engine, other, zone, period)["total"] == 0
        # An admin sees the whole zone.
        assert zone_contents(engine, admin_scope, zone, period)["total"] == occurrences_inside(
            engine, zone["id"], ("BEL-CENTRE", "BEL-GLACIS", "BEL-RESID", "BEL-MIOTTE"), period) + \
            occurrences_inside(engine, zone["id"], ("BEL-CENTRE", "BEL-GLACIS", "BEL-RESID", "BEL-MIOTTE"), period,
                               outside=True)
    # A user with no sector at all (fail closed) counts nothing.
    assert zone_contents(engine, UserScope("chef_secteur"), zones[0], period)["total"] == 0
