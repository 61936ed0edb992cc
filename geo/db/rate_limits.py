"""A storage of the ``limits`` package in PostgreSQL, so that every gunicorn worker counts the same hits.

Flask-Limiter (web/limits.py) counts failed logins per client address and JSON requests
per user. Its own stores are memory (one count per worker process: 4 workers would allow
4 times the limit), Redis, Memcached or MongoDB, none of which this project runs. The
database every worker already shares holds the counters instead, in the unlogged table
``rate_limit`` (migration 0011): one upsert per counted request, fixed windows only.

The storage registers the scheme ``psq+postgresql`` with ``limits``; its ``engine``
option is a callable returning the SQLAlchemy engine to use (the app's, created lazily).

Examples
--------
>>> from limits import parse
>>> from limits.strategies import FixedWindowRateLimiter
>>> storage = PostgresStorage("psq+postgresql://", engine=lambda: engine)
>>> limiter = FixedWindowRateLimiter(storage)
>>> [limiter.hit(parse("2/minute"), "login", "10.0.0.1") for _ in range(3)]
[True, True, False]
>>> limiter.hit(parse("2/minute"), "login", "10.0.0.2")
True
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

#: Counters whose window ended this long ago are deleted, now and then.
PURGE_AFTER_S = 3600
PURGE_EVERY = 500

_INCR = sa.text("""
    INSERT INTO rate_limit AS r (key, hits, expires_at)
    VALUES (:key, :amount, clock_timestamp() + make_interval(secs => :expiry))
    ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN r.expires_at <= clock_timestamp() THEN :amount ELSE r.hits + :amount END,
        expires_at = CASE WHEN r.expires_at <= clock_timestamp() THEN excluded.expires_at ELSE r.expires_at END
    RETURNING hits""")


class PostgresStorage(Storage):
    """Fixed-window counters in the table ``rate_limit``, each call one short transaction of its own."""

    STORAGE_SCHEME = ["psq+postgresql"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 engine: Callable[[], Engine] | None = None, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if engine is None:
            raise ValueError("PostgresStorage needs engine=, a callable returning the SQLAlchemy engine.")
        self._engine = engine
        self._calls = 0

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def _run(self, statement, **params):
        with self._engine().begin() as conn:
            return conn.execute(statement if isinstance(statement, sa.TextClause) else sa.text(statement), params)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self._calls += 1
        if self._calls % PURGE_EVERY == 0:
            self._run("DELETE FROM rate_limit WHERE expires_at < clock_timestamp() - make_interval(secs => :s)",
                      s=PURGE_AFTER_S)
        return self._run(_INCR, key=key, amount=amount, expiry=float(expiry)).scalar_one()

    def get(self, key: str) -> int:
        hits = self._run("SELECT hits FROM rate_limit WHERE key = :key AND expires_at > clock_timestamp()",
                         key=key).scalar()
        return hits or 0

    def get_expiry(self, key: str) -> float:
        ends = self._run("SELECT extract(epoch FROM expires_at) FROM rate_limit WHERE key = :key "
                         "AND expires_at > clock_timestamp()", key=key).scalar()
        return float(ends) if ends is not None else time.time()

    def check(self) -> bool:
        try:
            self._run("SELECT 1")
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        return self._run("DELETE FROM rate_limit").rowcount

    def clear(self, key: str) -> None:
        self._run("DELETE FROM rate_limit WHERE key = :key", key=key)


__all__ = ["PostgresStorage"]
