"""``psq hotspots``: compute a hotspot run on a scope and a period, and store it.

Methods (DESIGN.md section 5): ``gistar`` (Getis-Ord Gi* with FDR on a grid),
``kde`` (quartic kernel density), ``dbscan`` (``ST_ClusterDBSCAN`` in PostGIS, with
the hull of each cluster) and ``emerging`` (the space-time cube of weekly or monthly
steps and the emerging hot spot categories). Every run is stored with every parameter
in ``hotspot_run``; its cells (or clusters) in ``hotspot_cell`` (``hotspot_cluster``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import Grid, HotspotInputError
from geo.analysis.hotspots.emerging import DEFAULT_ALPHA as EMERGING_ALPHA
from geo.analysis.hotspots.emerging import MIN_STEPS, TREND_ALPHA
from geo.analysis.hotspots.hexgrid import hex_counts, hex_gistar, hex_scope
from geo.analysis.methods import (
    EMERGING_WEEKS,
    SIGNIFICANCE,
    Cells,
    complete_steps,
    dbscan_clusters,
    density_cells,
    emerging_cells,
    gistar_cells,
    last_complete_weeks,
)
from geo.analysis.points import Points, fetch_points, resolve_category
from geo.analysis.scopes import Scope, parse_scope
from geo.db.bulk import copy_rows
from geo.db.unit_of_work import transaction
from geo.progress import progress
from geo.settings import CELL_SIZE_M, DBSCAN_EPS_M, DBSCAN_MIN_POINTS, local_today

METHODS = ("gistar", "kde", "dbscan", "emerging")


@dataclasses.dataclass(frozen=True)
class RunRequest:
    scope: str
    method: str
    first: dt.date | None = None
    last: dt.date | None = None
    category: str | None = None
    cell: float = CELL_SIZE_M
    grid: str = "square"  # or "hex" (Gi* only): hexagons of area cell²
    band: float | None = None  # metres; default 1.5 x cell (queen neighbours)
    step: str = "week"
    lag: int = 1
    bandwidth: float | None = None
    eps: float = DBSCAN_EPS_M
    min_points: int = DBSCAN_MIN_POINTS


@dataclasses.dataclass
class RunResult:
    run_id: int
    method: str
    scope: str
    first: dt.date
    last: dt.date
    occurrences: int
    cells: int | None
    summary: dict
    warnings: list[str]
    steps: str | None = None  # the time steps used (emerging)

    def lines(self) -> list[str]:
        head = (f"Run {self.run_id}: {self.method} on {self.scope}, {self.first} to {self.last}, "
                f"{self.occurrences} occurrences" + (f", {self.cells} cells" if self.cells else "")
                + (f", over {self.steps}." if self.steps else "."))
        body = [f"  {name}: {count}" for name, count in self.summary.items()]
        return [head, *body, *("Warning: " + w for w in self.warnings)]


def default_period(request: RunRequest, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period asked, or by default: the last 104 complete weeks (emerging) or 365 days, up to yesterday."""
    last = request.last or (today or local_today()) - dt.timedelta(days=1)
    if request.first:
        first = request.first
    elif request.method == "emerging":
        first = last_complete_weeks(last, EMERGING_WEEKS, today).first_day
    else:
        first = last - dt.timedelta(days=364)
    if first > last:
        raise HotspotInputError(f"the period starts ({first}) after it ends ({last})")
    return first, last


