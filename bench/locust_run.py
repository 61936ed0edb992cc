"""Load with locust: many concurrent users on ``psq serve`` (gunicorn), next to one client alone.

DESIGN's serving budget asks for no error under many concurrent clients on loopback.
This benchmark plays users of three roles with locust (bench/locustfile.py), each
logged in once through the login form (CSRF token), on the database of bench/load.py
(``psq_bench_load``: the Belfort demo's communes, sectors and synthetic data, dropped at
the end) served by ``psq serve`` on loopback:

- a chief opens one of his sectors' pages, its cells for the opening view, then zooms in
  at a point of the sector (zoom 15, then 16: the cells and the vector tiles of a map pane
  of 800 x 500 px), or opens his zones page and its GeoJSON export;
- a mayor opens his commune's page, its cells for the default and a past period, and asks
  another commune's cells, which must be refused (403 is the right answer there);
- an admin opens the CSP page, the overview page, or a sector visit as the chief's.

Each user thinks 1 to 3 s between visits; the requests of one visit follow each other.
Two runs of locust, headless and bounded, in the same call: first one client alone (one
session per role, the same visits, no think time, ``SOLO_SECONDS``), then ``USERS`` users
spawned at ``SPAWN_RATE`` per second for ``SECONDS``. Both are preceded by a warm-up of
every endpoint (each worker's imports and engine, the kept analyses). Figures per
endpoint name (URLs grouped, the view box and tile ids left out): requests, failures,
median, p95, p99 (nearest rank, of every request's time as locust's client measured it),
max and requests/s. An error is any status but the expected one (redirects included: a
lost session sends to the login page), a failed request (refused, reset, timed out) or an
exception in a user; the server's own exceptions and error lines are read from its log.
Any error makes the run exit non-zero.

Run: ``.venv/bin/python -m bench.locust_run [--users N] [--seconds S] [--write]``
(``--write``: put the section in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from bench import load
from bench.load import CSP, Request

USERS = 50
SPAWN_RATE = 10  # users per second
SECONDS = 60
SOLO_SECONDS = 20
STOP_TIMEOUT = 30  # seconds a user may take to end its visit once the time is up
SETTLE_SECONDS = 10  # after the ramp, for the figures of the settled load (the logins' hashing done)
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
ROOT = LOCUSTFILE.parent.parent
RESULTS = LOCUSTFILE.with_name("RESULTS.md")
SECTION = "## Load with locust (`bench/locust_run.py`)"
VIEWS_ENV = "PSQ_LOCUST_VIEWS"  # the sectors' bounds, for the locust process
PANE = (800, 500)  # px of the map pane, for the zoomed views
ZOOMS = (15, 16)  # the occurrence tiles show from zoom 15 on (layers.problem_layers.OccurrenceTiles)
CHIEF_SECTORS = load.ACCOUNTS["chief"][2]["sectors"]
ADMIN_SECTOR = load.ACCOUNTS["admin"][3]
COMMUNE_NAMES = {"commune page": "commune page", "commune cells": "commune cells",
                 "forbidden": "other commune's cells (403 expected)"}


# --- the visits: lists of requests, played by locust and by the warm-up -------------

def viewport(centre: tuple[float, float], z: int, pane: tuple[int, int] = PANE) -> tuple[float, float, float, float]:
    """lon0, lat0, lon1, lat1 of a map pane of ``pane`` px at zoom ``z`` centred on ``centre`` (Web Mercator).

    >>> [round(v, 4) for v in viewport((6.86, 47.64), 15)]
    [6.8428, 47.6328, 6.8772, 47.6472]
    """
    lon, lat = centre
    degrees_per_px = 360 / (256 * 2 ** z)
    half_w = pane[0] / 2 * degrees_per_px
    half_h = pane[1] / 2 * degrees_per_px * math.cos(math.radians(lat))
    return lon - half_w, lat - half_h, lon + half_w, lat + half_h


def sector_requests(code: str, bounds, rng: random.Random) -> list[Request]:
    """A sector visit: the page, its cells for the opening view, then at zooms 15 and 16 around a point
    of the sector the cells and the vector tiles of the view."""
    api = f"/api/secteurs/{quote(CSP)}/{code}"
    out = [Request("sector page", f"/secteur/{quote(CSP)}/{code}"),
           Request("sector cells, opening view", f"{api}/cellules?bbox={load.view_bbox(bounds)}")]
    centre = rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3])
    for z in ZOOMS:
        view = viewport(centre, z)
        out.append(Request(f"sector cells, zoom {z} view", f"{api}/cellules?bbox={load.view_bbox(view)}"))
        out += [Request(f"sector tile, zoom {z}", f"{api}/tuiles/{z}/{x}/{y}.mvt")
                for _, x, y in load.tiles_covering(view, z)]
    return out


def chief_sector(views: dict, rng: random.Random) -> list[Request]:
    code = rng.choice(CHIEF_SECTORS)
    return sector_requests(code, views[code], rng)


def chief_zones(views: dict, rng: random.Random) -> list[Request]:
    """The zones page of one of the chief's sectors and its GeoJSON export."""
    code = rng.choice(CHIEF_SECTORS)
    return [Request("zones page", f"/secteur/{quote(CSP)}/{code}/zones"),
            Request("zones GeoJSON", f"/api/secteurs/{quote(CSP)}/{code}/zones.geojson")]


