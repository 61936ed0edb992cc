"""``psq db``: the database (the embedded cluster under .psq/ unless DATABASE_URL is set)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from web.cli.common import engine, user_errors


# -- database ----------------------------------------------------------------
@click.group()
def db():
    """Manage the database (the embedded cluster under .psq/ unless DATABASE_URL is set)."""


@db.command("start")
@user_errors
def db_start():
    """Start the embedded PostgreSQL + PostGIS cluster (initialising it the first time)."""
    from geo.db import engine as database
    from geo.db.cluster import EmbeddedCluster

    if database.external_url():
        click.echo("DATABASE_URL is set: psq uses that server and starts nothing.")
        return
    cluster = EmbeddedCluster.for_project()
    cluster.start()
    status = cluster.status()
    click.echo(f"Database running on 127.0.0.1:{status.port} (data in {status.data_dir}).")


@db.command("stop")
@user_errors
def db_stop():
    """Stop the embedded cluster."""
    from geo.db import engine as database
    from geo.db.cluster import EmbeddedCluster

    if database.external_url():
        click.echo("DATABASE_URL is set: psq did not start that server and will not stop it.")
        return
    stopped = EmbeddedCluster.for_project().stop()
    click.echo("Database stopped." if stopped else "Database was not running.")


@db.command("status")
@user_errors
def db_status():
    """Say whether the database is running, where, and its schema revision."""
    from geo.db import engine as database
    from geo.db.cluster import EmbeddedCluster
    from geo.db.migrations import current_revision, head_revision

    if database.external_url():
        click.echo("Using DATABASE_URL.")
        url = database.external_url()
    else:
        status = EmbeddedCluster.for_project().status()
        click.echo(f"Embedded cluster: {'running on 127.0.0.1:' + str(status.port) if status.running else 'stopped'}"
                   f"; data in {status.data_dir}; log {status.log_file}.")
        if not status.running:
            sys.exit(3)
        url = status.url
    revision = current_revision(database.create_engine(url))
    click.echo(f"Schema revision {revision or 'none'} (newest: {head_revision()}).")


@db.command("url")
@user_errors
def db_url():
    """Print the SQLAlchemy URL of the database (starting the embedded cluster if needed)."""
    from geo.db import engine as database

    click.echo(database.database_url())


@db.command("migrate")
@user_errors
def db_migrate():
    """Apply the schema migrations (idempotent)."""
    from geo.db.migrations import migrate

    before, after = migrate(engine())
    click.echo(f"Schema at revision {after}" + (" (already up to date)." if before == after else f" (was {before})."))


@db.command("dump")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@user_errors
def db_dump(file):
    """Write the whole database (schema, data, row-level security, grants) to FILE (pg_dump's custom format)."""
    from geo.db import engine as database
    from geo.db.backup import dump

    done = dump(database.database_url(), file)
    click.echo(f"Dumped the {done.database} to {file}: {_size(done.size)} in {done.seconds:.1f} s, "
               f"{len(done.tables)} tables, {done.rows:,} rows.")
    _echo_tables(done.tables)


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "url", metavar="URL",
              help="URL of the empty database to restore into (default: the current database, which must be empty).")
@user_errors
def db_restore(file, url):
    """Restore a dump written by `psq db dump` into an empty database, in one transaction."""
    from geo.db import engine as database
    from geo.db.backup import restore

    done = restore(url or database.database_url(), file)
    click.echo(f"Restored {file} into the {done.database} in {done.seconds:.1f} s: "
               f"{len(done.tables)} tables, {done.rows:,} rows.")
    _echo_tables(done.tables)


def _echo_tables(tables: dict) -> None:
    """The rows of each table that has some, then how many are empty."""
    for table, (rows, _) in sorted(tables.items()):
        if rows:
            click.echo(f"  {table:<24} {rows:>10,}")
    empty = sum(1 for rows, _ in tables.values() if not rows)
    if empty:
        click.echo(f"  and {empty} empty tables.")


def _size(size: int) -> str:
    """A file size in words.

    >>> _size(1_234_567), _size(900)
    ('1.2 MB', '900 bytes')
    """
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
