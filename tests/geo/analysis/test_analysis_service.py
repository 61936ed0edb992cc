"""One analysis service (issue 11): the sector page, the stored runs and the patrol zones compute Gi*, the
emerging categories and the DBSCAN clusters through the same paths (geo.analysis.methods), and read the
sectors valid on a day through one query (geo.analysis.scopes)."""

from __future__ import annotations

import datetime as dt
import inspect

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from geo.accounts.users import SectorRef, UserScope
from geo.analysis import methods, sector_view
from geo.analysis.hotspots import CATEGORIES, Grid, count_points, gistar
from geo.analysis.hotspots.grid import DEFAULT_CELL_SIZE
from geo.analysis.points import fetch_points
from geo.analysis.runs import RunRequest, run_hotspots
from geo.analysis.scopes import area_on_day, parse_scope, sector_on_day, sectors_on_day
from geo.demo.loader import SECTORS_VALID_FROM
from geo.patrol.zones import Period, allowed_area, sector_geometry, sector_hot_cells
from geo.settings import CELL_SIZE_M, DBSCAN_EPS_M, DBSCAN_MIN_POINTS
from layers.hotspot_layers import EMERGING_STYLE

CSP = "CSP Belfort"
# The demo's synthetic weeks end on Sunday 2026-11-15; 104 weeks before it start on Monday 2024-11-18.
FIRST, LAST = dt.date(2025, 11, 16), dt.date(2026, 11, 15)
CATEGORY = "alcoolisation"