def mayor_commune(views: dict, rng: random.Random) -> list[Request]:
    """bench.load's visit of the mayor: his page, his cells for two periods, another commune's (403)."""
    return [Request(COMMUNE_NAMES[r.endpoint], r.path, r.expected) for r in load.commune_visit()]


def admin_csp(views: dict, rng: random.Random) -> list[Request]:
    return [Request("CSP page", f"/csp/{quote(CSP)}")]


def admin_overview(views: dict, rng: random.Random) -> list[Request]:
    return [Request("overview page", "/vue-ensemble")]


def admin_sector(views: dict, rng: random.Random) -> list[Request]:
    return sector_requests(ADMIN_SECTOR, views[ADMIN_SECTOR], rng)


#: role: (its weight among the users, {visit: its weight among the role's visits})
ROLES = {
    "chief": (3, {chief_sector: 3, chief_zones: 1}),
    "mayor": (2, {mayor_commune: 1}),
    "admin": (1, {admin_csp: 1, admin_overview: 1, admin_sector: 1}),
}


# --- one locust run -------------------------------------------------------------------

def run_locust(base: str, views: dict, classes: list[str], users: int, spawn_rate: float, seconds: int,
               workdir: str) -> dict:
    """A bounded locust run of ``classes`` on ``base`` (bench/locustfile.py, in a process of its own); its
    per-endpoint figures, its errors and the exceptions in its users."""
    out = os.path.join(workdir, f"{'-'.join(classes)}-{users}.json")
    config = {"host": base, "classes": classes, "users": users, "spawn_rate": spawn_rate, "seconds": seconds,
              "stop_timeout": STOP_TIMEOUT}
    env = {**os.environ, VIEWS_ENV: json.dumps(views),
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-m", "bench.locustfile", json.dumps(config), out], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=seconds + STOP_TIMEOUT + 180)
    if done.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"locust run of {classes} failed ({done.returncode}): {done.stderr[-3000:]}")
    with open(out, encoding="utf-8") as handle:
        raw = json.load(handle)
    endpoints, total = summarise(raw["requests"], raw["wall_s"])
    settled = users / spawn_rate + SETTLE_SECONDS  # the logins of the ramp done
    after = [r for r in raw["requests"] if r[3] >= settled and not r[0].startswith("login")]
    _, steady = summarise(after, max(raw["wall_s"] - settled, 1e-3))
    return {"users": users, "seconds": seconds, "wall_s": raw["wall_s"], "endpoints": endpoints, "total": total,
            "steady": steady, "settled_s": settled,
            "failures": raw["errors"], "exceptions": raw["exceptions"], "log_tail": done.stderr[-3000:]}


def figures_of(times: list[float], failures: int, wall: float) -> dict:
    """Requests, failures, median, p95, p99 and max (ms, of every request) and requests/s over ``wall``."""
    return {"requests": len(times), "failures": failures, "median_ms": statistics.median(times),
            "p95_ms": load.percentile(times, 0.95), "p99_ms": load.percentile(times, 0.99), "max_ms": max(times),
            "rps": len(times) / wall}


def summarise(requests: list, wall: float) -> tuple[dict, dict]:
    """The figures of each endpoint name and of all requests, from (name, ms, success, start) rows."""
    per = defaultdict(list)
    for name, ms, ok, _ in requests:
        per[name].append((ms, ok))
    endpoints = {name: figures_of([ms for ms, _ in rs], sum(not ok for _, ok in rs), wall) for name, rs in per.items()}
    everything = [(ms, ok) for rs in per.values() for ms, ok in rs]
    total = (figures_of([ms for ms, _ in everything], sum(not ok for _, ok in everything), wall) if everything
             else {"requests": 0, "failures": 0})
    return endpoints, total


