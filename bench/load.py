"""Load benchmark: the pages and map endpoints under 1, 8 and 32 concurrent clients on loopback.

DESIGN's budget: "a GeoJSON or vector-tile endpoint answers a view in milliseconds;
under a load of 32 concurrent clients on loopback, no error". Measured in one run, on a
database of its own (``psq_bench_load``, dropped at the end) holding the Belfort demo
(communes, sectors, synthetic data; the real accidents are left out), served by
``psq serve`` itself (gunicorn: worker processes from the cores, threads inside each):

- ``single view``: one logged-in client asks the JSON cells of a sector view, then one
  vector tile, 30 times each (median): the answer time of one view;
- ``1 client``: one client at a time plays the mix below, request after request;
- ``8 clients`` and ``32 clients``: that many clients, each with its own session (chiefs,
  mayors and an admin in turn), play the same mix at once, after a common start.

DESIGN's serving budget: with 8 and with 32 concurrent clients, at least 1.5 x the
throughput of one client on 2 cores, no error, the sector page's p95 under 32 clients
at most 1 s.

The mix: a chief (or the admin) opens the sector page, its cells for the view and for a
panned view, and vector tiles of zoom 14 and 15 over the sector; a mayor opens his
commune's page, its cells for two periods, and asks another commune's cells, which must
be refused (403 is the right answer there, not an error). An error is any other status
(redirects included: a lost session sends to the login page) or a failed request; the
server's own exceptions are caught from the app's log.

Run: ``.venv/bin/python -m bench.load [--clients N] [--requests N]``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import psycopg
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from geo.accounts.users import create_user
from geo.db import engine as database
from geo.db.migrations import migrate
from geo.demo.loader import COMMUNES_FILE, SECTORS_FILE, SECTORS_VALID_FROM, SEED, SYNTHETIC_SOURCE
from geo.demo.synthetic import generate
from geo.ingest.communes import load_communes
from geo.ingest.occurrences import CANONICAL, write_occurrences
from geo.ingest.problems import write_problems
from geo.ingest.sectors import load_sectors
from geo.settings import local_today

BENCH_DB = "psq_bench_load"
CLIENTS = 32
LEVELS = (8, 32)  # concurrent clients, each against 1 client
REQUESTS = 50  # per client
SINGLE_VIEW_REPEATS = 30
PASSWORD = "bench-load-password"
CSP = "CSP Belfort"
MAYOR_COMMUNE, OTHER_COMMUNE = "90010", "90011"
ACCOUNTS = {  # role in the mix: (email, role, scope, sector the client opens)
    "chief": ("chef.bench@psq.test", "chef_secteur", {"sectors": ("BEL-CENTRE", "BEL-GLACIS")}, "BEL-CENTRE"),
    "mayor": ("maire.bench@psq.test", "maire", {"commune": MAYOR_COMMUNE}, None),
    "admin": ("admin.bench@psq.test", "admin", {}, "BEL-GLACIS"),
}
ROTATION = ("chief", "mayor", "admin", "mayor")  # client i plays ROTATION[i % 4]
TILE_ZOOMS = (14, 15)
ENDPOINTS = {  # label: description, in the order of the tables
    "sector page": "`/secteur/<csp>/<code>` (HTML, statistics computed)",
    "sector cells": "`/api/secteurs/<csp>/<code>/cellules?bbox=` (GeoJSON)",
    "sector tile": "`/api/secteurs/<csp>/<code>/tuiles/{z}/{x}/{y}.mvt` (z 14-15)",
    "commune page": "`/commune/90010` (HTML)",
    "commune cells": "`/api/communes/90010/cellules` (GeoJSON)",
    "forbidden": "`/api/communes/90011/cellules` as that mayor (403 expected)",
}


@dataclass(frozen=True)
class Request:
    endpoint: str  # a key of ENDPOINTS
    path: str
    expected: int = 200


# --- the database -----------------------------------------------------------------

def _server_conninfo() -> dict:
    server = make_url(database.database_url())
    return dict(host=server.host, port=server.port, user=server.username, password=server.password,
                dbname="postgres")


def fresh_database(name: str = BENCH_DB, accounts=None) -> str:
    """Create the database ``name`` with the demo territory, its synthetic data and the accounts (default:
    every one of ``ACCOUNTS``); its URL."""
    with psycopg.connect(**_server_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database.with_database(database.database_url(), name)
    engine = database.create_engine(url)
    migrate(engine)
    load_communes(engine, "90")
    load_sectors(engine, SECTORS_FILE, valid_from=SECTORS_VALID_FROM)
    load_synthetic(engine)
    for email, role, scope, _ in (ACCOUNTS.values() if accounts is None else accounts):
        create_user(engine, email, role, PASSWORD, **scope)
    engine.dispose()
    return url


def load_synthetic(engine: sa.engine.Engine) -> None:
    """The demo's synthetic problems and occurrences (as ``geo.demo.loader.load_synthetic``, without
    rewriting data/demo/planted.json)."""
    demo = generate(gpd.read_file(COMMUNES_FILE), gpd.read_file(SECTORS_FILE), seed=SEED)
    occurrences = demo.occurrences.assign(line=range(1, len(demo.occurrences) + 1), address=None)
    occurrences["problem_external_id"] = occurrences["problem_external_id"].fillna("")
    with engine.begin() as conn:
        write_problems(conn, demo.problems, SYNTHETIC_SOURCE, file="bench.load", read=len(demo.problems))
        write_occurrences(conn, occurrences[CANONICAL], SYNTHETIC_SOURCE, file="bench.load", read=len(occurrences))


def drop_database(name: str = BENCH_DB) -> None:
    with psycopg.connect(**_server_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sector_bounds(url: str, code: str) -> tuple[float, float, float, float]:
    """lon0, lat0, lon1, lat1 of a sector of the CSP (its version valid today)."""
    engine = database.create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Extent(ST_Transform(s.geom, 4326)) "
            "AS b FROM sector s JOIN csp ON csp.id = s.csp_id WHERE csp.name = :csp AND s.code = :code "
            "AND s.valid_from <= current_date AND (s.valid_to IS NULL OR s.valid_to > current_date)) e"),
            {"csp": CSP, "code": code}).one()
        occurrences = conn.execute(sa.text("SELECT count(*) FROM occurrence")).scalar()
    engine.dispose()
    if row[0] is None:
        raise RuntimeError(f"Sector {code} of {CSP} not found in {BENCH_DB}.")
    return tuple(float(v) for v in row), occurrences


# --- the mix ------------------------------------------------------------------------

def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator (XYZ) tile holding a point.

    >>> tile_of(6.86, 47.64, 14)
    (8504, 5719)
    """
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    x0, y0 = tile_of(bounds[0], bounds[3], z)  # north-west corner
    x1, y1 = tile_of(bounds[2], bounds[1], z)  # south-east corner
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def view_bbox(bounds, shift: float = 0.0) -> str:
    """The bbox parameter of a view on ``bounds``, moved east by ``shift`` of its width (a pan)."""
    lon0, lat0, lon1, lat1 = bounds
    dx = (lon1 - lon0) * shift
    return ",".join(f"{v:.5f}" for v in (lon0 + dx, lat0, lon1 + dx, lat1))


