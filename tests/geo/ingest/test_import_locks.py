"""Imports never hold a reader (issue 14, item 6): no lock stronger than ROW EXCLUSIVE, one transaction,
a lock_timeout so that an import waits for a stronger lock rather than queue for ever.

The import is real (150,000 rows, more than the old bulk path's 100,000, which dropped and rebuilt the
indexes inside its transaction and so locked the mayor's page out for the rest of it). The reader is the
web app's role with a mayor's scope, asking the atoms of his map, with ``lock_timeout = 1s``: had it waited
on a lock for more than a second, its query would fail; besides, every backend of the test database is
watched for any lock wait at all.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import sqlalchemy as sa

from geo.db import engine as database
from geo.db.queries import named_query
from geo.db.unit_of_work import set_scope
from geo.ingest.occurrences import ImportLockedError, load_occurrences
from geo.problems.categories import categories
from geo.settings import LOCAL_TZ

ROWS = 150_000
MAYOR_COMMUNE = "90010"  # Belfort
ATTRIBUTION = "INSERT INTO occurrence (source, external_id"  # the big INSERT of occurrence_attribute_insert.sql


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """``ROWS`` occurrences in Lambert-93 over the CSP Belfort and around, over 2023-2024, written by Arrow."""
    rng = np.random.default_rng(14)
    codes = np.array([c.code for c in categories()])
    start = np.datetime64("2023-01-01T00:00")
    when = start + rng.integers(0, 2 * 365 * 24 * 60, ROWS).astype("timedelta64[m]")
    table = pa.table({
        "id": pa.array(np.char.add("k", np.arange(ROWS).astype(str))),
        "category": pa.array(codes[rng.integers(0, len(codes), ROWS)]),
        "x": pa.array(np.round(rng.uniform(983_000, 1_000_000, ROWS), 1)),
        "y": pa.array(np.round(rng.uniform(6_722_000, 6_740_000, ROWS), 1)),
        "occurred_at": pa.array(np.datetime_as_string(when, unit="m")),
    })
    path = tmp_path_factory.mktemp("locks") / "faits.csv"
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return path


@pytest.fixture
def app_engine(database_url):
    eng = database.create_engine(database.app_url(database_url))
    yield eng
    eng.dispose()


def mayor_reads(app_engine) -> int:
    """One read of the mayor's map atoms, as the app does it; waits at most 1 s for a lock, else fails."""
    with app_engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('lock_timeout', '1s', true)"))
        set_scope(conn, "maire", commune=MAYOR_COMMUNE)
        rows = conn.execute(named_query("commune_cell_months"), {
            "insee": MAYOR_COMMUNE, "first": dt.date(2023, 1, 1), "stop": dt.date(2025, 1, 1),
            "size": 200.0, "tz": LOCAL_TZ}).all()
    return sum(r.n for r in rows)


def lock_waits(engine) -> list[str]:
    """The backends of this database waiting on a lock now, with what they run."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT a.pid || ': ' || left(a.query, 60) FROM pg_stat_activity a "
            "WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'")).scalars())


def attribution_backends(engine) -> list[int]:
    """The backends of this database running an import's big INSERT now."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
            "AND query LIKE :q"), {"q": "%" + ATTRIBUTION + "%"}).scalars())


def occurrences(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM occurrence")).scalar()


@dataclass
class Watch:
    """What a reader and a watcher saw while an import ran beside them."""

    reads: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, total seen)
    errors: list[str] = field(default_factory=list)
    waits: list[str] = field(default_factory=list)
    attribution_seen: list[float] = field(default_factory=list)  # times the big INSERT was running
    stop: threading.Event = field(default_factory=threading.Event)

    def read_until_stopped(self, app_engine) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                total = mayor_reads(app_engine)
            except sa.exc.DBAPIError as error:
                self.errors.append(str(error.orig))
            else:
                self.reads.append((started, time.perf_counter(), total))
            time.sleep(0.05)

    def watch_until_stopped(self, engine) -> None:
        while not self.stop.is_set():
            self.waits += lock_waits(engine)
            if attribution_backends(engine):
                self.attribution_seen.append(time.perf_counter())
            time.sleep(0.05)


