"""`psq hotspots` and `psq export hotspots` on the real Belfort road accidents."""

from __future__ import annotations

import datetime as dt
import json
import warnings

import numpy as np
import pytest
import sqlalchemy as sa
from esda.getisord import G_Local
from libpysal.weights import DistanceBand

from geo.analysis.hotspots import HotspotInputError
from geo.analysis.runs import RunRequest, run_hotspots
from geo.ingest.accidents import load_accidents
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from tests.support import BOUNDARIES, table_snapshot

YEARS = (2005, 2020)
PERIOD = dict(first=dt.date(2005, 1, 1), last=dt.date(2020, 12, 31))


@pytest.fixture
def accidents(engine):
    load_communes(engine, "90")
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=dt.date(2000, 1, 1))
    return load_accidents(engine, "90", YEARS)


def stored_cells(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT i, j, count, z, p_fdr, significant, gi_bin FROM hotspot_cell "
                                    "WHERE run_id = :r ORDER BY i, j"), {"r": run_id}).all()


def test_gistar_on_real_accidents_equals_esda(engine, accidents):
    result = run_hotspots(engine, RunRequest(scope="csp:CSP Belfort", method="gistar", **PERIOD))
    cells = stored_cells(engine, result.run_id)
    assert len(cells) == result.cells > 3000
    assert sum(c.count for c in cells) > 100
    centres = np.array([[(c.i + 0.5) * 200, (c.j + 0.5) * 200] for c in cells])
    w = DistanceBand(centres, threshold=300, binary=True, silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = G_Local(np.array([c.count for c in cells], float), w, transform="B", star=True,
                           permutations=0).Zs
    assert np.max(np.abs(np.array([c.z for c in cells]) - expected)) < 1e-9
    hot = [c for c in cells if c.gi_bin > 0]
    assert hot and all(c.z > 0 for c in hot)
    assert all(c.significant == (c.p_fdr <= 0.05) for c in cells)
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT * FROM hotspot_run WHERE id = :r"), {"r": result.run_id}).one()
    assert run.params == {"grid": "square", "cell": 200.0, "band": 300.0, "fdr": "benjamini-hochberg",
                          "significance": 0.05}
    assert (run.scope_kind, run.scope_ref, run.period_from, run.occurrences) == (
        "csp", "CSP Belfort", dt.date(2005, 1, 1), result.occurrences)


def test_export_cells_in_lonlat_with_their_statistics(engine, accidents, psq):
    result = run_hotspots(engine, RunRequest(scope="csp:CSP Belfort", method="gistar", **PERIOD))
    output = psq("export", "hotspots", result.run_id, "--format", "geojson").stdout
    doc = json.loads(output)
    assert len(doc["features"]) == result.cells
    first = doc["features"][0]
    assert list(first["properties"]) == ["i", "j", "count", "z", "p", "significant", "gi_bin"]
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert 6.7 < lon < 7.0 and 47.5 < lat < 47.8
    assert psq("export", "hotspots", 999, "--format", "csv").output.strip() == "Error: no hotspot run 999"


def test_emerging_export_has_categories(engine, accidents, psq):
    result = run_hotspots(engine, RunRequest(scope="csp:CSP Belfort", method="emerging", step="month", **PERIOD))
    header = psq("export", "hotspots", result.run_id, "--format", "csv").stdout.splitlines()[0]
    assert header == "i,j,count,z,p,significant,gi_bin,emerging_category,trend,geometry"


def test_dbscan_is_repeatable_and_stores_hulls(engine, accidents):
    request = RunRequest(scope="csp:CSP Belfort", method="dbscan", eps=150, min_points=4, **PERIOD)
    first, second = run_hotspots(engine, request), run_hotspots(engine, request)
    assert first.summary == second.summary and first.summary["clusters"] >= 1
    with engine.connect() as conn:
        hulls = conn.execute(sa.text(
            "SELECT run_id, cluster_id, occurrences, ST_AsText(hull) FROM hotspot_cluster ORDER BY run_id, cluster_id"
        )).all()
    by_run = {}
    for run_id, *rest in hulls:
        by_run.setdefault(run_id, []).append(tuple(rest))
    assert by_run[first.run_id] == by_run[second.run_id]
    assert all(n >= 4 for _, n, _ in by_run[first.run_id])


def test_kde_density_is_stored(engine, accidents):
    result = run_hotspots(engine, RunRequest(scope="csp:CSP Belfort", method="kde", bandwidth=500, **PERIOD))
    assert result.summary["bandwidth (m)"] == 500
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT sum(density) * 0.04 FROM hotspot_cell WHERE run_id = :r"),
                             {"r": result.run_id}).scalar()
    # Densities per km² over 0.04 km² cells integrate to about the occurrences (less what spills outside).
    assert 0.6 * result.occurrences < total <= 1.01 * result.occurrences


