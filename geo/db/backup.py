"""Backups of a psq database: ``pg_dump`` in its custom format, restored into an empty database in one transaction.

A dump holds the whole database: schema, data (geometries, sector history, users and
their password hashes, the audit log), row-level security policies and grants. Roles
belong to the server, not to a database, so a dump holds none: :func:`restore` creates
the web app's role first when the target server lacks it
(:func:`geo.db.migrations.ensure_app_role`). The client tools are those of the server's
own major version (``/usr/lib/postgresql/<major>/bin``, else the ones on ``PATH`` if
they are as new); the password goes through ``PGPASSWORD``, never on a command line.

:func:`table_checksums` gives, for every table, its number of rows and an md5 of its
rows in primary key order (geometries as EWKB hex): two databases with the same
checksums hold the same data.

Examples
--------
>>> checksums = table_checksums(engine)
>>> checksums["occurrence"]
(0, 'd41d8cd98f00b204e9800998ecf8427e')
>>> checksums["alembic_version"][0]
1
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, Connection, Engine, make_url

from geo.db.audit import audit
from geo.db.engine import create_engine, normalize_url
from geo.db.migrations import ensure_app_role
from geo.errors import PsqError

#: What :func:`table_checksums` gives for each table: (rows, md5 of the rows in primary key order).
Checksums = dict[str, tuple[int, str]]


class BackupError(PsqError, RuntimeError):
    """A dump or restore that cannot be done (target not empty, not a dump, a tool missing or failing)."""


@dataclasses.dataclass(frozen=True)
class Backup:
    """What a dump or a restore did: the database (named without its password), the file, the tables."""

    database: str
    file: Path
    size: int
    seconds: float
    tables: Checksums

    @property
    def rows(self) -> int:
        return sum(rows for rows, _ in self.tables.values())


# -- the two operations ------------------------------------------------------------
def dump(url: str, path: Path) -> Backup:
    """Write the whole database at ``url`` to ``path`` (pg_dump's custom format).

    The dump is first recorded in the audit log (``db.dump``), so that it holds its own
    entry. The checksums returned are those of the very snapshot dumped (exported to
    ``pg_dump``), whatever is written meanwhile. The file appears only once complete.
    """
    url, path = _url(url), Path(path)
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            size, tables = conn.execute(sa.text(
                "SELECT pg_database_size(current_database()), "
                "(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')")).one()
            audit(conn, "db.dump", target=path.name, details={"database_size": size, "tables": tables})
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            partial = path.with_name(path.name + ".part")
            started = time.perf_counter()
            try:
                _run(url, "pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(partial), "-d", _conninfo(url))
            except BackupError:
                partial.unlink(missing_ok=True)
                raise
            seconds = time.perf_counter() - started
            os.replace(partial, path)
            checksums = _checksums(conn)
    finally:
        engine.dispose()
    return Backup(describe(url), path, path.stat().st_size, seconds, checksums)


def restore(url: str, path: Path) -> Backup:
    """Restore the dump at ``path`` into the empty database at ``url``, in one transaction.

    Refused, changing nothing, when the database is not empty or the file is not a psq
    dump; a restore that fails half way leaves the database as empty as it was. The
    objects belong to the user of ``url`` (``--no-owner``: the dumped owner may not exist
    on this server). The checksums returned are those of the restored tables, before
    ``db.restore`` is appended to the restored audit log.
    """
    url, path = _url(url), Path(path)
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        _check_empty(engine, url)
        _check_dump(url, path)
        with engine.begin() as conn:
            ensure_app_role(conn)
        started = time.perf_counter()
        _run(url, "pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
             "-d", _conninfo(url), str(path))
        seconds = time.perf_counter() - started
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))  # planner statistics are not in a dump
            checksums = _checksums(conn)
            audit(conn, "db.restore", target=path.name, details={"size": path.stat().st_size, "tables": len(checksums),
                                              "rows": sum(rows for rows, _ in checksums.values())})
    finally:
        engine.dispose()
    return Backup(describe(url), path, path.stat().st_size, seconds, checksums)


# -- checksums -------------------------------------------------------------------
def table_checksums(bind: str | Engine | Connection) -> Checksums:
    """``{table: (rows, md5 of its rows in primary key order)}`` for every table of schema public.

    ``bind``: a URL, an engine or a connection. Geometries are hashed as EWKB hex; text
    keys are ordered byte-wise and times written in UTC, so that two servers with other
    collations or time zones give the same checksums for the same data. The tables of
    extensions (PostGIS's spatial_ref_sys) are left out: they come with the extension.
    """
    if isinstance(bind, str):
        engine = create_engine(_url(bind).render_as_string(hide_password=False))
        try:
            return table_checksums(engine)
        finally:
            engine.dispose()
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return _checksums(conn)
    return _checksums(bind)


_COLUMNS = sa.text("""
    SELECT c.relname, quote_ident(c.relname), quote_ident(a.attname), t.typname = 'geometry',
           a.attcollation <> 0, array_position(i.indkey::int2[], a.attnum)
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
    WHERE c.relkind = 'r' AND NOT EXISTS (
        SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY c.relname, a.attnum""")


def _checksums(conn: Connection) -> Checksums:
    # Settings of this transaction only: the text of a row must not depend on the server's defaults.
    conn.execute(sa.text("SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO', true), "
                         "set_config('extra_float_digits', '1', true), set_config('IntervalStyle', 'iso_8601', true)"))
    tables: dict[str, list] = {}
    for table, *column in conn.execute(_COLUMNS):
        tables.setdefault(table, []).append(column)
    result = {}
    for table, columns in tables.items():
        rows, md5 = conn.execute(sa.text(_checksum_query(columns))).one()
        result[table] = (rows, md5)
    return result


def _checksum_query(columns: list) -> str:
    """The query of one table's (rows, md5); ``columns``: (table, column, is geometry, collatable, pk position)."""
    table = columns[0][0]
    select = ", ".join(f"encode(ST_AsEWKB({name}), 'hex') AS {name}" if geometry else name
                       for _, name, geometry, _, _ in columns)
    key = sorted((position, name, collatable) for _, name, _, collatable, position in columns if position)
    order = ", ".join(f'r.{name} COLLATE "C"' if collatable else f"r.{name}" for _, name, collatable in key)
    order = order or 'r::text COLLATE "C"'  # no primary key: the whole row is the key
    return (f"SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY {order}), '')) "
            f"FROM (SELECT {select} FROM public.{table}) r")


# -- checks before a restore ----------------------------------------------------------
def _check_empty(engine: Engine, url: URL) -> None:
    with engine.connect() as conn:
        tables = conn.execute(sa.text("""
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND (n.nspname = 'public' OR c.relname = 'alembic_version')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')""")).scalar_one()
    if tables:
        raise BackupError(f"The {describe(url)} is not empty ({tables} tables): psq restores only into an empty "
                          "database, so create one and give its URL with --into.")


def _check_dump(url: URL, path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    listing = subprocess.run([str(client_tool("pg_restore", url)), "--list", str(path)],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a psq dump (pg_restore cannot read it): give a file written by "
                          "`psq db dump`.")
    if not re.search(r" TABLE public alembic_version ", listing.stdout):
        raise BackupError(f"{path} is a PostgreSQL dump but not of a psq database (it has no alembic_version "
                          "table).")


# -- the client tools ------------------------------------------------------------------
def client_tool(name: str, url: URL) -> Path:
    """``pg_dump`` or ``pg_restore`` of the server's major version, or of a newer one.

    Looks in Debian's ``/usr/lib/postgresql/<major>/bin``, then ``PSQ_PG_BIN``, then ``PATH``.
    """
    major = _server_major(url)
    folders = [Path(f"/usr/lib/postgresql/{major}/bin"), os.environ.get("PSQ_PG_BIN")]
    candidates = [Path(folder) / name for folder in folders if folder] + [shutil.which(name)]
    for candidate in candidates:
        if candidate and Path(candidate).exists() and _tool_major(Path(candidate)) >= major:
            return Path(candidate)
    raise BackupError(f"No {name} of PostgreSQL {major} or newer found (looked in /usr/lib/postgresql/{major}/bin, "
                      f"PSQ_PG_BIN and PATH): install postgresql-client-{major}.")


def _tool_major(tool: Path) -> int:
    # "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    out = subprocess.run([str(tool), "--version"], capture_output=True, text=True).stdout
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found.group(1)) if found else 0


def _server_major(url: URL) -> int:
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()


def _run(url: URL, tool: str, *args: str) -> None:
    command = [str(client_tool(tool, url)), *args]
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        lines = [re.sub(r"^\w+: (error: )?", "", line) for line in result.stderr.splitlines() if line.strip()]
        what = "nothing was restored" if tool == "pg_restore" else "no file was written"
        raise BackupError(f"{tool} failed on the {describe(url)} ({what}): "
                          f"{lines[0] if lines else 'exit status ' + str(result.returncode)}")


# -- URLs ----------------------------------------------------------------------------
def _url(url: str | URL) -> URL:
    return make_url(normalize_url(url)) if isinstance(url, str) else url


def describe(url: str | URL) -> str:
    """The database a URL points at, in words, without its password.

    >>> describe("postgresql://psq:secret@127.0.0.1:5432/psq")
    'database psq on 127.0.0.1:5432'
    """
    url = _url(url)
    return f"database {url.database} on {url.host or 'localhost'}:{url.port or 5432}"


def _conninfo(url: URL) -> str:
    """The libpq connection string of ``url`` without its password (which goes through PGPASSWORD).

    >>> _conninfo(make_url("postgresql+psycopg://u:secret@h:5433/db?sslmode=require"))
    'dbname=db host=h port=5433 user=u sslmode=require'
    """
    options = {key: value for key, value in url.query.items() if isinstance(value, str)}
    return make_conninfo(dbname=url.database, host=url.host, port=url.port, user=url.username, **options)


__all__ = ["Backup", "BackupError", "Checksums", "client_tool", "describe", "dump", "restore", "table_checksums"]