def sector_visit(code: str, bounds, tiles: list[tuple[int, int, int]], start: int) -> list[Request]:
    """One visit of a sector: the page, its cells for the view and a panned view, four tiles."""
    base = f"/secteur/{quote(CSP)}/{code}"
    api = f"/api/secteurs/{quote(CSP)}/{code}"
    visit = [Request("sector page", base), Request("sector cells", f"{api}/cellules?bbox={view_bbox(bounds)}")]
    for k in range(4):
        z, x, y = tiles[(start + k) % len(tiles)]
        visit.append(Request("sector tile", f"{api}/tuiles/{z}/{x}/{y}.mvt"))
    visit.append(Request("sector cells", f"{api}/cellules?bbox={view_bbox(bounds, 0.5)}"))
    return visit


def _month(index: int) -> str:
    """``AAAA-MM`` of a month counted from year 0.

    >>> _month(2026 * 12 + 10)
    '2026-11'
    """
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def commune_visit() -> list[Request]:
    """One visit of the mayor: his page, his cells for the default and for a past period, a refused one."""
    today = local_today()
    month = today.year * 12 + today.month - 1  # months since year 0, this one
    past = f"du={_month(month - 18)}&au={_month(month - 13)}"  # whole months, a year before the default
    return [Request("commune page", f"/commune/{MAYOR_COMMUNE}"),
            Request("commune cells", f"/api/communes/{MAYOR_COMMUNE}/cellules"),
            Request("commune cells", f"/api/communes/{MAYOR_COMMUNE}/cellules?{past}"),
            Request("forbidden", f"/api/communes/{OTHER_COMMUNE}/cellules", expected=403)]