# -- edge cases: a clear sentence, no crash, no NaN map, nothing stored ----------------------
@pytest.mark.parametrize("request_args, message", [
    (dict(scope="csp:CSP Belfort", method="gistar", first=dt.date(2030, 1, 1), last=dt.date(2030, 12, 31)),
     "no occurrence in csp:CSP Belfort over this period and category"),
    (dict(scope="sector:NOPE", method="gistar", **PERIOD), "no sector with code NOPE was valid on 2020-12-31; the "
     "codes then: AGG-EST, AGG-NORD, AGG-OUEST, AGG-SUD, BEL-CENTRE, BEL-GLACIS, BEL-MIOTTE, BEL-RESID"),
    (dict(scope="csp:CSP Nulle", method="gistar", **PERIOD),
     "no CSP named CSP Nulle had sectors on 2020-12-31; the CSPs then: CSP Belfort"),
    (dict(scope="csp:CSP Belfort", method="emerging", first=dt.date(2019, 1, 1), last=dt.date(2019, 2, 28)),
     "emerging hotspots need at least 10 complete time steps; 2019-01-01 to 2019-02-28 holds 7 complete weeks, "
     "Monday 2019-01-07 to Sunday 2019-02-24 (a step cut by the period or not yet over is left out): choose a "
     "longer period"),
    (dict(scope="csp:CSP Belfort", method="gistar", category="vol", **PERIOD), "unknown category 'vol'"),
])
def test_edge_cases_are_refused_with_a_clear_message(engine, accidents, request_args, message):
    before = table_snapshot(engine)
    with pytest.raises(HotspotInputError) as info:
        run_hotspots(engine, RunRequest(**request_args))
    assert str(info.value) == message
    assert table_snapshot(engine) == before


