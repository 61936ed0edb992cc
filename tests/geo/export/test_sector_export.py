"""`psq export sectors` writes what `psq load sectors` reads: a lossless round trip."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import shapely

from geo.export.sectors import export_sectors
from geo.ingest.sectors import load_sectors
from geo.territory.lookup import sectors_as_of
from tests.support import BOUNDARIES

DAY1 = dt.date(2024, 1, 1)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_export_then_reload_is_unchanged(engine, tmp_path, fmt):
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=DAY1)
    original = sectors_as_of(engine, DAY1).set_index("code")
    out = tmp_path / f"export.{fmt}"
    count, _ = export_sectors(engine, fmt, out)
    assert count == 8

    report = load_sectors(engine, out, valid_from=dt.date(2025, 1, 1))
    assert sorted(report.unchanged) == sorted(original.index)
    assert report.added == report.changed == report.retired == []

    # The file itself holds the same boundaries, to well under a square metre.
    reread = sectors_as_of(engine, dt.date(2025, 1, 1)).set_index("code")
    for code in original.index:
        assert shapely.symmetric_difference(original.geometry[code], reread.geometry[code]).area < 1.0


def test_geojson_export_is_lonlat_with_history_columns(psq, engine):
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=DAY1)
    result = psq("export", "sectors", "--format", "geojson", "--as-of", "2024-06-01")
    doc = json.loads(result.stdout)
    assert len(doc["features"]) == 8
    first = doc["features"][0]
    assert set(first["properties"]) >= {"code", "name", "csp", "valid_from", "valid_to"}
    assert first["properties"]["valid_from"] == "2024-01-01"
    lon, lat = first["geometry"]["coordinates"][0][0][0]
    assert 6.7 < lon < 7.0 and 47.5 < lat < 47.8


def test_export_before_any_sector_existed_is_empty(psq, engine):
    load_sectors(engine, BOUNDARIES / "sectors-csp-belfort.geojson", valid_from=DAY1)
    result = psq("export", "sectors", "--format", "csv", "--as-of", "2023-12-31")
    assert result.stdout.strip() == "code,name,csp,valid_from,valid_to,chief,geometry"


def test_gpkg_needs_an_output_file(psq):
    result = psq("export", "sectors", "--format", "gpkg")
    assert result.exit_code == 2
    assert "A GeoPackage is a database file: give it a name with -o FILE." in result.output
