"""Which database ``psq`` talks to, and the engine that talks to it.

``DATABASE_URL`` wins when set: that server is used and nothing is started.
Otherwise the project's embedded cluster (:mod:`geo.db.cluster`) is used, and started
when needed.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from geo.db.cluster import EmbeddedCluster


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the URL was written with.

    >>> normalize_url("postgres://u:p@h/db")
    'postgresql+psycopg://u:p@h/db'
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def external_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    return normalize_url(url) if url else None


def database_url(start: bool = True) -> str:
    """The URL of the database to use, starting the embedded cluster if allowed."""
    url = external_url()
    if url:
        return url
    cluster = EmbeddedCluster.for_project()
    status = cluster.status()
    if status.running:
        return status.url
    if not start:
        raise RuntimeError("The project's database is not running: start it with `psq db start`.")
    return cluster.start()


def create_engine(url: str | None = None, **pool) -> Engine:
    """An engine on ``url`` (default: the environment's or the embedded cluster's); ``pool``: pool settings."""
    return sa.create_engine(url or database_url(), pool_pre_ping=True, future=True, **pool)


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)