def plan(client: int, requests_per_client: int, views: dict) -> tuple[str, list[Request]]:
    """The role of client number ``client`` and its requests (visits repeated up to the count)."""
    role = ROTATION[client % len(ROTATION)]
    code = ACCOUNTS[role][3]
    out: list[Request] = []
    visit_no = 0
    while len(out) < requests_per_client:
        if code is None:
            out += commune_visit()
        else:
            bounds, tiles = views[code]
            out += sector_visit(code, bounds, tiles, start=4 * (client + visit_no))
        visit_no += 1
    return role, out[:requests_per_client]


# --- the clients --------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def log_in(base: str, role: str) -> requests.Session:
    """A session logged in through the login form (GET for the CSRF token, then POST)."""
    email = ACCOUNTS[role][0]
    session = requests.Session()
    form = session.get(f"{base}/connexion", timeout=30)
    match = CSRF_FIELD.search(form.text)
    if form.status_code != 200 or match is None:
        raise RuntimeError(f"No login form at /connexion (status {form.status_code}).")
    answer = session.post(f"{base}/connexion", data={"csrf_token": match.group(1) or match.group(2),
                                                      "email": email, "password": PASSWORD},
                          allow_redirects=False, timeout=30)
    if answer.status_code != 302 or "/connexion" in answer.headers.get("Location", ""):
        raise RuntimeError(f"Login of {email} refused (status {answer.status_code}).")
    return session


@dataclass
class Result:
    endpoint: str
    seconds: float
    status: int | None  # None: the request failed (connection refused, reset, timeout)
    ok: bool
    size: int
    detail: str = ""


def send(session: requests.Session, base: str, request: Request) -> Result:
    started = time.perf_counter()
    try:
        answer = session.get(base + request.path, allow_redirects=False, timeout=120)
        body = answer.content
    except requests.RequestException as error:
        return Result(request.endpoint, time.perf_counter() - started, None, False, 0,
                      f"{request.path}: {type(error).__name__}: {error}")
    elapsed = time.perf_counter() - started
    ok = answer.status_code == request.expected
    detail = "" if ok else f"{request.path}: {answer.status_code} {body[:300]!r}"
    return Result(request.endpoint, elapsed, answer.status_code, ok, len(body), detail)


def play(sessions: list[requests.Session], plans: list[list[Request]], base: str) -> tuple[list[Result], float]:
    """All plans at once, one thread per session, released together; the results and the wall time."""
    results: list[list[Result]] = [[] for _ in plans]
    gate = threading.Barrier(len(plans) + 1)

    def client(k: int) -> None:
        gate.wait()
        for request in plans[k]:
            results[k].append(send(sessions[k], base, request))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(len(plans))]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return [r for rs in results for r in rs], time.perf_counter() - started


