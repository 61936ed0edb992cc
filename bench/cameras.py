"""Camera coverage and new camera sites, against naive baselines measured in the same run.

- Coverage: the share of occurrences inside the union of the wedges, by the exact test on arrays
  (``geo.referents.cameras.covered_by``) against shapely's union of the drawn wedges and a
  point-in-polygon test; both counts are printed (the drawn wedge is a polygon, so a point on an
  arc's edge may differ).
- Siting: ``propose_sites`` (the MCLP on a pool of candidates, proved optimal over every candidate)
  against spopt's MCLP given every candidate at once, on Belfort's demo occurrences; the covered
  counts must agree. A greedy choice is shown for what the exact solution gains over it.

On a database of its own (``psq_bench``, bench/ingest.py) holding the demo's synthetic data.
"""

from __future__ import annotations

import time

import numpy as np
import shapely

from geo.accounts.users import UserScope
from geo.demo.loader import load_synthetic
from geo.referents import siting
from geo.referents.cameras import Camera, covered_by, in_wedge, select_occurrences

COMMUNE = "90010"
P = 5


def _coverage() -> dict:
    rng = np.random.default_rng(7)
    px, py = rng.uniform(0, 3000, 200_000), rng.uniform(0, 3000, 200_000)
    cameras = [Camera(None, f"C{k}", float(x), float(y), 0.0, 0.0, float(b), float(f), 60.0, "existing", "commune",
                      None) for k, (x, y, b, f) in enumerate(zip(rng.uniform(0, 3000, 300), rng.uniform(0, 3000, 300),
                                                                 rng.uniform(0, 360, 300), rng.uniform(30, 360, 300)))]
    start = time.perf_counter()
    ours = covered_by(px, py, cameras)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    union = shapely.union_all([c.wedge() for c in cameras])
    theirs = shapely.contains_xy(union, px, py)
    shapely_s = time.perf_counter() - start
    return {"points": len(px), "cameras": len(cameras), "ours_s": ours_s, "shapely_s": shapely_s,
            "ours": int(ours.sum()), "shapely": int(theirs.sum())}


def _greedy(bind, p: int) -> int:
    """What choosing the best camera one at a time covers, over the same candidates as the MCLP."""
    selection = select_occurrences(bind, UserScope("admin"), COMMUNE)
    px, py = selection.points.x, selection.points.y
    sites = siting.grid_sites(selection.scope.geometry, 50)
    masks = [in_wedge(px, py, x, y, 0.0, 360.0, 60.0) for x, y in zip(sites.x, sites.y)]
    seen = np.zeros(len(px), bool)
    for _ in range(p):
        best = max(masks, key=lambda m: int((m & ~seen).sum()))
        seen |= best
    return int(seen.sum())


def _siting(engine) -> dict:
    admin = UserScope("admin")
    start = time.perf_counter()
    ours = siting.propose_sites(engine, admin, COMMUNE, P)
    ours_s = time.perf_counter() - start
    pool, largest = siting.POOL_SIZE, siting.MAX_POOL
    siting.POOL_SIZE = siting.MAX_POOL = 10**9  # every candidate to spopt at once
    try:
        start = time.perf_counter()
        full = siting.propose_sites(engine, admin, COMMUNE, P)
        full_s = time.perf_counter() - start
    finally:
        siting.POOL_SIZE, siting.MAX_POOL = pool, largest
    return {"occurrences": ours.occurrences, "candidates": ours.candidates, "pool": ours.pool, "exact": ours.exact,
            "ours_s": ours_s, "ours": ours.covered, "full_s": full_s, "full": full.covered, "full_pool": full.pool,
            "greedy": _greedy(engine, P)}


def run() -> dict:
    from bench.ingest import fresh_database

    engine = fresh_database()
    load_synthetic(engine)
    return {"coverage": _coverage(), "siting": _siting(engine)}


def markdown(figures: dict) -> str:
    c, s = figures["coverage"], figures["siting"]
    return "\n".join([
        "| benchmark | figures |",
        "| --- | --- |",
        f"| Coverage, {c['points']:,} points, {c['cameras']} cameras | exact test on arrays {c['ours_s'] * 1000:.0f} ms; "
        f"shapely union of the drawn wedges + contains {c['shapely_s'] * 1000:.0f} ms "
        f"(**{c['shapely_s'] / c['ours_s']:.1f}x**); covered {c['ours']:,} vs {c['shapely']:,} |",
        f"| New sites, Belfort, p = {P} ({s['occurrences']:,} occurrences, {s['candidates']:,} candidates) | "
        f"pool of {s['pool']} proved {'optimal' if s['exact'] else 'NOT optimal'}: {s['ours_s']:.1f} s, "
        f"{s['ours']:,} covered; spopt on every candidate ({s['full_pool']:,} after exact reductions) "
        f"{s['full_s']:.1f} s (**{s['full_s'] / s['ours_s']:.0f}x**), {s['full']:,} covered; greedy {s['greedy']:,} |",
    ])


if __name__ == "__main__":
    print(markdown(run()))
