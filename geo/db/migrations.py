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
        # The app's role logs in with a password kept out of the migrations (migration 0006 creates it).
        conn.execute(sa.text(f"ALTER ROLE {APP_ROLE} LOGIN PASSWORD " + _literal(conn, app_password())))
    return before, head_revision()


def _literal(conn, text: str) -> str:
    """``text`` as a quoted SQL literal (ALTER ROLE takes no bind parameter)."""
    return conn.execute(sa.text("SELECT quote_literal(:t)"), {"t": text}).scalar_one()
