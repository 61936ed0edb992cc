"""The audit log (issue 14 item 8): every write and export, who, when, what, from where; the app's role may
only insert into it, and read it under an admin's scope."""

from __future__ import annotations

import importlib.util

import pytest
import sqlalchemy as sa

from geo.db import engine as database
from geo.db.unit_of_work import set_scope
from geo.settings import SQL_DIR
from tests.fixtures.accounts import CHIEF, account, client_as, csrf_token_in

INSIDE = (6.854562, 47.638999)


def _not_audited() -> tuple[str, ...]:
    path = SQL_DIR / "migrations" / "versions" / "0011_login_limits_audit.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NOT_AUDITED


def _rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


@pytest.fixture
def app_engine(database_url):
    eng = database.create_engine(database.app_url(database_url))
    yield eng
    eng.dispose()


def test_every_table_of_data_has_the_audit_trigger(engine):
    """A table added later without the trigger fails here: add it in its migration, or name it in NOT_AUDITED."""
    # The job queue's own tables (migration 0014) hold procrastinate's jobs, not data: the outbox row a job
    # delivers is audited.
    tables = {t for (t,) in _rows(engine, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                          "AND tablename NOT LIKE 'procrastinate\\_%'")}
    triggered = {t for (t,) in _rows(engine, "SELECT event_object_table FROM information_schema.triggers "
                                             "WHERE trigger_name = 'audit_write'")}
    assert tables - triggered == set(_not_audited()) & tables
    assert len(triggered) >= 20


def test_the_apps_role_inserts_but_never_changes_and_reads_only_as_admin(engine, app_engine):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (action, target) VALUES ('export.sectors', 'stdout')"))
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with app_engine.begin() as conn:
                conn.execute(sa.text(statement))
    with app_engine.connect() as conn:
        for role, seen in ((None, 0), ("chef_secteur", 0), ("referent", 0), ("maire", 0), ("admin", 1)):
            with conn.begin():
                set_scope(conn, role)
                assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == seen, role
        with conn.begin():
            conn.execute(sa.text("INSERT INTO audit_log (action) VALUES ('login.failure')"))
    assert _rows(engine, "SELECT count(*) FROM audit_log") == [(2,)]
    # Even the owner cannot rewrite history (migration 0004's trigger).
    with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_log"))


def test_a_write_through_the_web_is_audited_with_who_and_from_where(app, engine, territory, login):
    email, password = account(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE"])
    chief = client_as(app, login, email, password)
    chief.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    token = csrf_token_in(chief.get("/page-absente").text)
    half = 0.001
    lon, lat = INSIDE
    square = {"type": "Polygon", "coordinates": [[[lon - half, lat - half], [lon + half, lat - half],
                                                  [lon + half, lat + half], [lon - half, lat + half],
                                                  [lon - half, lat - half]]]}
    made = chief.post("/api/zones", json={"csp_id": territory, "sector_code": "BEL-CENTRE", "geometry": square,
                                          "reason": "Rodéos le soir"}, headers={"X-CSRFToken": token})
    assert made.status_code == 201, made.text
    [(user_id,)] = _rows(engine, "SELECT id FROM app_user WHERE email = :e", e=email)
    rows = _rows(engine, "SELECT action, target, user_id, ip, details->>'via' FROM audit_log "
                         "WHERE action = 'write.insert' AND target = 'patrol_zone'")
    assert rows == [("write.insert", "patrol_zone", user_id, "10.1.2.3", "web")]
    semantic = _rows(engine, "SELECT user_id, ip FROM audit_log WHERE action = 'patrol_zone.create'")
    assert semantic == [(user_id, "10.1.2.3")]
    # The export of the zones is audited too.
    exported = chief.get("/api/secteurs/CSP%20Belfort/BEL-CENTRE/zones.geojson")
    assert exported.status_code == 200 and len(exported.json["features"]) == 1
    assert _rows(engine, "SELECT user_id, target, details->>'zones' FROM audit_log "
                         "WHERE action = 'export.patrol_zones'") == [(user_id, f"sector:{territory}:BEL-CENTRE", "1")]


def test_a_refused_write_leaves_no_write_row(app, engine, territory, login):
    email, password = account(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE"])
    chief = client_as(app, login, email, password)
    token = csrf_token_in(chief.get("/page-absente").text)
    before = _rows(engine, "SELECT count(*) FROM audit_log")
    refused = chief.post("/api/zones", json={"csp_id": territory, "sector_code": "BEL-CENTRE",
                                             "geometry": {"type": "Point", "coordinates": [0, 0]}},
                         headers={"X-CSRFToken": token})
    assert refused.status_code == 400
    assert _rows(engine, "SELECT count(*) FROM audit_log") == before


def test_command_line_writes_and_exports_are_audited_with_the_command(psq, engine, territory, tmp_path):
    before = _rows(engine, "SELECT max(id) FROM audit_log")[0][0] or 0
    source = tmp_path / "faits.csv"
    source.write_text("id,category,lat,lon,occurred_at\nA1,incivilites,47.6390,6.8545,2026-11-02T21:00:00+01:00\n")
    assert psq("load", "occurrences", source, "--source", "test").exit_code == 0
    out = tmp_path / "secteurs.geojson"
    assert psq("export", "sectors", "-o", out).exit_code == 0
    rows = _rows(engine, "SELECT action, target, details->>'via' FROM audit_log WHERE id > :b ORDER BY id", b=before)
    assert ("write.insert", "occurrence", "psq load occurrences") in rows
    assert ("write.insert", "import_batch", "psq load occurrences") in rows
    assert ("export.sectors", str(out), None) in rows
