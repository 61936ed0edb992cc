"""Backups (issue 14, item 7): `psq db dump FILE` and `psq db restore FILE` round-trip everything (geometries,
sector history, users and their password hashes, the audit log, the grants and the row-level security
policies) into an empty database, and refuse, changing nothing, a database that is not empty or a file that is
not a psq dump. Compared by counts and checksums of every table."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from geo.accounts.users import UserScope, audit, authenticate, create_user
from geo.db import engine as database
from geo.db.backup import BackupError, client_tool, dump, restore, table_checksums
from geo.db.migrations import current_revision, head_revision
from geo.db.unit_of_work import set_scope
from geo.demo.loader import SECTORS_FILE
from geo.ingest.sectors import load_sectors
from geo.patrol.zones import Actor, create_zone

PASSWORD = "mot de passe de test"
CHIEF = "chef.centre@backup.test"
INSIDE = (6.854562, 47.638999)  # well inside BEL-CENTRE


# -- fixtures ------------------------------------------------------------------------
@pytest.fixture
def empty_url(database_url):
    """A fresh, empty database on the test server, dropped at the end.

    Not named ``psq_test_<pid>_...``: a test session starting meanwhile drops every
    ``psq_test_*`` database whose suffix is not the id of a live process (conftest.py).
    """
    name = f"psq_restore_test_{os.getpid()}"
    server = make_url(database_url)
    conninfo = {"host": server.host, "port": server.port, "user": server.username,
                "password": server.password, "dbname": "postgres"}
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield database.with_database(database_url, name)
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def content(engine, demo, territory, tmp_path):
    """The demo (territory, problems, occurrences) with a second version of a sector, a chief, a patrol zone and
    audit rows."""
    sectors = json.loads(SECTORS_FILE.read_text())
    sectors["features"][0]["properties"]["name"] += " (nouveau nom)"  # a new name: a new version of that sector
    renamed = tmp_path / "secteurs.geojson"
    renamed.write_text(json.dumps(sectors))
    load_sectors(engine, renamed, valid_from=dt.date(2026, 6, 1))
    chief = create_user(engine, CHIEF, "chef_secteur", PASSWORD, sectors=("BEL-CENTRE",)).user
    admin = create_user(engine, "admin@backup.test", "admin", PASSWORD).user
    create_zone(engine, Actor(UserScope("admin"), admin.id), territory, "BEL-CENTRE", {
        "geometry": square(*INSIDE), "reason": "Alcoolisation au parvis", "valid_from": "2026-01-01",
        "valid_to": "2026-12-31", "time_slots": "ven-sam 20:00-02:00"})
    with engine.begin() as conn:
        audit(conn, "export.sectors", user_id=chief.id, target="csp:CSP Belfort", details={"format": "gpkg"},
              ip="127.0.0.1")
    return sectors["features"][0]["properties"]["code"]


def square(lon: float, lat: float, half_m: float = 100.0) -> dict:
    dlon, dlat = half_m / 75_000, half_m / 111_000
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat], [lon - dlon, lat + dlat],
            [lon - dlon, lat - dlat]]
    return {"type": "Polygon", "coordinates": [ring]}


# -- helpers -----------------------------------------------------------------------------
@contextlib.contextmanager
def engine_on(url: str):
    eng = database.create_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()


def scalar(url: str, query: str):
    with engine_on(url) as eng, eng.connect() as conn:
        return conn.execute(sa.text(query)).scalar_one()


#: What row-level security and the app's role rest on, as the catalogs show it.
SECURITY = {
    "policies": "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies "
                "ORDER BY 1, 2",
    "rls": "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relrowsecurity ORDER BY 1",
    "grants": "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
              "WHERE grantee = 'psq_app' ORDER BY 1, 2",
    "column grants": "SELECT table_name, column_name, privilege_type FROM information_schema.column_privileges "
                     "WHERE grantee = 'psq_app' ORDER BY 1, 2, 3",
    "functions": "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                 "WHERE n.nspname = 'public' AND proname LIKE 'psq%' ORDER BY 1",
    "triggers": "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2",
}


def security(url: str) -> dict:
    """The policies, the tables under row-level security, the app role's grants and the triggers of a database."""
    with engine_on(url) as eng, eng.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(sa.text(query))] for name, query in SECURITY.items()}


