"""The embedded cluster: start from nothing, status, stop, and its clear errors."""

from __future__ import annotations

import shutil
import socket
import stat

import psycopg
import pytest
from sqlalchemy.engine import make_url

from geo.db.cluster import EmbeddedCluster


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    home = tmp_path / "psq-home"
    monkeypatch.setenv("PSQ_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PSQ_PORT", raising=False)
    yield home
    cluster = EmbeddedCluster(home)
    cluster.stop()
    shutil.rmtree(cluster.data_dir.parent, ignore_errors=True)


def test_cold_start_gives_a_postgis_database_then_stop(fresh_home, psq_cli):
    result = psq_cli("db", "start")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Database running on 127.0.0.1:")
    cluster = EmbeddedCluster(fresh_home)
    status = cluster.status()
    assert status.running
    url = make_url(status.url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname=url.database) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")
    # Password authentication: no password, no connection.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database, connect_timeout=3)
    assert psq_cli("db", "start").exit_code == 0  # already running: nothing to do
    assert psq_cli("db", "stop").output.strip() == "Database stopped."
    assert not cluster.status().running
    status_result = psq_cli("db", "status")
    assert status_result.exit_code == 3
    assert "stopped" in status_result.output


def test_port_taken_is_a_clear_error(fresh_home, monkeypatch, psq_cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("PSQ_PORT", str(port))
        result = psq_cli("db", "start")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: Port {port} (PSQ_PORT) is already taken on 127.0.0.1: choose another or unset PSQ_PORT "
        "to let psq pick a free one."
    )


def test_unwritable_data_folder_is_a_clear_error(tmp_path, monkeypatch, psq_cli):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv("PSQ_HOME", "/proc/psq-cannot-be-here")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = psq_cli("db", "start")
    assert result.exit_code == 1
    assert result.output.startswith("Error: The data folder /proc/psq-cannot-be-here")
    assert "is not writable" in result.output
    assert "set PSQ_HOME to a writable folder" in result.output


def test_missing_postgis_is_a_clear_error(tmp_path, monkeypatch, fresh_home, psq_cli):
    # A PostgreSQL "99" with no PostGIS beside it.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "postgres").write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 99.1'\n")
    (fake_bin / "postgres").chmod(0o755)
    (fake_bin / "initdb").write_text("#!/bin/sh\nexit 1\n")
    monkeypatch.setenv("PSQ_PG_BIN", str(fake_bin))
    result = psq_cli("db", "start")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: PostGIS is not installed for PostgreSQL 99: run `make setup` as root (it installs "
        "postgresql-99-postgis-3) or `sudo apt-get install postgresql-99-postgis-3`."
    )
    assert not (fresh_home / "data" / "PG_VERSION").exists()


def test_database_url_set_starts_nothing(monkeypatch, psq_cli, tmp_path):
    monkeypatch.setenv("PSQ_HOME", str(tmp_path / "unused"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example/psq")
    result = psq_cli("db", "start")
    assert result.output.strip() == "DATABASE_URL is set: psq uses that server and starts nothing."
    assert not (tmp_path / "unused").exists()
