"""One database connection per request, as the web app's role, with the user's scope set on it.

``get_db()`` (flaskr's pattern) opens the request's connection on first use, as
``psq_app`` (no table of its own, no superuser, no BYPASSRLS: row-level security
applies), begins its transaction and keeps it on ``g``; the teardown commits it, or
rolls it back if the request failed, and closes it. ``apply_scope`` (called by the
login gate once the user is known) sets his scope for the transaction: until then,
and for an anonymous request, the policies show no scoped row at all.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.engine import Connection, Engine

from geo.accounts.users import UserScope
from geo.db import engine as database
from geo.db.unit_of_work import set_scope


def get_engine() -> Engine:
    """The app's engine, logged in as the app's role (created on first use, one per app)."""
    app = current_app._get_current_object()
    engine = app.extensions.get("psq_engine")
    if engine is None:
        url = app.config.get("DATABASE_URL") or database.database_url()
        # Threads of each worker share the pool: room for every thread, and for bursts.
        engine = database.create_engine(database.app_url(url), pool_size=10, max_overflow=30)
        app.extensions["psq_engine"] = engine
    return engine


def get_db() -> Connection:
    """The request's connection, in its transaction (opened on first use)."""
    if "db" not in g:
        conn = get_engine().connect()
        conn.begin()
        g.db = conn
    return g.db


def apply_scope(scope: UserScope | None, user_id: int | None = None) -> None:
    """Set the user's scope on the request's transaction (None: nothing scoped is visible).

    Who (``user_id``) and from where (the client's address) go with it, for the audit
    trigger of every write.
    """
    if scope is None:
        set_scope(get_db(), None, ip=request.remote_addr)
        return
    set_scope(get_db(), scope.role, sector_keys=scope.sector_keys, commune=scope.commune_insee,
              organisation=scope.organisation_id, referent=scope.referent_id, user_id=user_id, ip=request.remote_addr)


def close_db(error: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is None:
        return
    try:
        if error is None and conn.in_transaction():
            conn.commit()
        else:
            conn.rollback()
    finally:
        conn.close()


def init_app(app: Flask) -> None:
    app.extensions.setdefault("psq_engine", None)
    app.teardown_appcontext(close_db)
