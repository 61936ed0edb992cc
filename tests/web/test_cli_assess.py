"""``psq assess``: the counts and measures of an area drawn in a file (any CRS), as JSON and as a table; a bad file
or date refused in one sentence."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from geo.gpo.assessment import Counts, measures
from tests.geo.gpo.test_assessment import AREA, CONTROL, X0, Y0, _plant

KEYS = ["Rb", "Ra", "Db", "Da", "Cb", "Ca", "GE", "NE", "WDQ", "TNE", "reading"]


def _files(tmp_path):
    """R as GeoJSON in lon/lat, C as a GeoPackage in Lambert-93."""
    area, control = tmp_path / "zone.geojson", tmp_path / "temoin.gpkg"
    gpd.GeoDataFrame({"nom": ["R"]}, geometry=[AREA], crs=2154).to_crs(4326).to_file(area)
    gpd.GeoDataFrame({"nom": ["C"]}, geometry=[CONTROL], crs=2154).to_file(control)
    return area, control


def _data(engine):
    """R: 4 before, 1 after; D: 2 and 2; C: 10 and 10 (the action on 25 March 2026, 10 days each side)."""
    r, d, c = (X0 + 50, Y0 + 50), (X0 + 50, Y0 + 250), (X0 + 1_500, Y0 + 500)
    before, after = "2026-03-20 10:00", "2026-03-30 10:00"
    _plant(engine, [(*r, before, "stupefiants")] * 4 + [(*r, after, "stupefiants")]
           + [(*d, before, "stupefiants")] * 2 + [(*d, after, "stupefiants")] * 2
           + [(*c, before, "stupefiants")] * 10 + [(*c, after, "stupefiants")] * 10)


def test_json_gives_exactly_the_eleven_keys(engine, psq, tmp_path):
    _data(engine)
    area, control = _files(tmp_path)
    result = psq("assess", "--area", area, "--date", "2026-03-25", "--days", 10, "--control", control, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out) == KEYS
    # GE = 4 - 1; NE = 4/10 - 1/10; WDQ = (2/10 - 2/10) / (1/10 - 4/10) = 0; TNE = [4 x 1 - 1] + [2 x 1 - 2]
    assert {k: out[k] for k in KEYS[:-1]} == {"Rb": 4, "Ra": 1, "Db": 2, "Da": 2, "Cb": 10, "Ca": 10, "GE": 3,
                                             "NE": 0.3, "WDQ": 0.0, "TNE": 3.0}
    assert out["reading"] == measures(Counts(4, 1, 2, 2, 10, 10)).reading
    assert "pas plus que le hasard" in out["reading"]  # 4 then 1 against 10 and 10: chance (Fisher)


def test_the_table_in_french(engine, psq, tmp_path):
    _data(engine)
    area, control = _files(tmp_path)
    result = psq("assess", "--area", area, "--date", "2026-03-25", "--days", 10, "--buffer", 300,
                 "--control", control, "--category", "Stupéfiants")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Évaluation de l'action du 25/03/2026 : 10 jours avant (15/03/2026 – 24/03/2026)")
    assert "couronne de 300 m, catégorie stupefiants" in lines[0]
    assert lines[3].split() == ["R", "zone", "de", "l'action", "4", "1"]
    assert lines[4].split() == ["D", "couronne", "2", "2"] and lines[5].split() == ["C", "zone", "témoin", "10", "10"]
    assert [line.split() for line in lines[7:11]] == [["GE", "3"], ["NE", "0,3000"], ["WDQ", "0,00"], ["TNE", "3,0"]]


def test_an_undefined_measure_is_a_dash(engine, psq, tmp_path):
    area, control = _files(tmp_path)
    result = psq("assess", "--area", area, "--date", "2026-03-25", "--control", control)
    assert result.exit_code == 0, result.output
    assert "NE   —" in result.output and "Cb = Ca = 0" in result.output


def test_a_bad_file_or_date_is_refused_in_one_sentence(engine, psq, tmp_path):
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(6.86, 47.64)], crs=4326).to_file(points)
    result = psq("assess", "--area", points, "--date", "2026-03-25")
    assert result.exit_code == 1
    assert result.output == ("Error: points.geojson holds no polygon: the area assessed must be drawn as a "
                             "polygon.\n")
    bowtie = tmp_path / "noeud.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Polygon([(6.86, 47.64), (6.87, 47.65), (6.87, 47.64), (6.86, 47.65)])],
                     crs=4326).to_file(bowtie)
    crossed = psq("assess", "--area", bowtie, "--date", "2026-03-25")
    assert crossed.exit_code == 1 and crossed.output.startswith("Error: noeud.geojson, feature 1: not a valid polygon")
    missing = psq("assess", "--area", tmp_path / "nowhere.geojson", "--date", "2026-03-25")
    assert (missing.exit_code, missing.output) == (1, f"Error: {tmp_path / 'nowhere.geojson'}: no such file.\n")
    area, _ = _files(tmp_path)
    old = psq("assess", "--area", area, "--date", "1990-01-05")
    assert old.exit_code == 1 and old.output.startswith("Error: La date de l'action 05/01/1990 est hors du calendrier")
    assert len(old.output.strip().splitlines()) == 1
    # A day not in the calendar is click's usage error (exit 2), in the sentence of web.cli.common.Day.
    bad = psq("assess", "--area", area, "--date", "2026-02-30")
    assert bad.exit_code == 2 and "2026-02-30 is not a day of the calendar" in bad.output
