"""Imports never block readers: a mayor's requests before, during and after a 1,000,000-row import.

DESIGN's ingest budget: "1,000,000 occurrences from CSV into PostGIS, attributed to
sector and commune, indexed: within 3x the raw COPY alone, and never holding a reader
more than a second." Measured in one run, on a database of its own
(``psq_bench_import_latency``, dropped at the end) holding the Belfort demo (communes,
sectors, synthetic data), served by ``psq serve`` (gunicorn) on loopback:

- ``before``: the mayor of Belfort, logged in, asks his commune's page and its map cells
  in turn, one request at a time, each for a period not asked before (so that no kept
  view answers: every request reads the occurrence table);
- ``during``: the same while ``psq load occurrences`` imports 1,000,000 generated rows in
  another process; a watcher samples ``pg_stat_activity`` for any backend of the
  database waiting on a lock, and marks when the import's attribution INSERT runs;
- ``after``: the same once the import has committed;
- the import's time against the raw COPY of the same CSV into an unlogged table of
  text columns, measured in the same run (the ratio the budget names);
- the index maintenance on its own: the same staged million rows inserted into a copy
  of the occurrence table with its indexes kept (what the import does now) and with
  them dropped and built again after (what it did before issue 14, under an ACCESS
  EXCLUSIVE lock).

Run: ``PYTHONPATH=. .venv/bin/python -m bench.import_latency [--rows N]``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bench import load
from bench.ingest import generate_csv, time_raw_copy
from bench.load import ACCOUNTS, MAYOR_COMMUNE, Request, Server, log_in, send
from geo.db import engine as database
from geo.settings import local_today

BENCH_DB = "psq_bench_import_latency"
ROWS = 1_000_000
BASELINE_REQUESTS = 60  # before, and again after
SOURCE = "bench import"
ENDPOINTS = {
    "commune page": "`/commune/90010?du=&au=` (HTML)",
    "commune cells": "`/api/communes/90010/cellules?du=&au=` (GeoJSON)",
}
INSERT_MARK = "INSERT INTO occurrence (source, external_id"  # the import's attribution INSERT


# --- the database -----------------------------------------------------------------

def fresh_database() -> str:
    """``psq_bench_import_latency`` with the demo territory, its synthetic data and the mayor; its URL."""
    return load.fresh_database(BENCH_DB, [ACCOUNTS["mayor"]])


def drop_database() -> None:
    load.drop_database(BENCH_DB)


# --- the mayor's requests -------------------------------------------------------------

def month_text(index: int) -> str:
    """``AAAA-MM`` of a month counted from year 0.

    >>> month_text(2026 * 12 + 10)
    '2026-11'
    """
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile.

    >>> percentile([5, 1, 3, 2, 4], 0.95)
    5
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def mayor_requests(seed: int = 14):
    """Endless page and cells requests of the mayor, each for a whole-month period not asked before."""
    today = local_today()
    now = today.year * 12 + today.month - 1
    periods = [(start, start + length - 1) for start in range(now - 48, now - 1)
               for length in range(1, 13) if start + length - 1 < now]
    random.Random(seed).shuffle(periods)
    for k, (first, last) in enumerate(itertools.cycle(periods)):
        query = f"du={month_text(first)}&au={month_text(last)}"
        if k % 2 == 0:
            yield Request("commune page", f"/commune/{MAYOR_COMMUNE}?{query}")
        else:
            yield Request("commune cells", f"/api/communes/{MAYOR_COMMUNE}/cellules?{query}")


class Watcher(threading.Thread):
    """Samples the database every 50 ms: backends waiting on a lock, and whether the import's INSERT runs."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = database.create_engine(url)
        self.stop = threading.Event()
        self.lock_waits: list[str] = []
        self.insert_seen: list[float] = []

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                rows = conn.execute(sa.text(
                    "SELECT wait_event_type = 'Lock' AS waiting, query LIKE :mark AS inserting, left(query, 80) AS q "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state = 'active'"), {"mark": "%" + INSERT_MARK + "%"}).all()
                conn.rollback()
                now = time.perf_counter()
                self.lock_waits += [r.q for r in rows if r.waiting]
                if any(r.inserting for r in rows):
                    self.insert_seen.append(now)
                time.sleep(0.05)
        self.engine.dispose()


def phase(results: list) -> dict:
    """Count, median, p95 and max latency (ms) of a phase's results, all endpoints together and each apart."""
    def figures(rs):
        times = [r.seconds * 1000 for r in rs]
        return {"count": len(rs), "errors": sum(not r.ok for r in rs), "median_ms": statistics.median(times),
                "p95_ms": percentile(times, 0.95), "max_ms": max(times)} if rs else None

    return {"all": figures(results), **{name: figures([r for r in results if r.endpoint == name])
                                        for name in ENDPOINTS}}


def import_while_reading(url: str, base: str, path: Path, requests_) -> dict:
    """Run ``psq load occurrences`` in another process; the mayor's requests meanwhile, timed."""
    session = log_in(base, "mayor")
    for _ in range(4):  # warm each worker's engine and imports
        send(session, base, next(requests_))
    before = [send(session, base, next(requests_)) for _ in range(BASELINE_REQUESTS)]

    watcher = Watcher(url)
    watcher.start()
    psq = Path(sys.executable).with_name("psq")
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    started = time.perf_counter()
    loader = subprocess.Popen([str(psq), "load", "occurrences", str(path), "--source", SOURCE],
                              env={**os.environ, "DATABASE_URL": url}, stdout=log, stderr=subprocess.STDOUT)
    during: list[tuple[float, object]] = []
    while loader.poll() is None:
        sent = time.perf_counter()
        during.append((sent, send(session, base, next(requests_))))
    import_s = time.perf_counter() - started
    watcher.stop.set()
    watcher.join()
    output = Path(log.name).read_text()
    Path(log.name).unlink(missing_ok=True)
    if loader.returncode != 0:
        raise RuntimeError(f"psq load occurrences failed: {output[-2000:]}")

    after = [send(session, base, next(requests_)) for _ in range(BASELINE_REQUESTS)]
    seen = watcher.insert_seen
    in_insert = [r for sent, r in during if seen and seen[0] <= sent + r.seconds and sent <= seen[-1]]
    return {"import_s": import_s, "import_output": output.strip().splitlines()[-1:],
            "insert_s": (seen[-1] - seen[0]) if seen else 0.0, "lock_waits": watcher.lock_waits,
            "before": phase(before), "during": phase([r for _, r in during]), "during_insert": phase(in_insert),
            "after": phase(after)}


# --- the index maintenance apart --------------------------------------------------------

def index_maintenance(url: str) -> dict:
    """The imported rows inserted again into a copy of ``occurrence``: indexes kept, and dropped then rebuilt."""
    engine = database.create_engine(url)
    columns = ("source, external_id, category_code, occurred_at, geom, description, address, problem_id, "
               "sector_id, commune_insee, csp_id, epci_siren, import_id")
    figures = {}
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE UNLOGGED TABLE staged AS SELECT {columns} FROM occurrence "
                             "WHERE source = :s ORDER BY random()"), {"s": SOURCE})
        conn.commit()
        for way in ("kept", "rebuilt"):
            conn.execute(sa.text("DROP TABLE IF EXISTS occurrence_copy"))
            conn.execute(sa.text("CREATE TABLE occurrence_copy (LIKE occurrence INCLUDING ALL)"))
            conn.commit()
            conn.execute(sa.text("CHECKPOINT"))
            conn.commit()
            started = time.perf_counter()
            indexes = conn.execute(sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'occurrence_copy' "
                "AND indexdef NOT LIKE '%UNIQUE%'")).all()
            if way == "rebuilt":
                conn.execute(sa.text("DROP INDEX " + ", ".join(i.indexname for i in indexes)))
            conn.execute(sa.text(f"INSERT INTO occurrence_copy ({columns}) SELECT {columns} FROM staged "
                                 "ON CONFLICT DO NOTHING"))
            if way == "rebuilt":
                for index in indexes:
                    conn.execute(sa.text(index.indexdef))
            conn.commit()
            figures[way] = time.perf_counter() - started
        conn.execute(sa.text("DROP TABLE occurrence_copy, staged"))
        conn.commit()
    engine.dispose()
    return figures