# --- the run --------------------------------------------------------------------------

def warm_up(base: str, views: dict, rounds: int = 3) -> int:
    """Every visit of every role ``rounds`` times (bench.load's client, one session per role); the requests
    sent. Raises at the first unexpected answer: the mix is wrong before it is a load."""
    sessions = {role: load.log_in(base, role) for role in ROLES}
    sent = 0
    for k in range(rounds):
        for role, (_, visits) in ROLES.items():
            for visit in visits:
                for request in visit(views, random.Random(k)):
                    result = load.send(sessions[role], base, request)
                    sent += 1
                    if not result.ok:
                        raise RuntimeError(f"Warm-up, {role}: {result.detail}")
    return sent


def server_problems(server: load.Server) -> list[str]:
    """The server's tracebacks and its error lines (gunicorn's [ERROR] and [CRITICAL], worker timeouts)."""
    lines = [line.strip() for line in Path(server.log.name).read_text().splitlines()
             if "[ERROR]" in line or "[CRITICAL]" in line or "WORKER TIMEOUT" in line]
    return server.exceptions() + lines[:20]


def run(users: int = USERS, seconds: int = SECONDS, solo_seconds: int = SOLO_SECONDS,
        spawn_rate: float = SPAWN_RATE) -> dict:
    started, load_start = time.perf_counter(), os.getloadavg()
    print(f"Load average at the start: {', '.join(f'{v:.2f}' for v in load_start)}", flush=True)
    url = load.fresh_database()
    server = None
    try:
        views = {code: load.sector_bounds(url, code)[0] for code in {*CHIEF_SECTORS, ADMIN_SECTOR}}
        server = load.Server(url)
        warmed = warm_up(server.base, views)
        with tempfile.TemporaryDirectory(prefix="psq-locust-") as workdir:
            solo = run_locust(server.base, views, ["Solo"], 1, 1, solo_seconds, workdir)
            many = run_locust(server.base, views, ["Chief", "Mayor", "Admin"], users, spawn_rate, seconds, workdir)
        banner, problems = server.banner(), server_problems(server)
    finally:
        if server is not None:
            server.stop()
        load.drop_database()
    load_end = os.getloadavg()
    print(f"Load average at the end: {', '.join(f'{v:.2f}' for v in load_end)}", flush=True)
    errors = sum(r["total"]["failures"] + len(r["exceptions"]) for r in (solo, many)) + len(problems)
    return {"date": dt.date.today().isoformat(), "server": banner, "cores": os.cpu_count(), "warm_up": warmed,
            "spawn_rate": spawn_rate, "solo": solo, "many": many, "server_problems": problems, "errors": errors,
            "load_start": load_start, "load_end": load_end,
            "total_s": time.perf_counter() - started}


# --- the report -----------------------------------------------------------------------

def console_table(level: dict) -> str:
    """Every endpoint of one run: requests, failures, median, p95, p99, max, requests/s."""
    rows = [f"{'endpoint':<40} {'requests':>8} {'fail':>5} {'median':>7} {'p95':>7} {'p99':>7} {'max':>7} "
            f"{'req/s':>6}"]
    for name, e in sorted(level["endpoints"].items()) + [("Aggregated", level["total"])]:
        if "median_ms" not in e:
            continue
        rows.append(f"{name:<40} {e['requests']:>8} {e['failures']:>5} {e['median_ms']:>7.0f} {e['p95_ms']:>7.0f} "
                    f"{e['p99_ms']:>7.0f} {e['max_ms']:>7.0f} {e['rps']:>6.1f}")
    return "\n".join(rows)


def _times(e: dict | None) -> str:
    return f"{e['median_ms']:.0f} / {e['p95_ms']:.0f} / {e['p99_ms']:.0f} ms" if e else "-"