def tables_in(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")


# -- the round trip ----------------------------------------------------------------------------
def test_a_restored_dump_is_the_same_database(content, database_url, empty_url, tmp_path):
    path = tmp_path / "psq.dump"
    dumped = dump(database_url, path)
    assert dumped.tables == table_checksums(database_url)
    assert dumped.tables["occurrence"][0] > 20_000 and dumped.tables["patrol_zone"][0] == 1
    assert path.stat().st_size == dumped.size
    # The dump records itself before dumping, so it holds its own entry.
    assert scalar(database_url, "SELECT count(*) FROM audit_log WHERE action = 'db.dump' AND target = 'psq.dump'") == 1

    restored = restore(empty_url, path)
    assert restored.tables == dumped.tables
    after = table_checksums(empty_url)
    assert {t: c for t, c in after.items() if t != "audit_log"} == {t: c for t, c in dumped.tables.items()
                                                                   if t != "audit_log"}
    assert after["audit_log"][0] == dumped.tables["audit_log"][0] + 1
    assert scalar(empty_url, "SELECT string_agg(action, ',' ORDER BY id) FROM (SELECT * FROM audit_log "
                             "ORDER BY id DESC LIMIT 2) a") == "db.dump,db.restore"

    assert security(empty_url) == security(database_url)
    with engine_on(empty_url) as restored_engine:
        assert current_revision(restored_engine) == head_revision()
    assert scalar(empty_url, f"SELECT count(*) FROM sector WHERE code = '{content}'") == 2
    check_the_apps_role_sees_nothing_without_a_scope(empty_url)
    check_users_log_in_and_the_audit_log_stays_append_only(empty_url)
    check_a_database_that_is_not_empty_is_refused_and_left_alone(path, empty_url, database_url)


def check_the_apps_role_sees_nothing_without_a_scope(url: str):
    with engine_on(database.app_url(url)) as app, app.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM occurrence")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM patrol_zone")).scalar_one() == 0
        set_scope(conn, "admin")
        seen = conn.execute(sa.text("SELECT count(*) FROM occurrence")).scalar_one()
    assert seen == scalar(url, "SELECT count(*) FROM occurrence") > 20_000


def check_users_log_in_and_the_audit_log_stays_append_only(url: str):
    with engine_on(url) as eng:
        account = authenticate(eng, CHIEF, PASSWORD)
        assert account.email == CHIEF and account.scope.sector_codes == ("BEL-CENTRE",)
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), eng.begin() as conn:
            conn.execute(sa.text("UPDATE audit_log SET action = 'x'"))


# -- refusals: nothing changed ---------------------------------------------------------------
def check_a_database_that_is_not_empty_is_refused_and_left_alone(path, *targets: str):
    for target in targets:
        before = table_checksums(target)
        name = make_url(target).database
        with pytest.raises(BackupError, match=f"^The database {name} on 127.0.0.1:[0-9]+ is not empty "):
            restore(target, path)
        assert table_checksums(target) == before


def test_a_migrated_database_without_rows_is_not_empty(engine, database_url, tmp_path):
    path = tmp_path / "psq.dump"
    dump(database_url, path)
    with pytest.raises(BackupError, match="is not empty"):
        restore(database_url, path)


def test_a_file_that_is_not_a_psq_dump_is_refused(empty_url, tmp_path):
    text = tmp_path / "notes.dump"
    text.write_text("CREATE TABLE x (id int);\n")
    with pytest.raises(BackupError, match="notes.dump is not a psq dump"):
        restore(empty_url, text)
    other = tmp_path / "other.dump"  # a real dump, of a database that is not psq's
    url = make_url(empty_url)
    subprocess.run([str(client_tool("pg_dump", url)), "-Fc", "-f", str(other), "-h", url.host, "-p", str(url.port),
                    "-U", url.username, url.database], check=True, env={**os.environ, "PGPASSWORD": url.password})
    with pytest.raises(BackupError, match="other.dump is a PostgreSQL dump but not of a psq database"):
        restore(empty_url, other)
    with pytest.raises(BackupError, match="missing.dump is not a file"):
        restore(empty_url, tmp_path / "missing.dump")
    assert tables_in(empty_url) == 0


def test_a_restore_that_fails_half_way_leaves_the_database_empty(engine, database_url, empty_url, tmp_path):
    create_user(engine, CHIEF, "admin", PASSWORD)
    path = tmp_path / "psq.dump"
    dump(database_url, path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])  # the table of contents (the schema) comes first and is whole; the data is cut
    # The schema is created, then the data runs out: the one transaction is rolled back.
    failed = r"^pg_restore failed on the database psq_restore_test_\d+ on [0-9.:]+ \(nothing was restored\): could not"
    with pytest.raises(BackupError, match=failed + " read from input file: end of file$"):
        restore(empty_url, path)
    assert tables_in(empty_url) == 0


# -- the command line ---------------------------------------------------------------------------
def test_the_commands_dump_and_restore(engine, psq, empty_url, tmp_path):
    create_user(engine, CHIEF, "admin", PASSWORD)
    path = tmp_path / "psq.dump"
    dumped = psq("db", "dump", path)
    assert dumped.exit_code == 0, dumped.output
    first, *tables = dumped.output.splitlines()
    assert first.startswith("Dumped the database psq_test_") and f"to {path}: " in first
    assert any(line.split() == ["app_user", "1"] for line in tables), dumped.output
    assert tables[-1].endswith("empty tables.")

    restored = psq("db", "restore", path, "--into", empty_url)
    assert restored.exit_code == 0, restored.output
    assert restored.output.startswith(f"Restored {path} into the database psq_restore_test_")
    with engine_on(empty_url) as restored_engine:
        assert authenticate(restored_engine, CHIEF, PASSWORD).email == CHIEF

    refused = psq("db", "restore", path)  # the current database: the test database, not empty
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: The database psq_test_") and len(refused.output.splitlines()) == 1