# --- the run ------------------------------------------------------------------------

def run(rows: int = ROWS) -> dict:
    started = time.perf_counter()
    url = fresh_database()
    server = None
    try:
        engine = database.create_engine(url)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "occurrences.csv"
            generate_csv(path, rows)
            copy_s = time_raw_copy(engine, path)
            with engine.connect() as conn:
                demo_rows = conn.execute(sa.text("SELECT count(*) FROM occurrence")).scalar()
            server = Server(url)
            figures = import_while_reading(url, server.base, path, mayor_requests())
            banner, exceptions = server.banner(), server.exceptions()
        with engine.connect() as conn:
            written = conn.execute(sa.text("SELECT count(*) FROM occurrence WHERE source = :s"), {"s": SOURCE}).scalar()
        engine.dispose()
        server.stop()
        server = None
        maintenance = index_maintenance(url)
    finally:
        if server is not None:
            server.stop()
        drop_database()
    during = figures["during"]["all"]
    return {**figures, "rows": rows, "written": written, "demo_rows": demo_rows, "copy_s": copy_s,
            "ratio_vs_copy": figures["import_s"] / copy_s, "server": banner, "server_exceptions": len(exceptions),
            "index_kept_s": maintenance["kept"], "index_rebuilt_s": maintenance["rebuilt"],
            # "never holding a reader": no lock wait; the latencies show what the shared cores cost besides.
            "budget_holds": not figures["lock_waits"] and during["errors"] == 0,
            "total_s": time.perf_counter() - started}