def endpoint_rows(f: dict) -> list[str]:
    solo, many = f["solo"], f["many"]
    n = many["users"]
    rows = [f"| endpoint | 1 client: requests | 1 client: median / p95 / p99 | {n} users: requests | "
            f"{n} users: median / p95 / p99 | {n} users: max | {n} users: req/s | failures (1 / {n}) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    names = sorted({*solo["endpoints"], *many["endpoints"]}, key=lambda k: (k.startswith("login"), k))
    for name in names + ["Aggregated"]:
        s = solo["total"] if name == "Aggregated" else solo["endpoints"].get(name)
        m = many["total"] if name == "Aggregated" else many["endpoints"].get(name)
        label = "**all**" if name == "Aggregated" else name
        rows.append(f"| {label} | {s['requests'] if s else 0:,} | {_times(s)} | {m['requests'] if m else 0:,} | "
                    f"{_times(m)} | {m['max_ms']:.0f} ms | {m['rps']:.1f} | "
                    f"{s['failures'] if s else 0} / {m['failures'] if m else 0} |" if m else
                    f"| {label} | {s['requests']:,} | {_times(s)} | 0 | - | - | - | {s['failures']} / 0 |")
    return rows


def steady_sentence(many: dict) -> str:
    s = many["steady"]
    if "median_ms" not in s:
        return "No request started after the ramp and its logins."
    return (f"Logging in hashes the password (the login row of one client alone), {many['users']} times during the "
            f"ramp. The requests started from {many['settled_s']:.0f} s on ({SETTLE_SECONDS} s after the last "
            f"user's spawn; logins left out; {s['requests']:,} requests, "
            f"{s['rps']:.1f} requests/s): median {s['median_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, "
            f"p99 {s['p99_ms']:.0f} ms, max {s['max_ms']:.0f} ms.")


def markdown(f: dict) -> str:
    solo, many = f["solo"], f["many"]
    failures = [x for r in (solo, many) for x in r["failures"]]
    verdict = ("No error: every request got its expected status, in both runs, and the server logged no "
               "exception nor error line." if not f["errors"] else
               f"ERRORS: {f['errors']} ({solo['total']['failures']} with 1 client, {many['total']['failures']} "
               f"with {many['users']} users, {sum(len(r['exceptions']) for r in (solo, many))} exceptions in the "
               f"users, {len(f['server_problems'])} in the server's log); "
               + "; ".join(f"{x['name']}: {x['error']} ({x['count']} x)" for x in failures[:5]))
    load_avg = (f"load average {f['load_start'][0]:.2f} at the start and {f['load_end'][0]:.2f} at the end "
                f"(1 min; 5 min {f['load_start'][1]:.2f} and {f['load_end'][1]:.2f})")
    return "\n".join([
        f"Measured on {f['date']}: the Belfort demo (bench/load.py's database) served by `psq serve` on loopback "
        f"({f['server'].removeprefix('Serving on ').split(' (')[0]}), on {f['cores']} cores. Locust 2 "
        f"(`FastHttpUser`, bench/locustfile.py), headless and bounded, in one call: 1 client alone for "
        f"{solo['seconds']} s (one session per role, the same visits, no think time), then "
        f"{many['users']} users (chiefs, mayors, admins 3 : 2 : 1, each logged in once, 1 to 3 s of think time "
        f"between visits) spawned at {f['spawn_rate']:g}/s for {many['seconds']} s, after a warm-up of "
        f"{f['warm_up']} requests.",
        "",
        *endpoint_rows(f),
        "",
        steady_sentence(many),
        "",
        verdict,
        "",
        f"The machine is shared: {f['cores']} cores for gunicorn, PostgreSQL and locust itself, with other "
        f"sessions running at the time ({load_avg}); the many-users figures are those of a saturated server "
        f"and the absolute times vary from run to run.",
    ])


def write_section(text: str, path: Path = RESULTS) -> None:
    """Put ``text`` under this benchmark's heading in RESULTS.md, in place of the old one or at the end."""
    old = path.read_text(encoding="utf-8")
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + f"\n\n{SECTION}\n\n{text}\n"
    else:
        end = old.find("\n## ", start + len(SECTION))
        rest = old[end:] if end >= 0 else "\n"
        new = old[:start] + f"{SECTION}\n\n{text}\n" + rest
    path.write_text(new, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--seconds", type=int, default=SECONDS, help="of the many-users run")
    parser.add_argument("--solo-seconds", type=int, default=SOLO_SECONDS, help="of the one-client run")
    parser.add_argument("--spawn-rate", type=float, default=SPAWN_RATE, help="users per second")
    parser.add_argument("--write", action="store_true", help=f"write the section in {RESULTS}")
    args = parser.parse_args()
    figures = run(args.users, args.seconds, args.solo_seconds, args.spawn_rate)
    for label, level in (("1 client", figures["solo"]), (f"{args.users} users", figures["many"])):
        print(f"\n{label}:\n{console_table(level)}")
        for problem in level["failures"] + level["exceptions"]:
            print("Locust:", problem)
    for problem in figures["server_problems"]:
        print("Server:", problem)
    text = markdown(figures)
    print("\n" + text)
    if args.write:
        write_section(text)
        print(f"Wrote the section in {RESULTS}")
    if figures["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
