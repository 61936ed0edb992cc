"""``psq load cameras``, ``psq cameras coverage`` and ``psq cameras propose``: a bad file refused in sentences with
nothing written, the JSON keys and values, the readable lines."""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.fixtures.cameras import DEMAND, SITES, X0, Y0, camera_file, camera_line, plant, polar


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM camera")).scalar()


def test_a_bad_file_is_refused_and_nothing_written(engine, territory, psq, tmp_path):
    path = camera_file(tmp_path, camera_line("C1", 0, 0, 0, 90, 50), camera_line("C2", 0, 0, 0, 90, 50, "broken"))
    result = psq("load", "cameras", path)
    assert result.exit_code == 1
    assert result.output == ("Error: cameras.csv: 1 of 2 rows are bad; nothing was written.\n"
                             "  line 3: unknown status 'broken' (known: existing, proposed).\n")
    assert _count(engine) == 0


def test_a_good_file_is_loaded(engine, territory, psq, tmp_path):
    result = psq("load", "cameras", camera_file(tmp_path, camera_line("C1", 0, 0, 0, 90, 50)), "--source", "ville")
    assert result.exit_code == 0, result.output
    assert result.output == "cameras.csv: 1 rows read, 1 cameras added, 0 updated, 0 unchanged (source 'ville').\n"
    assert _count(engine) == 1


def test_coverage_as_json_and_lines(engine, territory, psq, tmp_path):
    plant(engine, [(X0 + dx, Y0 + dy) for dx, dy in (polar(30, 0), polar(30, 10), polar(30, 180), polar(80, 0))])
    psq("load", "cameras", camera_file(tmp_path, camera_line("C1", 0, 0, 0, 90, 50)))
    result = psq("cameras", "coverage", "--commune", "90010", "--category", "Stupéfiants", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out) == ["occurrences", "covered", "share", "uncovered_hot_cells"]
    assert (out["occurrences"], out["covered"], out["share"], out["uncovered_hot_cells"]) == (4, 2, 0.5, [])
    lines = psq("cameras", "coverage", "--commune", "90010").output.splitlines()
    assert lines[0].endswith(": 4 occurrences, 2 inside the wedges of 1 existing cameras (50.0%).")
    assert lines[1] == "Hot cells (Gi*, 200 m): 1, 0 left uncovered."  # 4 in one cell of ~400: hot; half seen
    empty = json.loads(psq("cameras", "coverage", "--commune", "90011", "--json").output)
    assert empty == {"occurrences": 0, "covered": 0, "share": None, "uncovered_hot_cells": []}


def test_propose_as_json_and_lines(engine, territory, psq, tmp_path):
    plant(engine, DEMAND)
    sites = tmp_path / "sites.csv"
    sites.write_text("id,lat,lon\n" + "".join(f"{name},{lat},{lon}\n" for name, lat, lon in SITES))
    result = psq("cameras", "propose", "--commune", "90010", "--p", 2, "--candidates", sites, "--range", 60, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out) == ["chosen", "covered", "share", "gains", "already_covered", "occurrences", "exact", "pool",
                         "sites"]
    assert sorted(out["chosen"]) == ["Left", "Right"] and (out["exact"], out["pool"]) == (True, 3)
    assert (out["covered"], out["share"], out["gains"], out["already_covered"], out["occurrences"]) == (
        14, 1.0, [7, 7], 0, 14)
    assert [set(s) for s in out["sites"]] == [{"id", "lat", "lon", "bearing", "gain"}] * 2
    lines = psq("cameras", "propose", "--commune", "90010", "--p", 2, "--candidates", sites).output.splitlines()
    assert lines[0].endswith("14 occurrences, 0 already covered by 0 existing cameras; 3 candidate cameras.")
    assert lines[1].startswith("  1. ") and lines[1].endswith("(dome): +7 occurrences")
    assert lines[-2:] == ["Covered with the new cameras: 14 (100.0%).",
                          "The choice is proved optimal over every candidate."]


def test_propose_refuses_in_one_sentence(engine, territory, psq, tmp_path):
    result = psq("cameras", "propose", "--commune", "90010", "--p", 0)
    assert result.exit_code == 1
    assert result.output == "Error: p 0: the number of new cameras must be from 1 to 20.\n"
    bad = tmp_path / "sites.csv"
    bad.write_text("id,lat,lon\nA,47.638,6.8628\nB,47.64,abc\n")
    refused = psq("cameras", "propose", "--commune", "90010", "--p", 1, "--candidates", bad)
    assert refused.exit_code == 1
    assert refused.output == ("Error: sites.csv: 1 of 2 rows are bad; nothing was proposed.\n"
                              "  line 3: lon 'abc' is not a number.\n")
    unknown = psq("cameras", "coverage", "--commune", "90010", "--category", "nothing")
    assert unknown.exit_code == 1 and unknown.output == "Error: unknown category 'nothing'\n"
