"""Row-level security of migration 0013, the second lock: the app's role reads the audit requests, cameras,
conventions, contracts and alerts of the user's scope only, whatever the SQL asks."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from geo.db import engine as database
from geo.db.unit_of_work import set_scope

POINT = "ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154)"


@pytest.fixture
def app_engine(database_url):
    eng = database.create_engine(database.app_url(database_url))
    yield eng
    eng.dispose()


@pytest.fixture
def rows(engine, territory):
    """Two référents (Belfort and Offemont; Delle; Essert covered by nobody), a request, a camera, a convention
    and a contract in each of Belfort and Delle, and two mayors' alerts; returns the ids that matter."""
    with engine.begin() as conn:
        ids = {}
        for name, lat, lon, communes in (("R Belfort", 47.64, 6.86, ("90010", "90075")), ("R Delle", 47.51, 7.0, ("90033",))):
            ids[name] = conn.execute(sa.text(
                f"INSERT INTO referent (name, kind, service, base) VALUES (:n, 'referent', 'DDSP', {POINT}) RETURNING id"),
                {"n": name, "lat": lat, "lon": lon}).scalar_one()
            conn.execute(sa.text("INSERT INTO referent_commune (commune_insee, referent_id) VALUES (:c, :r)"),
                         [{"c": c, "r": ids[name]} for c in communes])
        for insee, referent in (("90010", ids["R Belfort"]), ("90033", ids["R Delle"]), ("90039", None)):
            conn.execute(sa.text(
                "INSERT INTO audit_request (commune_insee, kind, need, requested_on, referent_id, status) "
                "VALUES (:c, 'site', 'Étude', :d, :r, 'attribuee')"), {"c": insee, "d": dt.date(2026, 11, 2), "r": referent})
            conn.execute(sa.text(
                "INSERT INTO convention (commune_insee, signed_on) VALUES (:c, '2024-01-10')"), {"c": insee})
            contract = conn.execute(sa.text(
                "INSERT INTO csi_contract (name, signed_on, duration_years) VALUES (:n, '2023-01-01', 3) RETURNING id"),
                {"n": f"CSI {insee}"}).scalar_one()
            conn.execute(sa.text("INSERT INTO csi_commune (contract_id, commune_insee) VALUES (:k, :c)"),
                         {"k": contract, "c": insee})
        belfort_sector = conn.execute(sa.text("SELECT id FROM sector WHERE code = 'BEL-CENTRE'")).scalar_one()
        conn.execute(sa.text(
            f"INSERT INTO camera (source, external_id, geom, bearing, fov, range_m, status, owner, commune_insee, "
            f"sector_id) VALUES ('t', 'C1', {POINT}, 0, 90, 50, 'existing', 'commune', '90010', :s), "
            f"('t', 'C2', ST_Transform(ST_SetSRID(ST_MakePoint(7.0, 47.51), 4326), 2154), 0, 90, 50, 'existing', "
            f"'commune', '90033', NULL)"), {"lat": 47.6375, "lon": 6.8625, "s": belfort_sector})
        users = []
        for email, insee in (("maire.belfort@example.fr", "90010"), ("maire.delle@example.fr", "90033")):
            user = conn.execute(sa.text(
                "INSERT INTO app_user (email, password_hash, role) VALUES (:e, 'x', 'maire') RETURNING id"),
                {"e": email}).scalar_one()
            conn.execute(sa.text("INSERT INTO user_commune (user_id, insee) VALUES (:u, :c)"), {"u": user, "c": insee})
            conn.execute(sa.text("INSERT INTO alert_subscription (user_id, category_code) VALUES (:u, 'rodeos')"),
                         {"u": user})
            occurrence = conn.execute(sa.text(
                f"INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, commune_insee) "
                f"VALUES ('t', :e, 'rodeos', now(), {POINT}, :c) RETURNING id"),
                {"e": email, "c": insee, "lat": 47.6, "lon": 6.9}).scalar_one()
            conn.execute(sa.text(
                "INSERT INTO alert_outbox (user_id, occurrence_id, commune_insee, category_code, occurred_at, digest) "
                "VALUES (:u, :o, :c, 'rodeos', now(), false)"), {"u": user, "o": occurrence, "c": insee})
            users.append(user)
        ids["users"] = users
    return ids


def _seen(conn, sql: str) -> list:
    return sorted(conn.execute(sa.text(sql)).scalars().all())


def test_a_referent_reads_the_requests_of_his_towns_only(rows, app_engine):
    with app_engine.begin() as conn:
        set_scope(conn, "referent", referent=rows["R Belfort"])
        assert _seen(conn, "SELECT commune_insee FROM audit_request") == ["90010"]
        # He still reads every camera and convention: the référent's analysis role is global.
        assert _seen(conn, "SELECT external_id FROM camera") == ["C1", "C2"]
        assert len(_seen(conn, "SELECT commune_insee FROM convention")) == 3
        assert _seen(conn, "SELECT user_id FROM alert_outbox") == []
    with app_engine.begin() as conn:
        set_scope(conn, "referent")  # a référent account with no record reads no request
        assert _seen(conn, "SELECT commune_insee FROM audit_request") == []


def test_a_mayor_reads_his_towns_rows_only(rows, app_engine):
    belfort, delle = rows["users"]
    with app_engine.begin() as conn:
        set_scope(conn, "maire", commune="90033", user_id=delle)
        assert _seen(conn, "SELECT commune_insee FROM audit_request") == ["90033"]
        assert _seen(conn, "SELECT external_id FROM camera") == ["C2"]
        assert _seen(conn, "SELECT commune_insee FROM convention") == ["90033"]
        assert _seen(conn, "SELECT name FROM csi_contract") == ["CSI 90033"]
        assert _seen(conn, "SELECT commune_insee FROM alert_outbox") == ["90033"]
        assert _seen(conn, "SELECT user_id FROM alert_subscription") == [delle]
    with app_engine.begin() as conn:
        # His commune with another user's id (a forged setting) still shows none of Belfort's alerts.
        set_scope(conn, "maire", commune="90033", user_id=None)
        assert _seen(conn, "SELECT commune_insee FROM alert_outbox") == []


def test_a_chief_reads_the_cameras_and_conventions_of_his_sectors(rows, app_engine):
    with app_engine.begin() as conn:
        set_scope(conn, "chef_secteur", sector_keys=("1:BEL-CENTRE",))
        assert _seen(conn, "SELECT external_id FROM camera") == ["C1"]
        assert _seen(conn, "SELECT commune_insee FROM convention") == ["90010"]
        assert _seen(conn, "SELECT name FROM csi_contract") == ["CSI 90010"]
        assert _seen(conn, "SELECT commune_insee FROM audit_request") == []
        assert _seen(conn, "SELECT user_id FROM alert_outbox") == []


def test_with_no_scope_nothing_is_read(rows, app_engine):
    with app_engine.begin() as conn:
        for table in ("referent", "referent_commune", "audit_request", "camera", "convention", "csi_contract",
                      "csi_commune", "alert_subscription", "alert_outbox"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table


def test_a_mayor_cannot_write_a_request_for_another_town(rows, app_engine):
    with app_engine.begin() as conn:
        set_scope(conn, "maire", commune="90033")
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            with conn.begin_nested():
                conn.execute(sa.text("INSERT INTO audit_request (commune_insee, kind, need, requested_on) "
                                     "VALUES ('90010', 'site', 'x', '2026-11-02')"))
        changed = conn.execute(sa.text("UPDATE audit_request SET need = 'changé' WHERE commune_insee = '90010'"))
        assert changed.rowcount == 0
