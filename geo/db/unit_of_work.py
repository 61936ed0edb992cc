"""One connection per request or command, the user's scope set on it for row-level security.

Every function of geo/ that reads or writes takes a *bind*: an Engine (the command
line, the loaders, the tests) or a Connection (the web app's one connection per
request, opened by :func:`web.db.get_db`). :func:`connection` and :func:`transaction`
make both work the same way, as geopandas' ``_get_conn`` does: on an Engine they
open (and close) a connection of their own; on a Connection they use it, and a write
becomes a savepoint of the request's transaction, so that a refused write undoes its
own part and nothing else.

:func:`set_scope` writes the user's scope into the transaction's settings
(``set_config(..., true)``: they end with the transaction). The row-level security
policies of migration 0006 test every row against them; with no scope set, the app's
role sees no scoped row (fail closed). Loaders and migrations connect as the owner,
which the policies do not restrict.

Examples
--------
>>> with engine.connect() as conn:
...     conn.execute(sa.text("SELECT 1")).scalar()
1
>>> with engine.connect() as conn, connection(conn) as same:
...     same is conn
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

#: The role of the web app: owns nothing, not superuser, no BYPASSRLS (migration 0006).
APP_ROLE = "psq_app"


@contextlib.contextmanager
def connection(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection to read with: ``bind`` itself if it is one, else a new one closed afterwards."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn


@contextlib.contextmanager
def transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection in a transaction that commits at the end of the block, or rolls back on an error.

    On a Connection already in a transaction (the web request's), a savepoint.
    """
    if isinstance(bind, Connection):
        if bind.in_transaction():
            with bind.begin_nested():
                yield bind
        else:
            with bind.begin():
                yield bind
        return
    with bind.begin() as conn:
        yield conn


def set_scope(conn: Connection, role: str | None, *, sector_keys: tuple[str, ...] = (),
              commune: str | None = None, organisation: int | None = None, referent: int | None = None,
              user_id: int | None = None, ip: str | None = None) -> None:
    """Set the user's scope for the rest of the transaction (what the policies of migration 0006 read).

    ``sector_keys``: ``'csp_id:code'`` of a chief's sectors; every version of those
    sectors is allowed (``psq.sector_ids``). ``role`` None: no scope, nothing visible.
    ``organisation``: a partner's organisation (``psq.organisation``, migration 0012).
    ``referent``: a référent's record (``psq.referent``, migration 0013).
    ``user_id`` and ``ip``: who acts and from where, for the audit trigger of every write
    (migration 0011).
    """
    # One round trip per request: the sector versions are looked up inside the same statement.
    conn.execute(sa.text(
        "SELECT set_config('psq.role', :role, true), set_config('psq.commune', :commune, true), "
        "set_config('psq.user_id', :user_id, true), set_config('psq.ip', :ip, true), "
        "set_config('psq.organisation', :organisation, true), set_config('psq.referent', :referent, true), "
        "set_config('psq.sector_ids', coalesce((SELECT string_agg(id::text, ',' ORDER BY id) FROM sector "
        "WHERE (csp_id || ':' || code) = ANY(CAST(:keys AS text[]))), ''), true)"),
        {"role": role or "", "commune": commune or "", "keys": list(sector_keys),
         "user_id": "" if user_id is None else str(user_id), "ip": ip or "",
         "organisation": "" if organisation is None else str(organisation),
         "referent": "" if referent is None else str(referent)})


__all__ = ["APP_ROLE", "connection", "set_scope", "transaction"]