def sql_sectors(engine, day: dt.date) -> list[tuple[str, float]]:
    """An independent SQL reading of the sectors valid on a day: code and area."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT code, ST_Area(geom) FROM sector WHERE valid_from <= :d AND (valid_to IS NULL OR valid_to > :d) "
            "ORDER BY csp_id, code"), {"d": day})]


def stored_cells(engine, run_id: int, columns: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT {columns} FROM hotspot_cell WHERE run_id = :r ORDER BY i, j"), {"r": run_id})]


# -- one set of settings ---------------------------------------------------------------------------------


def test_every_path_takes_the_cell_and_dbscan_defaults_of_the_settings():
    defaults = inspect.signature(methods.dbscan_clusters).parameters
    assert (defaults["eps"].default, defaults["min_points"].default) == (DBSCAN_EPS_M, DBSCAN_MIN_POINTS)
    request = RunRequest(scope="csp:x", method="dbscan")
    assert (request.eps, request.min_points, request.cell) == (DBSCAN_EPS_M, DBSCAN_MIN_POINTS, CELL_SIZE_M)
    assert DEFAULT_CELL_SIZE == CELL_SIZE_M
    # The page keeps the cells with a trend without asking the map layers which those are.
    assert set(EMERGING_STYLE) == set(CATEGORIES) - {methods.NO_PATTERN}


# -- one "sector valid on a day" ---------------------------------------------------------------------------


def test_sectors_on_a_day_are_those_sql_finds_and_fail_closed(engine, territory):
    expected = sql_sectors(engine, LAST)
    found = sectors_on_day(engine, LAST)
    assert [(s.code, pytest.approx(s.geometry.area)) for s in found] == expected
    assert sectors_on_day(engine, SECTORS_VALID_FROM - dt.timedelta(days=1)) == []
    assert sectors_on_day(engine, LAST, keys=[]) == []  # a user with no sector: nothing

    centre = sector_on_day(engine, LAST, csp=CSP, code="BEL-CENTRE")
    assert centre.geometry.geom_type == "MultiPolygon" and centre.csp_name == CSP
    assert sector_on_day(engine, LAST, csp_id=centre.csp_id, code="BEL-CENTRE") == centre
    assert sector_on_day(engine, LAST, keys=[f"{centre.csp_id}:BEL-CENTRE"]) == centre
    assert sector_geometry(engine, centre.csp_id, "BEL-CENTRE", LAST).equals(centre.geometry)
    assert sector_on_day(engine, LAST, csp=CSP, code="NOPE") is None
    assert parse_scope(engine, "sector:BEL-CENTRE", LAST).geometry.equals(centre.geometry)

    with engine.connect() as conn:
        union_area = conn.execute(sa.text(
            "SELECT ST_Area(ST_Union(s.geom)) FROM sector s JOIN csp c ON c.id = s.csp_id WHERE c.name = :csp "
            "AND s.valid_from <= :d AND (s.valid_to IS NULL OR s.valid_to > :d)"), {"csp": CSP, "d": LAST}).scalar()
    assert area_on_day(engine, LAST, csp=CSP).area == pytest.approx(union_area, rel=1e-9)
    assert parse_scope(engine, f"csp:{CSP}", LAST).geometry.area == pytest.approx(union_area, rel=1e-9)

    chief = UserScope("chef_secteur", sectors=(SectorRef(centre.csp_id, CSP, "BEL-CENTRE"),
                                               SectorRef(centre.csp_id, CSP, "BEL-GLACIS")))
    glacis = sector_on_day(engine, LAST, csp_id=centre.csp_id, code="BEL-GLACIS")
    mine = allowed_area(engine, chief, centre.csp_id, LAST)
    assert mine.geom_type == "MultiPolygon"
    assert mine.area == pytest.approx(shapely.union(centre.geometry, glacis.geometry).area, rel=1e-9)
    assert allowed_area(engine, UserScope("chef_secteur"), centre.csp_id, LAST).is_empty


# -- one Gi*, one emerging path, one DBSCAN --------------------------------------------------------------


def test_page_runs_and_zones_compute_the_same_statistics(engine, demo):
    sector = sector_on_day(engine, LAST, csp=CSP, code="BEL-CENTRE")
    view = sector_view.analyse(engine, sector, sector_view.ViewFilters(FIRST, LAST, CATEGORY))
    assert view.notes == {}

    # Gi*: the engine on the sector's grid, as the page computed it before the service...
    grid = Grid.from_polygon(sector.geometry, size=CELL_SIZE_M)
    points = fetch_points(engine, sector.scope(), FIRST, LAST, CATEGORY)
    counts = count_points(grid, points.x, points.y).counts
    reference = gistar(counts, grid).to_frame(grid, counts)
    assert view.gistar[["i", "j", "count"]].values.tolist() == reference[["i", "j", "count"]].values.tolist()
    np.testing.assert_array_equal(view.gistar.z.to_numpy(), reference.z.to_numpy())
    assert view.gistar.geometry.iloc[0].equals(methods.cell_squares([reference.i[0]], [reference.j[0]])[0])
    # ... the stored run of `psq hotspots` ...
    run = run_hotspots(engine, RunRequest(scope="sector:BEL-CENTRE", method="gistar", first=FIRST, last=LAST,
                                          category=CATEGORY))
    stored = stored_cells(engine, run.run_id, "i, j, count, z, gi_bin")
    assert [list(s[:3]) for s in stored] == view.gistar[["i", "j", "count"]].values.tolist()
    np.testing.assert_allclose([s[3] for s in stored], view.gistar.z, rtol=0, atol=1e-12)
    assert [s[4] for s in stored] == view.gistar.gi_bin.tolist()
    # ... and the zones' hot cells of that category.
    hot = sector_hot_cells(engine, sector.csp_id, "BEL-CENTRE", Period(FIRST, LAST))
    hot = hot.only(hot.category == CATEGORY)
    significant = view.gistar[view.gistar.significant & (view.gistar.z > 0) & (view.gistar["count"] > 0)]
    assert len(hot.i) > 0
    assert list(zip(hot.i.tolist(), hot.j.tolist())) == list(zip(significant.i, significant.j))

    # Emerging: the page's 104 weeks are the run's weekly steps over the same days.
    weeks = RunRequest(scope="sector:BEL-CENTRE", method="emerging", step="week", category=CATEGORY,
                       first=LAST - dt.timedelta(days=7 * sector_view.EMERGING_WEEKS - 1), last=LAST)
    trends = stored_cells(engine, run_hotspots(engine, weeks).run_id, "i, j, emerging_category, count")
    assert trends == [tuple(r) for r in view.emerging[["i", "j", "emerging_category", "count"]].values.tolist()]
    assert any(t[2] != methods.NO_PATTERN for t in trends)
    # All categories at once: each category apart, as its own view shows it (the cells with a trend).
    every = sector_view.analyse(engine, sector, sector_view.ViewFilters(FIRST, LAST, None))
    label = next(c for c in every.emerging.category.unique() if c.lower().startswith("alcool"))
    mine = every.emerging[every.emerging.category == label]
    with_trend = view.emerging[view.emerging.emerging_category != methods.NO_PATTERN]
    assert mine[["i", "j", "emerging_category"]].values.tolist() == \
        with_trend[["i", "j", "emerging_category"]].values.tolist()

    # DBSCAN: one query, the defaults of the settings, the same clusters for the page and the run.
    clusters = run_hotspots(engine, RunRequest(scope="sector:BEL-CENTRE", method="dbscan", first=FIRST, last=LAST,
                                               category=CATEGORY))
    with engine.connect() as conn:
        stored_clusters = conn.execute(sa.text(
            "SELECT cluster_id, occurrences, ST_AsBinary(hull) FROM hotspot_cluster WHERE run_id = :r "
            "ORDER BY cluster_id"), {"r": clusters.run_id}).all()
    assert len(view.clusters) >= 1
    assert [(r.cluster_id, r.occurrences) for r in stored_clusters] == \
        list(zip(view.clusters.cluster_id, view.clusters.occurrences))
    assert all(shapely.from_wkb(bytes(r[2])).equals(g) for r, g in zip(stored_clusters, view.clusters.geometry))


def test_the_emerging_analysis_uses_complete_weeks_only(engine, demo):
    """The data end on Sunday 2026-11-15: a view ending on the Wednesday after must not read the three days it
    has of that week as a drop (the planted places kept their class only with au=2026-11-15 before)."""
    with engine.connect() as conn:
        sector = sector_on_day(conn, LAST, csp=CSP, code="BEL-CENTRE")
        on_sunday = sector_view.analyse(conn, sector, sector_view.ViewFilters(FIRST, LAST, None))
        on_wednesday = sector_view.analyse(conn, sector, sector_view.ViewFilters(
            FIRST + dt.timedelta(days=3), LAST + dt.timedelta(days=3), None))
    assert on_sunday.steps == on_wednesday.steps == (
        "104 semaines complètes, du lundi 18/11/2024 au dimanche 15/11/2026")
    columns = ["i", "j", "category", "emerging_category"]
    assert on_sunday.emerging[columns].equals(on_wednesday.emerging[columns])
    assert "consecutive hot spot" in set(on_sunday.emerging.emerging_category)


def test_complete_steps_never_count_an_unfinished_week_or_month():
    today = dt.date(2026, 12, 2)  # a Wednesday
    weeks = methods.complete_steps(dt.date(2026, 11, 1), today, "week", today=today)
    assert weeks.last_day == dt.date(2026, 11, 29) and weeks.first_day == dt.date(2026, 11, 2) and len(weeks) == 4
    months = methods.complete_steps(dt.date(2026, 1, 1), today, "month", today=today)
    assert months.last_day == dt.date(2026, 11, 30) and len(months) == 11
    assert len(methods.complete_steps(dt.date(2026, 11, 30), today, "week", today=today)) == 0
