"""Schema migrations with Alembic; the revisions live in sql/migrations/."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from geo.db.engine import app_password
from geo.db.unit_of_work import APP_ROLE, connection, transaction
from geo.problems.categories import sync_categories
from geo.settings import SQL_DIR

MIGRATIONS_DIR = SQL_DIR / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with connection(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (before, after).

    Idempotent: on an up-to-date database it changes nothing.
    """
    before = current_revision(engine)
    config = alembic_config()
    with transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        # Reference data kept in files, not in migrations: brought in step each time.
        sync_categories(conn)
        ensure_app_role(conn)
    return before, head_revision()


def ensure_app_role(conn) -> None:
    """Make the web app's role ready on this server and database: what no migration file or dump can carry.

    Roles belong to the server, not to a database: migration 0006 creates ``psq_app``
    on the server it first runs on, but a dump restored on another server finds none
    (geo/db/backup.py calls this before ``pg_restore``, whose grants name the role).
    Its password is kept out of the migrations and dumps; its settings (``jit = off``,
    migration 0007) and the right to connect to this database are not in a dump either.
    Idempotent.
    """
    conn.execute(sa.text(f"""
        DO $$ BEGIN
            CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
        EXCEPTION WHEN duplicate_object THEN NULL;
        END $$;
        DO $$ BEGIN
            EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO {APP_ROLE}', current_database());
        END $$;
        ALTER ROLE {APP_ROLE} SET jit = off"""))
    conn.execute(sa.text(f"ALTER ROLE {APP_ROLE} LOGIN PASSWORD " + _literal(conn, app_password())))


def _literal(conn, text: str) -> str:
    """``text`` as a quoted SQL literal (ALTER ROLE takes no bind parameter)."""
    return conn.execute(sa.text("SELECT quote_literal(:t)"), {"t": text}).scalar_one()