def run_hotspots(engine: Engine, request: RunRequest, today: dt.date | None = None) -> RunResult:
    """Compute and store a run; return its id and summary.

    Raises HotspotInputError with one clear sentence when the statistic is undefined
    (empty scope, no occurrence, all cells equal, too few time steps...).
    """
    if request.method not in METHODS:
        raise HotspotInputError(f"unknown method '{request.method}': choose one of {', '.join(METHODS)}")
    if request.grid not in ("square", "hex"):
        raise HotspotInputError(f"unknown grid '{request.grid}': choose square or hex")
    if request.grid == "hex" and request.method != "gistar":
        raise HotspotInputError("hexagons are available for gistar only; use the square grid for "
                                f"{request.method}")
    first, last = default_period(request, today)
    bar = progress(total=3, desc=request.method, unit="step")
    with transaction(engine) as conn:
        bar.set_postfix_str("reading the occurrences")
        scope = parse_scope(conn, request.scope, last)
        category = resolve_category(request.category)
        points = fetch_points(conn, scope, first, last, category)
        bar.update()
        bar.set_postfix_str("computing")
        if request.method == "dbscan":
            stored = _dbscan(conn, scope, first, last, category, request)
        else:
            compute = {"gistar": _gistar, "kde": _kde, "emerging": _emerging}[request.method]
            stored = compute(points, scope, first, last, request)
        bar.update()
        bar.set_postfix_str("storing the run")
        run_id = _store_run(conn, request, scope, first, last, category, points, stored)
        if stored.cells is not None:
            _store_cells(conn, run_id, stored.cells)
        else:
            _store_clusters(conn, run_id, stored.clusters)
        bar.update()
    bar.close()
    return RunResult(run_id, request.method, scope.label, first, last, len(points.x),
                     None if stored.cells is None else len(stored.cells), stored.summary, list(stored.warnings),
                     stored.used)


@dataclasses.dataclass
class _Stored:
    params: dict
    summary: dict
    warnings: tuple[str, ...]
    cells: pd.DataFrame | None = None
    clusters: gpd.GeoDataFrame | None = None
    used: str | None = None  # the time steps of an emerging run


def _grid(scope: Scope, request: RunRequest) -> Grid:
    grid = Grid.from_polygon(scope.geometry, size=request.cell)
    if grid.n_cells == 0:
        raise HotspotInputError(f"the scope {scope.label} holds no {request.cell:g} m cell: choose smaller cells")
    return grid


def _require_points(points: Points, scope: Scope) -> None:
    if len(points.x) == 0:
        raise HotspotInputError(f"no occurrence in {scope.label} over this period and category")


def _notes(cells: Cells) -> tuple[str, ...]:
    outside = (f"{cells.outside} occurrences lie in edge cells whose centre is outside the scope: not counted",)
    return (outside if cells.outside else ()) + cells.warnings


def _gistar(points: Points, scope: Scope, first, last, request: RunRequest) -> _Stored:
    if request.grid == "hex":
        return _hex_gistar(points, scope, request)
    grid = _grid(scope, request)
    _require_points(points, scope)
    cells = gistar_cells(points, grid, band=request.band)
    summary = {_bin_label(b): int(n) for b, n in sorted(cells.frame.gi_bin.value_counts().items(), reverse=True)}
    params = {"grid": "square", "cell": request.cell, "band": request.band or 1.5 * request.cell,
              "fdr": "benjamini-hochberg", "significance": SIGNIFICANCE}
    return _Stored(params, summary, _notes(cells), cells=cells.frame)


def _hex_gistar(points: Points, scope: Scope, request: RunRequest) -> _Stored:
    """Gi* on hexagons of area cell², neighbours within one ring (the six touching)."""
    cells = hex_scope(scope.geometry, request.cell)
    _require_points(points, scope)
    counted = hex_counts(cells, points.x, points.y)
    result = hex_gistar(cells, counted.counts)
    frame = pd.DataFrame({"i": cells.q, "j": cells.r, "count": counted.counts, "z": result.z, "p": result.p,
                          "p_fdr": result.p_fdr, "gi_bin": result.gi_bin})
    frame["significant"] = frame.p_fdr <= SIGNIFICANCE
    notes = [f"{counted.outside} occurrences lie in edge hexagons whose centre is outside the scope: not counted"
             ] if counted.outside else []
    summary = {_bin_label(b): int(n) for b, n in sorted(frame.gi_bin.value_counts().items(), reverse=True)}
    params = {"grid": "hex", "cell": request.cell, "rings": 1, "fdr": "benjamini-hochberg",
              "significance": SIGNIFICANCE}
    return _Stored(params, summary, tuple(notes) + result.warnings, cells=frame)


def _kde(points: Points, scope: Scope, first, last, request: RunRequest) -> _Stored:
    grid = _grid(scope, request)
    _require_points(points, scope)
    cells = density_cells(points, grid, bandwidth=request.bandwidth)
    summary = {"bandwidth (m)": round(cells.bandwidth),
               "peak density (per km²)": round(float(cells.frame.density.max()), 1)}
    params = {"cell": request.cell, "bandwidth": cells.bandwidth, "kernel": "quartic",
              "bandwidth_given": request.bandwidth is not None}
    return _Stored(params, summary, _notes(cells), cells=cells.frame)


