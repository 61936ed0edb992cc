"""Sector history a user can live with (issue 10): the first version covers the past, an unchanged boundary
stays unchanged whatever the file's precision or CRS, and occurrences loaded before their sectors' first day
are attributed once the sectors are dated right."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from geo.ingest.communes import load_communes
from geo.ingest.occurrences import load_occurrences
from geo.ingest.sectors import OPEN_START, load_sectors
from geo.settings import local_today
from tests.support import BOUNDARIES

DEMO = BOUNDARIES / "sectors-csp-belfort.geojson"
TODAY = local_today()  # explicit dates are built from it; the default day is read at the call


def versions(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT code, valid_from, valid_to FROM sector ORDER BY code, valid_from"))]


def lonlat_file(gdf: gpd.GeoDataFrame, path, decimals: int):
    """The sectors as a GeoJSON in EPSG:4326 with lon/lat rounded to ``decimals`` (as exports write them)."""
    wgs = gdf.to_crs(4326)
    features = []
    for row in wgs.itertuples():
        rounded = shapely.transform(row.geometry, lambda xy: np.round(xy, decimals))
        features.append({"type": "Feature", "properties": {"code": row.code, "name": row.name, "csp": row.csp},
                         "geometry": shapely.geometry.mapping(rounded)})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def lambert_gpkg(tmp_path):
    gdf = gpd.read_file(DEMO).to_crs(2154)
    path = tmp_path / "secteurs.gpkg"
    gdf.to_file(path, driver="GPKG")
    return gdf, path


def occurrences_csv(tmp_path, days: int = 730):
    """One occurrence a week for two years at the centre of each demo sector."""
    sectors = gpd.read_file(DEMO)
    lines = ["id,category,lat,lon,occurred_at"]
    for k, row in enumerate(sectors.itertuples()):
        point = row.geometry.representative_point()
        for d in range(7, days, 7):
            day = TODAY - dt.timedelta(days=d)
            lines.append(f"{k}-{d},rodeos,{point.y:.6f},{point.x:.6f},{day} 21:30")
    path = tmp_path / "faits.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, len(lines) - 1


def test_first_version_covers_the_past_and_two_years_of_occurrences_are_attributed(engine, tmp_path):
    load_communes(engine, "90")
    report = load_sectors(engine, DEMO)
    assert {v[1] for v in versions(engine)} == {OPEN_START}
    assert any("valid from the beginning (no --valid-from given)" in line for line in report.lines())
    path, n = occurrences_csv(tmp_path)
    loaded = load_occurrences(engine, path)
    assert loaded.written == n and loaded.outside_sectors == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM occurrence WHERE sector_id IS NULL")).scalar() == 0
    # A later version still starts today by default.
    changed = gpd.read_file(DEMO)
    changed.loc[0, "name"] = "Nouveau nom"
    changed.to_file(tmp_path / "v2.geojson", driver="GeoJSON")
    before = local_today()
    assert load_sectors(engine, tmp_path / "v2.geojson").changed == [changed.code[0]]
    # The day in France, read around the call: a run that crosses midnight sees either day.
    new = [v for v in versions(engine) if v[0] == changed.code[0] and v[2] is None]
    assert len(new) == 1 and new[0][1] in {before, local_today()}


def test_occurrences_before_the_sectors_first_day_are_named_then_attributed(engine, tmp_path):
    load_communes(engine, "90")
    load_sectors(engine, DEMO, valid_from=TODAY)
    path, n = occurrences_csv(tmp_path)
    report = load_occurrences(engine, path)
    assert report.outside_sectors == n and report.not_yet_valid == n
    first = TODAY - dt.timedelta(days=728)
    sentence = (f"{n} of them lie inside a sector that was not yet in force on their day (they date from {first} "
                f"to {TODAY - dt.timedelta(days=7)}, the sectors from {TODAY}): load the same sectors again with "
                f"--valid-from {first} or earlier, and they will be attributed.")
    assert sentence in report.lines()
    fixed = load_sectors(engine, DEMO, valid_from=first)
    assert fixed.unchanged and not fixed.changed and fixed.attributed == n
    assert f"{n} occurrences that lay in no sector on their day are now attributed." in fixed.lines()
    assert {v[1] for v in versions(engine)} == {first} and len(versions(engine)) == 8
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM occurrence WHERE sector_id IS NULL")).scalar() == 0


def test_same_sectors_from_another_format_and_precision_write_no_history(engine, tmp_path):
    gdf, gpkg = lambert_gpkg(tmp_path)
    assert len(load_sectors(engine, gpkg).added) == 8
    before = versions(engine)
    for decimals in (7, 6):
        path = lonlat_file(gdf, tmp_path / f"secteurs-{decimals}.geojson", decimals)
        same_day = load_sectors(engine, path)
        assert sorted(same_day.unchanged) == sorted(gdf.code) and not same_day.changed, decimals
        later = load_sectors(engine, path, valid_from=TODAY + dt.timedelta(days=30))
        assert sorted(later.unchanged) == sorted(gdf.code) and not later.changed, decimals
    assert versions(engine) == before


def test_a_real_change_of_two_metres_writes_one_new_version(engine, tmp_path):
    gdf, gpkg = lambert_gpkg(tmp_path)
    load_sectors(engine, gpkg)
    moved = gdf.copy()
    polygon = moved.geometry.iloc[0].geoms[0] if moved.geometry.iloc[0].geom_type == "MultiPolygon" \
        else moved.geometry.iloc[0]
    ring = np.asarray(polygon.exterior.coords)
    # Move one vertex by 2 m into the sector: a gap with the neighbour (a warning), never an overlap.
    original = shapely.Polygon(ring)
    k, step = 1, (ring[2] - ring[0])[::-1] * np.array([1.0, -1.0])
    step = 2.0 * step / np.linalg.norm(step)
    for candidate in (step, -step):
        trial = ring.copy()
        trial[k] += candidate
        if shapely.Polygon(trial).within(original.buffer(0.001)):
            ring = trial
            break
    else:
        raise AssertionError("no inward move found")
    moved.loc[moved.index[0], "geometry"] = shapely.MultiPolygon([shapely.Polygon(ring)])
    path = tmp_path / "moved.gpkg"
    moved.to_file(path, driver="GPKG")
    report = load_sectors(engine, path, valid_from=TODAY + dt.timedelta(days=1))
    assert report.changed == [moved.code.iloc[0]] and len(report.unchanged) == 7
    assert len(versions(engine)) == 9


def test_an_unclosed_ring_is_named_and_no_library_warning_reaches_the_user(engine, tmp_path, capfd, psq):
    import warnings

    from geo.ingest.vector_file import VectorFileError

    ring = [[6.87, 47.63], [6.88, 47.63], [6.88, 47.64], [6.87, 47.64]]  # last point is not the first
    closed = [[6.85, 47.63], [6.86, 47.63], [6.86, 47.64], [6.85, 47.64], [6.85, 47.63]]
    path = tmp_path / "ouvert.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "A", "name": "A", "csp": "CSP Test"},
         "geometry": {"type": "Polygon", "coordinates": [closed]}},
        {"type": "Feature", "properties": {"code": "B", "name": "B", "csp": "CSP Test"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            load_sectors(engine, path)
        except VectorFileError as error:
            message = str(error)
        else:
            raise AssertionError("an unclosed ring was loaded")
    assert message == ("ouvert.geojson, feature 2: a ring of its polygon is not closed (its last point is not its "
                       "first; it starts at (6.87, 47.63)): close it, as every polygon ring must be.")
    assert [str(w.message) for w in caught] == []
    assert "truncated or corrupt" not in message
    result = psq("load", "sectors", path)
    out, err = capfd.readouterr()
    assert result.exit_code == 1 and "feature 2: a ring of its polygon is not closed" in result.output
    assert "OGR_GEOMETRY_ACCEPT_UNCLOSED_RING" not in out + err + result.output
    assert versions(engine) == []


def test_a_file_without_ids_loads_and_loading_it_again_adds_nothing(engine, tmp_path):
    load_communes(engine, "90")
    load_sectors(engine, DEMO)
    rows = ["catégorie;lat;lon;date;description",
            "rodéos;47,6389;6,8631;2024-05-04 22:15;Rodéo près de l'école",
            "rodéos;47,6389;6,8631;2024-05-04 22:15;Rodéo près de l'école",  # the same event twice: two events
            "alcoolisation;47,6390;6,8632;2024-05-05 23:15;Réunion",
            "rodéos;47,6389;6,8631;2024-05-04 22:16;Rodéo près de l'école",
            "incivilités;47,6391;6,8633;2024-06-01 10:00;Tags",
            "rodéos;47,6389;6,8631;2024-05-11 22:15;Rodéo près de l'école",
            "alcoolisation;47,6392;6,8634;2024-05-05 23:15;Réunion",
            "alcoolisation;47,6392;6,8634;2024-05-05 23:15;Réunion"]
    path = tmp_path / "sans-id.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    first = load_occurrences(engine, path, source="export")
    assert (first.read, first.written, first.already_present, first.rejected) == (8, 8, 0, 0)
    note = next(line for line in first.lines() if line.startswith("No id column"))
    assert "2 rows identical to an earlier row of the file are kept as distinct events" in note
    again = load_occurrences(engine, path, source="export")
    assert (again.written, again.already_present) == (0, 8)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*), count(DISTINCT external_id), "
                                      "array_agg(DISTINCT description) FROM occurrence")).one()
    assert stored[:2] == (8, 8) and sorted(stored[2]) == ["Rodéo près de l'école", "Réunion", "Tags"]
