"""The demo's planted places come out of `psq hotspots --method emerging` in the
category they were planted as (data/demo/planted.json, written by the generator)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from geo.demo.loader import TRUTH_FILE

TRUTH = json.loads(TRUTH_FILE.read_text(encoding="utf-8"))


def planted_cells():
    """(place id, category, cell, expected category name) for every planted cell."""
    for place in TRUTH["places"]:
        parts = [place[k] for k in ("old", "new") if k in place] or [place]
        for part in parts:
            expected = part["expected_emerging_class"]
            name = expected if expected == "no pattern" else f"{expected} hot spot"
            yield place["id"], place["category"], part["cell"], name


def test_truth_file_lists_every_behaviour():
    behaviours = {p["behaviour"] for p in TRUTH["places"]}
    assert {"new", "persistent", "intensifying", "diminishing", "sporadic", "displaced"} <= behaviours


def test_planted_places_are_found_in_their_category(engine, demo, psq):
    weeks = TRUTH["weeks"]
    runs = {}
    found = []
    for place_id, category, cell, expected in planted_cells():
        if category not in runs:
            result = psq("hotspots", "--scope", "csp:CSP Belfort", "--method", "emerging", "--category", category,
                         "--from", weeks["first_monday"], "--to", weeks["end"])
            assert result.exit_code == 0, result.output
            runs[category] = int(result.output.split()[1].rstrip(":"))
        with engine.connect() as conn:
            got = conn.execute(sa.text(
                "SELECT emerging_category FROM hotspot_cell WHERE run_id = :r AND i = :i AND j = :j"),
                {"r": runs[category], "i": cell["i"], "j": cell["j"]}).scalar()
        found.append((place_id, got, expected))
    assert [(p, got) for p, got, _ in found] == [(p, expected) for p, _, expected in found]
    assert len(found) == len(TRUTH["places"]) + 1  # the displaced place has an old and a new cell


def test_planted_hot_cells_are_significant_gistar_hotspots(engine, demo):
    from geo.analysis.runs import RunRequest, run_hotspots

    weeks = TRUTH["weeks"]
    last = dt.date.fromisoformat(weeks["end"])
    persistent = [p for p in TRUTH["places"] if p["behaviour"] == "persistent"]
    for place in persistent:
        run = run_hotspots(engine, RunRequest(scope="csp:CSP Belfort", method="gistar", category=place["category"],
                                              first=last - dt.timedelta(days=89), last=last))
        with engine.connect() as conn:
            gi_bin = conn.execute(sa.text("SELECT gi_bin FROM hotspot_cell WHERE run_id = :r AND i = :i AND j = :j"),
                                  {"r": run.run_id, **place["cell"]}).scalar()
        assert gi_bin == 3, place["id"]


def test_the_park_cell_of_bel_centre_is_a_significant_hot_spot_for_gatherings(engine, demo):
    """327 gatherings in a year in one cell: the normal approximation gave z = 2.7 (one dominant cell inflates
    S), which FDR over the sector left insignificant; the exact test finds it."""
    from geo.patrol.zones import Period, sector_hot_cells

    with engine.connect() as conn:
        csp_id = conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()
    last = dt.date.fromisoformat(TRUTH["weeks"]["end"])
    hot = sector_hot_cells(engine, csp_id, "BEL-CENTRE", Period(last - dt.timedelta(days=364), last))
    park = [(int(c), float(z)) for i, j, z, c, k in zip(hot.i, hot.j, hot.z, hot.count, hot.category)
            if (i, j, k) == (4945, 33670, "rassemblements")]
    assert park and park[0][0] == 327, park
    assert park[0][1] < 3  # its z alone would not have said so
