"""Which database ``psq`` talks to, and the engine that talks to it.

``DATABASE_URL`` wins when set: that server is used and nothing is started.
Otherwise the project's embedded cluster (:mod:`geo.db.cluster`) is used, and started
when needed.
"""

from __future__ import annotations

import os
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from geo.db.cluster import EmbeddedCluster
from geo.db.unit_of_work import APP_ROLE
from geo.settings import PROJECT_ROOT

#: Where the local secrets are kept (the app role's password, the session key) when not given in the environment.
LOCAL_SECRETS = PROJECT_ROOT / ".psq"


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


def local_secret(name: str) -> str:
    """A random secret kept in ``.psq/NAME`` (readable by its owner only), made on first use.

    What every worker process must share (the app role's password, the key signing
    session cookies) cannot be drawn at random in each process.
    """
    path = LOCAL_SECRETS / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # atomic and exclusive: two processes racing end with the same secret
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def app_password() -> str:
    """The password of the web app's role: ``PSQ_APP_PASSWORD``, else a random one kept in ``.psq/app_password``."""
    return os.environ.get("PSQ_APP_PASSWORD") or local_secret("app_password")


def app_url(owner_url: str) -> str:
    """The same database as ``owner_url``, logged in as the web app's role (``psq_app``: row-level security applies).

    >>> app_url("postgresql+psycopg://psq:secret@127.0.0.1:5432/psq").startswith("postgresql+psycopg://psq_app:")
    True
    """
    url = make_url(normalize_url(owner_url)).set(username=APP_ROLE, password=app_password())
    return url.render_as_string(hide_password=False)