def _one_accident_scope(engine, cells_wide: int) -> str:
    """A lon/lat square around the cell of one accident, ``cells_wide`` cells across."""
    with engine.connect() as conn:
        x, y = conn.execute(sa.text("SELECT ST_X(geom), ST_Y(geom) FROM occurrence ORDER BY id LIMIT 1")).one()
        i, j = int(x // 200), int(y // 200)
        half = cells_wide // 2
        wkt = conn.execute(sa.text(
            "SELECT ST_AsText(ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 2154), 4326))"),
            {"x0": (i - half) * 200 + 1, "y0": (j - half) * 200 + 1,
             "x1": (i + half + 1) * 200 - 1, "y1": (j + half + 1) * 200 - 1}).scalar()
    return f"polygon:{wkt}"


def test_all_cells_equal_is_refused(engine, accidents):
    scope = _one_accident_scope(engine, 1)  # one cell: its count equals itself
    with pytest.raises(HotspotInputError) as info:
        run_hotspots(engine, RunRequest(scope=scope, method="gistar", **PERIOD))
    assert str(info.value).startswith("every cell has the same count (")
    assert str(info.value).endswith("): Gi* is undefined when the counts do not vary")


def test_a_single_occurrence_gives_a_warning_not_a_crash(engine, accidents):
    scope = _one_accident_scope(engine, 7)
    with engine.begin() as conn:  # keep one accident in that square
        conn.execute(sa.text("DELETE FROM occurrence WHERE id <> (SELECT min(id) FROM occurrence)"))
    result = run_hotspots(engine, RunRequest(scope=scope, method="gistar", **PERIOD))
    assert result.occurrences == 1
    # z is computed and stored; no class: one sentence says the data cannot support any.
    assert any(w.startswith("only 1 occurrence in ") and w.endswith(
        "cells: even all in one place, no hot spot could be significant") for w in result.warnings)
    cells = stored_cells(engine, result.run_id)
    assert all(c.z is not None and np.isfinite(c.z) for c in cells)
    assert not any(c.gi_bin for c in cells) and not any(c.significant for c in cells)


def test_hexagon_grid_run_and_export(engine, accidents, psq, tmp_path):
    result = run_hotspots(engine, RunRequest(scope="csp:CSP Belfort", method="gistar", grid="hex", **PERIOD))
    assert result.cells > 3000
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT params->>'grid' FROM hotspot_run WHERE id = :r"),
                            {"r": result.run_id}).scalar() == "hex"
    out = psq("export", "hotspots", result.run_id, "--format", "gpkg", "-o", tmp_path / "hex.gpkg")
    assert out.exit_code == 0
    import geopandas as gpd

    cells = gpd.read_file(tmp_path / "hex.gpkg").to_crs(2154)
    assert len(cells) == result.cells
    assert all(len(g.exterior.coords) == 7 for g in cells.geometry)  # six sides, closed ring
    assert cells.geometry.area.round(3).unique().tolist() == [40000.0]  # area = cell²
    with pytest.raises(HotspotInputError, match="hexagons are available for gistar only"):
        run_hotspots(engine, RunRequest(scope="csp:CSP Belfort", method="emerging", grid="hex", **PERIOD))


def test_load_accidents_reports_every_drop_and_is_idempotent(engine, accidents, psq):
    assert accidents.written == 350 and accidents.rows_read == 2662
    lines = accidents.lines()
    assert "Dropped 2297: no coordinates." in lines
    assert sum(n for _, n in accidents.dropped) + accidents.written == accidents.rows_read
    again = psq("load", "accidents", "--dept", "90", "--years", "2005-2020")
    assert "350 usable, 0 written, 350 already present." in again.output
    with engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT DISTINCT source, category_code FROM occurrence")).all()
    assert kinds == [("ONISR", "securite_routiere")]
    refused = psq("load", "accidents", "--dept", "90", "--years", "2030")
    assert refused.exit_code == 1
    assert refused.output.strip() == ("Error: Years 2030 to 2030 are not all in the accident files, which hold "
                                      "2005 to 2020.")


def test_sector_codes_and_csp_names_in_any_case_name_the_same_scope(engine, accidents, psq):
    exact = run_hotspots(engine, RunRequest(scope="sector:BEL-CENTRE", method="gistar", **PERIOD))
    lower = run_hotspots(engine, RunRequest(scope="sector:bel-centre", method="gistar", **PERIOD))
    assert (lower.scope, lower.occurrences, lower.cells) == (exact.scope, exact.occurrences, exact.cells)
    assert lower.scope.endswith("BEL-CENTRE")
    csp = run_hotspots(engine, RunRequest(scope="csp:csp belfort", method="gistar", **PERIOD))
    assert csp.occurrences >= exact.occurrences
    result = psq("hotspots", "--scope", "sector:bel-centre", "--from", "2020-01-01", "--to", "2020-12-31")
    assert result.exit_code == 0, result.output


def test_an_impossible_date_is_refused_in_one_sentence_of_ours(psq):
    result = psq("hotspots", "--scope", "sector:BEL-CENTRE", "--from", "2026-02-30")
    assert result.exit_code == 2
    assert "2026-02-30 is not a day of the calendar: write YYYY-MM-DD, for example 2026-03-31." in result.output
    assert "does not match the format" not in result.output
