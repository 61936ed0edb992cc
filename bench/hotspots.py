"""Benchmark of the hotspot engine, ratios measured side by side (DESIGN.md section 9).

- Gi* ours vs esda ``G_Local(star=True, transform="B", permutations=0)`` on the same
  10,000- and 100,000-cell queen grids, weights built beforehand (not timed); ours is
  timed twice: z only, and the whole result (z, the exact test's p, FDR, bins);
- Gi* z over 1,000,000 cells vs a bare 3x3 box sum over the same grid (the faster of
  our shifted-slice sum and ``scipy.ndimage.uniform_filter``); exact p + FDR + bins apart;
- emerging hot spots on 50,000 cells x 104 weekly steps, with its parts.

Run from the repository root: ``.venv/bin/python -m bench.hotspots``. Times are the
best of a few runs (the machines are shared and noisy); ratios are what count.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy import ndimage

from geo.analysis.hotspots.emerging import emerging_hotspots, space_time_z
from geo.analysis.hotspots.gistar import gistar, gistar_z
from geo.analysis.hotspots.grid import Grid
from geo.analysis.hotspots.mann_kendall import mann_kendall
from geo.analysis.hotspots.neighbourhood import band_kernel, cardinality, window_sum
from geo.analysis.hotspots.significance import gi_bin, window_tests

QUEEN = band_kernel(1.5, 1.0)


def best_time(function, repeat: int) -> float:
    """Fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def synthetic_counts(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Poisson background with a few clusters, like occurrences on a 200 m grid."""
    rate = np.full(shape, 0.3)
    for _ in range(max(1, shape[-1] * shape[-2] // 2000)):
        a, b = rng.integers(0, shape[-2]), rng.integers(0, shape[-1])
        rate[..., max(0, a - 2):a + 3, max(0, b - 2):b + 3] += rng.uniform(1, 4)
    return rng.poisson(rate)


def bench_esda(rng: np.random.Generator, rows: int, cols: int) -> dict:
    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    counts = synthetic_counts(rng, (rows, cols))
    grid = Grid(0, 0, rows, cols, size=200)
    w = lat2W(rows, cols, rook=False)
    w.transform = "B"
    y = counts.ravel().astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        esda_z = G_Local(y, w, transform="B", star=True, permutations=0).Zs
        esda_s = best_time(lambda: G_Local(y, w, transform="B", star=True, permutations=0), 2)
    ours_z = best_time(lambda: gistar_z(counts, grid.mask, QUEEN), 7)
    ours_all = best_time(lambda: gistar(counts, grid), 7)
    diff = float(np.abs(gistar(counts, grid).z.ravel() - esda_z).max())
    return {"cells": rows * cols, "esda_s": esda_s, "ours_z_s": ours_z, "ours_full_s": ours_all,
            "ratio_z": esda_s / ours_z, "ratio_full": esda_s / ours_all, "max_abs_z_diff": diff}


def bench_million(rng: np.random.Generator) -> dict:
    counts = synthetic_counts(rng, (1000, 1000))
    x = counts.astype(float)
    mask = np.ones(counts.shape, bool)
    box_ours, box_scipy, ours = [], [], []
    for _ in range(7):  # interleaved, so that both meet the same machine load
        box_ours.append(best_time(lambda: window_sum(x, QUEEN), 1))
        box_scipy.append(best_time(lambda: ndimage.uniform_filter(x, 3, mode="constant"), 1))
        ours.append(best_time(lambda: gistar_z(counts, mask, QUEEN), 1))
    box = min(min(box_ours), min(box_scipy))
    z = gistar_z(counts, mask, QUEEN)[0].ravel()
    window, cells, total = window_sum(x, QUEEN).ravel(), cardinality(mask, QUEEN).ravel(), int(counts.sum())

    def significance():  # the exact test of the window counts, its BH q-values, the bins
        _, q = window_tests(window, cells, total, counts.size)
        gi_bin(z, q)

    fdr = best_time(significance, 3)
    return {"cells": counts.size, "box_sum_s": box, "box_sum_ours_s": min(box_ours),
            "box_sum_scipy_s": min(box_scipy), "gistar_z_s": min(ours), "ratio_to_box": min(ours) / box,
            "p_fdr_bins_s": fdr}


def bench_emerging(rng: np.random.Generator) -> dict:
    cube = synthetic_counts(rng, (104, 250, 200))
    grid = Grid(0, 0, 250, 200, size=200)
    start = time.perf_counter()
    result = emerging_hotspots(cube, grid)
    total = time.perf_counter() - start
    z_s = best_time(lambda: space_time_z(cube, grid.mask, QUEEN, 1), 1)
    mk_s = best_time(lambda: mann_kendall(result.z[:, grid.mask].T), 1)
    counts = np.bincount(result.category.ravel() + 1)
    return {"cells": grid.n_cells, "steps": cube.shape[0], "total_s": total, "space_time_z_s": z_s,
            "mann_kendall_s": mk_s, "cells_with_pattern": int(counts[2:].sum())}


def run() -> dict:
    """Run every benchmark, print a markdown table and return the figures."""
    rng = np.random.default_rng(20240601)
    figures = {
        "gistar_vs_esda_10k": bench_esda(rng, 100, 100),
        "gistar_vs_esda_100k": bench_esda(rng, 250, 400),
        "gistar_1m_vs_box_sum": bench_million(rng),
        "emerging_50k_x_104": bench_emerging(rng),
    }
    print(markdown(figures))
    return figures


def markdown(figures: dict) -> str:
    lines = ["| benchmark | figures |", "| --- | --- |"]
    for name in ("gistar_vs_esda_10k", "gistar_vs_esda_100k"):
        f = figures[name]
        lines.append(
            f"| Gi* vs esda G_Local, {f['cells']:,} cells | esda {f['esda_s'] * 1e3:.0f} ms; ours z "
            f"{f['ours_z_s'] * 1e3:.2f} ms (**{f['ratio_z']:.0f}x**), z + exact p + FDR + bins {f['ours_full_s'] * 1e3:.2f} ms "
            f"(**{f['ratio_full']:.0f}x**); max abs z diff {f['max_abs_z_diff']:.1e} |")
    f = figures["gistar_1m_vs_box_sum"]
    lines.append(
        f"| Gi* z, {f['cells']:,} cells vs bare 3x3 box sum | box sum {f['box_sum_s'] * 1e3:.1f} ms "
        f"(ours {f['box_sum_ours_s'] * 1e3:.1f}, scipy {f['box_sum_scipy_s'] * 1e3:.1f}); Gi* z "
        f"{f['gistar_z_s'] * 1e3:.1f} ms (**{f['ratio_to_box']:.2f}x** the box sum); "
        f"exact p + FDR + bins apart {f['p_fdr_bins_s'] * 1e3:.0f} ms |")
    f = figures["emerging_50k_x_104"]
    lines.append(
        f"| Emerging hot spots, {f['cells']:,} cells x {f['steps']} steps | **{f['total_s']:.2f} s** in all "
        f"(space-time Gi* {f['space_time_z_s']:.2f} s, Mann-Kendall {f['mann_kendall_s']:.2f} s); "
        f"{f['cells_with_pattern']:,} cells with a pattern |")
    return "\n".join(lines)


if __name__ == "__main__":
    run()