def test_a_mayor_reads_his_map_while_a_large_import_runs(engine, territory, app_engine, big_csv):
    watch = Watch()
    threads = [threading.Thread(target=watch.read_until_stopped, args=(app_engine,)),
               threading.Thread(target=watch.watch_until_stopped, args=(engine,))]
    for thread in threads:
        thread.start()
    try:
        report = load_occurrences(engine, big_csv, source="gros import")
    finally:
        watch.stop.set()
        for thread in threads:
            thread.join()

    assert (report.read, report.written, report.rejected) == (ROWS, ROWS, 0)
    assert occurrences(engine) == ROWS
    assert watch.errors == [] and watch.waits == []
    # The reads overlapped the import's big INSERT (where the old bulk path held its ACCESS EXCLUSIVE lock).
    assert watch.attribution_seen, "the watcher never saw the attribution INSERT run"
    first, last = watch.attribution_seen[0], watch.attribution_seen[-1]
    during = [r for r in watch.reads if first <= r[1] and r[0] <= last]
    assert len(during) >= 3
    # One transaction: a reader sees none of the import's rows, then all of them.
    assert {total for _, _, total in during} == {0}
    assert mayor_reads(app_engine) > 0
    slowest = max(end - start for start, end, _ in watch.reads)
    print(f"{len(watch.reads)} reads of the mayor's map, {len(during)} during the INSERT; slowest {slowest:.2f} s")


def test_an_import_killed_in_its_transaction_leaves_nothing_and_holds_no_reader(
        database_url, engine, territory, app_engine, big_csv):
    before = occurrences(engine)
    psq = Path(sys.executable).with_name("psq")
    loader = subprocess.Popen([str(psq), "load", "occurrences", str(big_csv)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              env={**os.environ, "DATABASE_URL": database_url})
    try:
        deadline = time.monotonic() + 60
        while not (backends := attribution_backends(engine)):
            assert loader.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "the import never reached its INSERT"
            time.sleep(0.1)
        time.sleep(0.5)  # well inside the INSERT
    finally:
        loader.send_signal(signal.SIGKILL)
        loader.wait()

    assert mayor_reads(app_engine) == 0  # at once, waiting at most 1 s for a lock: none held it
    # The orphaned backend checks its client every second (client_connection_check_interval): it ends soon.
    deadline = time.monotonic() + 15
    while True:
        with engine.connect() as conn:
            left = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                {"pids": backends}).scalar()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == 0, "the killed import's backend is still running"
    with engine.connect() as conn:
        held = conn.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE relation = 'occurrence'::regclass AND pid <> pg_backend_pid()")).scalar()
        batches = conn.execute(sa.text("SELECT count(*) FROM import_batch WHERE kind = 'occurrences'")).scalar()
    assert (occurrences(engine), held, batches) == (before, 0, 0)


def test_an_import_that_cannot_get_its_lock_stops_and_writes_nothing(engine, territory, app_engine, tmp_path):
    path = tmp_path / "petit.csv"
    path.write_text("id,category,lat,lon,occurred_at\n1,rodeos,47.6389,6.8631,2024-05-04 22:15\n")
    outcome: list[BaseException] = []

    def run_import() -> None:
        try:
            load_occurrences(engine, path)
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            outcome.append(error)

    with engine.connect() as holder:
        holder.begin()
        holder.execute(sa.text("LOCK TABLE occurrence IN SHARE ROW EXCLUSIVE MODE"))  # a migration, say
        importer = threading.Thread(target=run_import)
        importer.start()
        deadline = time.monotonic() + 30
        while not lock_waits(engine):
            assert importer.is_alive() and time.monotonic() < deadline, f"the import did not wait: {outcome}"
            time.sleep(0.05)
        # The import waits in the lock queue, and the mayor's reads pass it by.
        assert mayor_reads(app_engine) == 0
        importer.join()
        holder.rollback()

    assert len(outcome) == 1 and isinstance(outcome[0], ImportLockedError)
    assert str(outcome[0]) == "The occurrence table is locked by another session; try again (nothing was written)."
    with engine.connect() as conn:
        batches = conn.execute(sa.text("SELECT count(*) FROM import_batch")).scalar()
    assert (occurrences(engine), batches) == (0, 0)
    assert load_occurrences(engine, path).written == 1  # the lock gone, the same import passes