def play_sequentially(sessions: list[requests.Session], plans: list[list[Request]],
                      base: str) -> tuple[list[Result], float]:
    """The same plans by one client: request j of every plan in turn, one at a time."""
    results = []
    started = time.perf_counter()
    for j in range(max(len(p) for p in plans)):
        for session, requests_ in zip(sessions, plans):
            if j < len(requests_):
                results.append(send(session, base, requests_[j]))
    return results, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(results: list[Result], wall: float) -> dict:
    per = defaultdict(list)
    for r in results:
        per[r.endpoint].append(r)
    endpoints = {}
    for name in ENDPOINTS:
        rs = per.get(name, [])
        if not rs:
            continue
        times = [r.seconds * 1000 for r in rs]
        endpoints[name] = {"count": len(rs), "errors": sum(not r.ok for r in rs),
                           "median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
                           "max_ms": max(times), "median_bytes": statistics.median(r.size for r in rs)}
    statuses = defaultdict(int)
    for r in results:
        statuses[str(r.status)] += 1
    return {"requests": len(results), "errors": sum(not r.ok for r in results), "wall_s": wall,
            "rps": len(results) / wall, "endpoints": endpoints, "statuses": dict(statuses),
            "error_samples": [r.detail for r in results if not r.ok][:5]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``psq serve`` (gunicorn) on a free port of loopback, against ``url``; its log kept in a file."""

    def __init__(self, url: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        psq = Path(sys.executable).with_name("psq")
        self.process = subprocess.Popen([str(psq), "serve", "--port", str(self.port)],
                                        env={**os.environ, "DATABASE_URL": url}, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(self.base + "/connexion", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("psq serve did not start: " + Path(self.log.name).read_text()[-2000:])
            time.sleep(0.3)

    def banner(self) -> str:
        return next((line.strip() for line in Path(self.log.name).read_text().splitlines()
                     if line.startswith("Serving on")), "psq serve")

    def exceptions(self) -> list[str]:
        text = Path(self.log.name).read_text()
        return [block[:600] for block in text.split("Traceback (most recent call last):")[1:]]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        Path(self.log.name).unlink(missing_ok=True)


# --- the run ------------------------------------------------------------------------

def single_view(session: requests.Session, base: str, request: Request, repeats: int) -> dict:
    send(session, base, request)  # warm
    results = [send(session, base, request) for _ in range(repeats)]
    return {"median_ms": statistics.median(r.seconds * 1000 for r in results),
            "errors": sum(not r.ok for r in results), "bytes": results[-1].size}


def run(clients: int = CLIENTS, requests_per_client: int = REQUESTS) -> dict:
    started = time.perf_counter()
    url = fresh_database()
    server = None
    try:
        views = {}
        for code in {a[3] for a in ACCOUNTS.values() if a[3]}:
            bounds, occurrences = sector_bounds(url, code)
            views[code] = (bounds, [t for z in TILE_ZOOMS for t in tiles_covering(bounds, z)])
        setup_s = time.perf_counter() - started

        server = Server(url)
        base = server.base
        roles_plans = [plan(k, requests_per_client, views) for k in range(clients)]
        sessions = [log_in(base, role) for role, _ in roles_plans]
        plans = [p for _, p in roles_plans]

        # Warm up every endpoint once per client (imports, each worker's engine and kept analyses).
        for k in range(clients):
            seen = set()
            for request in plans[k]:
                if request.endpoint not in seen:
                    seen.add(request.endpoint)
                    send(sessions[k], base, request)

        chief = sessions[ROTATION.index("chief")]
        code = ACCOUNTS["chief"][3]
        bounds, tiles = views[code]
        api = f"/api/secteurs/{quote(CSP)}/{code}"
        middle = tiles_covering(bounds, TILE_ZOOMS[0])[len(tiles_covering(bounds, TILE_ZOOMS[0])) // 2]
        single = {
            "cells": single_view(chief, base, Request("sector cells", f"{api}/cellules?bbox={view_bbox(bounds)}"),
                                 SINGLE_VIEW_REPEATS),
            "tile": single_view(chief, base, Request("sector tile", f"{api}/tuiles/{middle[0]}/{middle[1]}/"
                                                                     f"{middle[2]}.mvt"), SINGLE_VIEW_REPEATS),
        }
        one = len(ROTATION)  # one client plays one round of the rotation, so the mix is the same
        sequential = summary(*play_sequentially(sessions[:one], plans[:one], base))
        levels = {n: summary(*play(sessions[:n], plans[:n], base)) for n in LEVELS if n <= clients}
        banner, exceptions = server.banner(), server.exceptions()
    finally:
        if server is not None:
            server.stop()
        drop_database()

    def ratios(con: dict) -> dict:
        return {"throughput": con["rps"] / sequential["rps"],
                "p95": {name: con["endpoints"][name]["p95_ms"] / sequential["endpoints"][name]["p95_ms"]
                        for name in con["endpoints"] if name in sequential["endpoints"]}}

    worst = levels[max(levels)]
    page_p95 = worst["endpoints"].get("sector page", {}).get("p95_ms", float("inf"))
    errors = sum(level["errors"] for level in levels.values()) + sequential["errors"]
    return {
        "errors": errors, "server": banner, "clients": clients, "requests_per_client": requests_per_client,
        "budget_holds": errors == 0 and not exceptions and page_p95 <= 1000
        and all(ratios(level)["throughput"] >= 1.5 for level in levels.values()),
        "occurrences": occurrences, "tiles": {code: len(t) for code, (_, t) in views.items()}, "setup_s": setup_s,
        "single_view": single, "single_tile": "/".join(map(str, middle)), "sequential": sequential,
        "levels": levels, "ratios": {n: ratios(level) for n, level in levels.items()}, "sector_page_p95_ms": page_p95,
        "server_exceptions": len(exceptions), "server_exception_samples": exceptions[:2],
        "total_s": time.perf_counter() - started,
    }


def markdown(f: dict) -> str:
    seq, levels = f["sequential"], f["levels"]
    head = "| endpoint | 1 client: median / p95 | " + " | ".join(
        f"{n} clients: median / p95 (p95 ratio)" for n in levels) + " |"
    rows = [head, "|---|---:|" + "---:|" * len(levels)]
    for name, label in ENDPOINTS.items():
        s = seq["endpoints"].get(name)
        if s is None:
            continue
        cells = []
        for n, level in levels.items():
            c = level["endpoints"].get(name)
            cells.append(f"{c['median_ms']:.0f} / {c['p95_ms']:.0f} ms ({f['ratios'][n]['p95'][name]:.1f} x)"
                         if c else "-")
        rows.append(f"| {label} | {s['median_ms']:.0f} / {s['p95_ms']:.0f} ms | " + " | ".join(cells) + " |")
    rows.append(f"| all: requests/s | {seq['rps']:.1f} | " + " | ".join(
        f"{level['rps']:.1f} (throughput {f['ratios'][n]['throughput']:.2f} x, {level['requests']:,} requests, "
        f"{level['errors']} errors)" for n, level in levels.items()) + " |")
    cells, tile = f["single_view"]["cells"], f["single_view"]["tile"]
    first_error = next((s for level in levels.values() for s in level["error_samples"]),
                       (seq["error_samples"] or f["server_exception_samples"] or [""])[0])
    top = max(levels)
    verdict = (f"Budget holds: no error at any level, throughput at least 1.5 x one client with "
               f"{' and '.join(map(str, levels))} clients, the sector page's p95 under {top} clients "
               f"{f['sector_page_p95_ms']:.0f} ms (at most 1 s)." if f["budget_holds"] else
               f"Budget NOT met: {f['errors']} errors, {f['server_exceptions']} server exceptions, throughput "
               + ", ".join(f"{f['ratios'][n]['throughput']:.2f} x with {n}" for n in levels)
               + f", the sector page's p95 under {top} clients {f['sector_page_p95_ms']:.0f} ms (budget 1 s)"
               + (f"; first error: {first_error[:300]}" if first_error else "."))
    return "\n".join([
        f"The Belfort demo ({f['occurrences']:,} synthetic occurrences) served by `psq serve` on loopback "
        f"({f['server']}). Clients with a session each play {f['requests_per_client']} requests at once; the "
        f"same mix is also played by 1 client, one request at a time ({seq['requests']:,} requests).",
        "",
        f"One view alone (median of {SINGLE_VIEW_REPEATS}): the sector's GeoJSON cells in {cells['median_ms']:.1f} ms "
        f"({cells['bytes'] / 1000:.1f} kB), one vector tile (z {f['single_tile']}) in {tile['median_ms']:.1f} ms "
        f"({tile['bytes'] / 1000:.1f} kB).",
        "",
        *rows,
        "",
        verdict,
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--requests", type=int, default=REQUESTS, help="requests per client")
    args = parser.parse_args()
    figures = run(args.clients, args.requests)
    for sample in figures["server_exception_samples"]:
        print(sample)
    print(markdown(figures))
