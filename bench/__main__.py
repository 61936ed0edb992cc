"""``make bench``: run every benchmark and write bench/RESULTS.md.

Each benchmark module has ``run() -> dict`` and ``markdown(figures) -> str``; the
figures are measured side by side in one run (ratios against a peer or a naive
baseline), because machines here are shared and noisy.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
from pathlib import Path

BENCHMARKS = {
    "hotspots": "Hotspot engine (Gi*, emerging hotspots) against esda",
    "calibration": "Calibration of the hot spot significance: null data and planted clusters",
    "ingest": "Ingest of occurrences into PostGIS",
    "load": "Pages and map endpoints under 1, 8 and 32 concurrent clients",
    "import_latency": "Imports never block readers",
    "cameras": "Camera coverage and new camera sites (MCLP)",
    "locust_run": "Load with locust",
}
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main() -> None:
    sections = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {dt.date.today()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start). Absolute "
        "times are for information: the ratios, measured in the same run, are what to compare.",
    ]
    for name, title in BENCHMARKS.items():
        module = importlib.import_module(f"bench.{name}")
        print(f"Running bench/{name}.py ...", flush=True)
        text = module.markdown(module.run())
        print(text, flush=True)
        sections += ["", f"## {title} (`bench/{name}.py`)", "", text]
    RESULTS.write_text("\n".join(sections) + "\n", encoding="utf-8")
    print(f"Wrote {RESULTS}")


if __name__ == "__main__":
    main()