def _emerging(points: Points, scope: Scope, first, last, request: RunRequest) -> _Stored:
    grid = _grid(scope, request)
    steps = complete_steps(first, last, request.step)
    if len(steps) < MIN_STEPS:
        raise HotspotInputError(
            f"emerging hotspots need at least {MIN_STEPS} complete time steps; {first} to {last} holds "
            f"{steps.describe()} (a step cut by the period or not yet over is left out): choose a longer period")
    _require_points(points, scope)
    cells = emerging_cells(points, grid, steps, band=request.band, lag=request.lag)
    frame = cells.frame
    summary = {name: int(n) for name, n in frame.emerging_category.value_counts().items() if name != "no pattern"}
    summary["no pattern"] = int((frame.emerging_category == "no pattern").sum())
    params = {"cell": request.cell, "band": request.band or 1.5 * request.cell, "step": request.step,
              "steps": len(steps), "lag": request.lag, "first_step": steps.first_day.isoformat(),
              "last_step_ends": steps.last_day.isoformat(), "significance_of_bins": EMERGING_ALPHA,
              "trend_alpha": TREND_ALPHA}
    return _Stored(params, summary, _notes(cells), cells=frame, used=steps.describe())


def _dbscan(conn: Connection, scope: Scope, first, last, category, request: RunRequest) -> _Stored:
    clusters = dbscan_clusters(conn, scope.geometry, first, last, category, eps=request.eps,
                               min_points=request.min_points)
    summary = {"clusters": len(clusters), "occurrences in clusters": int(clusters.occurrences.sum())}
    params = {"eps": request.eps, "minpoints": request.min_points, "order": "occurrence id"}
    return _Stored(params, summary, (), clusters=clusters)


def _store_run(conn, request, scope, first, last, category, points, stored) -> int:
    return conn.execute(sa.text(
        "INSERT INTO hotspot_run (method, scope_kind, scope_ref, scope_geom, period_from, period_to, category_code, "
        "cell_size, params, occurrences, cells, summary, warnings) VALUES (:method, :kind, :ref, "
        "ST_GeomFromWKB(:geom, 2154), :first, :last, :category, :cell, CAST(:params AS jsonb), :occurrences, :cells, "
        "CAST(:summary AS jsonb), :warnings) RETURNING id"),
        {"method": request.method, "kind": scope.kind, "ref": scope.ref, "geom": shapely.to_wkb(scope.geometry),
         "first": first, "last": last, "category": category,
         "cell": None if request.method == "dbscan" else request.cell, "params": json.dumps(stored.params),
         "occurrences": len(points.x), "cells": None if stored.cells is None else len(stored.cells),
         "summary": json.dumps(stored.summary, ensure_ascii=False), "warnings": list(stored.warnings)}).scalar_one()


CELL_COLUMNS = ["i", "j", "count", "z", "p", "p_fdr", "significant", "gi_bin", "density", "emerging_category", "trend"]


def _store_cells(conn, run_id: int, cells: pd.DataFrame) -> None:
    frame = cells.reindex(columns=CELL_COLUMNS)
    frame = frame.astype(object).where(frame.notna(), None)
    copy_rows(conn, "hotspot_cell", ["run_id", *CELL_COLUMNS],
              ((run_id, *(_plain(v) for v in row)) for row in frame.itertuples(index=False)))


def _store_clusters(conn, run_id: int, clusters) -> None:
    copy_rows(conn, "hotspot_cluster", ["run_id", "cluster_id", "occurrences", "hull"],
              ((run_id, int(cid), int(n), shapely.to_wkb(shapely.set_srid(hull, 2154), hex=True, include_srid=True))
               for cid, n, hull in zip(clusters.cluster_id, clusters.occurrences, clusters.geometry)))


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _bin_label(b: int) -> str:
    return {3: "hot 99 %", 2: "hot 95 %", 1: "hot 90 %", 0: "not significant",
            -1: "cold 90 %", -2: "cold 95 %", -3: "cold 99 %"}[int(b)]