def markdown(f: dict) -> str:
    def row(label, p):
        return (f"| {label} | {p['count']:,} | {p['median_ms']:.0f} ms | {p['p95_ms']:.0f} ms | {p['max_ms']:.0f} ms | "
                f"{p['errors']} |") if p else f"| {label} | 0 | - | - | - | - |"

    table = ["| the mayor's requests | requests | median | p95 | max | errors |", "|---|---:|---:|---:|---:|---:|",
             row("before the import", f["before"]["all"]), row("during the import", f["during"]["all"]),
             row("during its attribution INSERT", f["during_insert"]["all"]),
             row("after the import", f["after"]["all"])]
    for name, label in ENDPOINTS.items():
        table += [row(f"{label}, before", f["before"][name]), row(f"{label}, during", f["during"][name])]
    waits = len(f["lock_waits"])
    during = f["during"]["all"]
    verdict = (f"Readers' budget holds: no reader waited on a lock at any sample, no error; the mayor's slowest "
               f"request during the import took {during['max_ms']:.0f} ms, the time of sharing the cores with the "
               "import (its Python process and its backend), not of a lock." if f["budget_holds"] else
               f"Readers' budget NOT met: {waits} lock waits seen, {during['errors']} errors, slowest request during "
               f"the import {during['max_ms']:.0f} ms.")
    return "\n".join([
        f"`psq load occurrences` of {f['rows']:,} generated rows ({f['written']:,} written) in another process, "
        f"onto the Belfort demo ({f['demo_rows']:,} occurrences), while the mayor of Belfort, logged in, asks his "
        f"commune's page and its cells in turn, one request at a time, each for a period not asked before (no kept "
        f"view answers) from `psq serve` on loopback ({f['server']}).",
        "",
        *table,
        "",
        f"Backends of the database seen waiting on a lock during the import (sampled every 50 ms): {waits}. "
        f"The attribution INSERT ran {f['insert_s']:.0f} s of the import's {f['import_s']:.0f} s.",
        "",
        f"Import: {f['import_s']:.1f} s against {f['copy_s']:.1f} s for the raw COPY of the same CSV into an unlogged "
        f"table: **{f['ratio_vs_copy']:.1f} x** the COPY (budget 3 x).",
        "",
        f"Index maintenance apart, the same {f['written']:,} rows inserted into a copy of the table: indexes kept "
        f"{f['index_kept_s']:.1f} s, dropped and built again after {f['index_rebuilt_s']:.1f} s "
        f"({f['index_kept_s'] / f['index_rebuilt_s']:.2f} x).",
        "",
        verdict,
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=ROWS)
    figures = run(parser.parse_args().rows)
    print(markdown(figures))
