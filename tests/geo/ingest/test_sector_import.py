"""`psq load sectors`: every refusal with its message, history, idempotence, CRS."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod

from geo.ingest.sectors import load_sectors
from geo.ingest.vector_file import VectorFileError
from geo.territory.lookup import sectors_as_of
from tests.support import BOUNDARIES, table_snapshot

DEMO = BOUNDARIES / "sectors-csp-belfort.geojson"
DAY1 = dt.date(2024, 1, 1)
DAY2 = dt.date(2025, 6, 1)


def demo_sectors() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO)


def write(gdf: gpd.GeoDataFrame, path, **kwargs):
    gdf.to_file(path, **kwargs)
    return path


def geojson_file(tmp_path, features, name="sectors.geojson", crs_member=None):
    doc = {"type": "FeatureCollection", "features": features}
    if crs_member:
        doc["crs"] = {"type": "name", "properties": {"name": crs_member}}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def feature(code, name, coordinates, kind="Polygon", csp="CSP Test"):
    return {"type": "Feature", "properties": {"code": code, "name": name, "csp": csp},
            "geometry": {"type": kind, "coordinates": coordinates}}


def square(lon, lat, size=0.01):
    return [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]


def refused(engine, path, **options) -> str:
    """Load must fail, change nothing, and say why: returns the message."""
    before = table_snapshot(engine)
    with pytest.raises(VectorFileError) as info:
        load_sectors(engine, path, valid_from=DAY1, **options)
    assert table_snapshot(engine) == before
    return str(info.value)


@pytest.fixture
def loaded(engine):
    return load_sectors(engine, DEMO, valid_from=DAY1)


# -- the demo file loads, and a second load changes nothing ---------------------------
def test_demo_file_loads_then_reloads_unchanged(engine, loaded):
    assert sorted(loaded.added) == sorted(demo_sectors().code)
    again = load_sectors(engine, DEMO, valid_from=DAY2)
    assert again.added == again.changed == again.retired == []
    assert len(again.unchanged) == 8
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sector")).scalar() == 8


def test_area_of_a_sector_in_lonlat_is_right_in_km2(engine, tmp_path):
    # A 0.02° x 0.02° cell near Belfort; its true (ellipsoidal) area from pyproj.
    ring = square(6.85, 47.63, 0.02)
    expected_km2 = abs(Geod(ellps="GRS80").polygon_area_perimeter(*zip(*ring[0]))[0]) / 1e6
    path = geojson_file(tmp_path, [feature("SQ", "Carré", ring)])
    load_sectors(engine, path, valid_from=DAY1)
    with engine.connect() as conn:
        geodesic, planar = conn.execute(sa.text(
            "SELECT ST_Area(ST_Transform(geom, 4326)::geography) / 1e6, ST_Area(geom) / 1e6 FROM sector"
        )).one()
    assert expected_km2 == pytest.approx(3.34, abs=0.01)
    assert geodesic == pytest.approx(expected_km2, abs=0.001)
    # Stored in Lambert-93 metres: the planar area differs by the projection's scale only.
    assert planar == pytest.approx(expected_km2, rel=0.003)


# -- refusals: each with its own message, and the database unchanged -------------------
def test_refuses_self_intersecting_polygon(engine, tmp_path, loaded):
    bowtie = [[[6.85, 47.63], [6.87, 47.65], [6.87, 47.63], [6.85, 47.65], [6.85, 47.63]]]
    path = geojson_file(tmp_path, [feature("A", "Alpha", square(6.80, 47.60)), feature("B", "Bowtie", bowtie)])
    message = refused(engine, path)
    assert message == (
        "sectors.geojson: feature 2 (code B) is not a valid polygon: self-intersection at (6.86, 47.64) "
        "in EPSG:4326. Fix it or load with --repair."
    )


def test_repair_fixes_self_intersection_and_says_what_changed(engine, tmp_path):
    bowtie = [[[6.85, 47.63], [6.87, 47.65], [6.87, 47.63], [6.85, 47.65], [6.85, 47.63]]]
    path = geojson_file(tmp_path, [feature("B", "Bowtie", bowtie)])
    report = load_sectors(engine, path, valid_from=DAY1, repair=True)
    assert report.added == ["B"]
    [warning] = [w for w in report.warnings if "make_valid" in w]
    assert "feature 1 (code B) is not a valid polygon: self-intersection" in warning
    assert "2 polygon part(s)" in warning
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT ST_NumGeometries(geom) FROM sector")).scalar() == 2


def test_refuses_non_polygon_geometry(engine, tmp_path):
    path = geojson_file(tmp_path, [
        feature("A", "Alpha", square(6.80, 47.60)),
        feature("L", "Ligne", [[6.85, 47.63], [6.87, 47.65]], kind="LineString"),
    ])
    assert refused(engine, path) == (
        "sectors.geojson: feature 2 (code L) is a LineString: a sector must be a Polygon or MultiPolygon."
    )


def test_refuses_empty_file(engine, tmp_path):
    path = geojson_file(tmp_path, [])
    assert refused(engine, path) == "sectors.geojson holds no feature: there is nothing to load."


def test_refuses_truncated_file(engine, tmp_path):
    text = DEMO.read_text()
    path = tmp_path / "cut.geojson"
    path.write_text(text[: len(text) // 2])
    message = refused(engine, path)
    assert message.startswith("cut.geojson cannot be read as a GeoJSON file: it is truncated or corrupt (")


def test_refuses_truncated_geopackage(engine, tmp_path):
    gpkg = write(demo_sectors(), tmp_path / "full.gpkg", driver="GPKG")
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(gpkg.read_bytes()[:5000])
    assert "cut.gpkg cannot be read" in refused(engine, cut)


def test_refuses_metres_in_geojson_without_crs(engine, tmp_path):
    # Lambert-93 metres written in a GeoJSON with no crs member: read as lon/lat, impossible.
    ring = [[[990000, 6720000], [992000, 6720000], [992000, 6722000], [990000, 6722000], [990000, 6720000]]]
    path = geojson_file(tmp_path, [feature("M", "Mètres", ring)])
    assert refused(engine, path) == (
        "sectors.geojson, feature 1: coordinates (990000, 6.72e+06) are outside the valid range of EPSG:4326 "
        "(longitude -180..180, latitude -90..90). A GeoJSON without a crs member is read as longitude/latitude "
        "(RFC 7946); these look like metres: declare the CRS in the file or give it with --crs (e.g. --crs EPSG:2154)."
    )


def test_same_metres_load_with_declared_crs(engine, tmp_path):
    ring = [[[990000, 6720000], [992000, 6720000], [992000, 6722000], [990000, 6722000], [990000, 6720000]]]
    declared = geojson_file(tmp_path, [feature("M", "Mètres", ring)], crs_member="urn:ogc:def:crs:EPSG::2154")
    load_sectors(engine, declared, valid_from=DAY1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT ST_Area(geom) FROM sector")).scalar() == pytest.approx(4e6)
    option = geojson_file(tmp_path, [feature("N", "Option", ring)], name="option.geojson")
    load_sectors(engine, option, valid_from=DAY1, crs="EPSG:2154", csp="CSP Option")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sector WHERE round(ST_Area(geom)) = 4e6")).scalar() == 2


def test_refuses_absurd_coordinates(engine, tmp_path):
    ring = [[[6.85, 47.63], [1e308, 47.63], [6.87, 47.65], [6.85, 47.63]]]
    path = geojson_file(tmp_path, [feature("A", "Alpha", square(6.8, 47.6)), feature("X", "Absurde", ring)])
    assert refused(engine, path) == (
        "sectors.geojson, feature 2: absurd coordinates (1e+308, 47.63); no place on Earth has them."
    )


def test_refuses_feature_without_code_or_name(engine, tmp_path):
    path = geojson_file(tmp_path, [
        feature("A", "Alpha", square(6.80, 47.60)),
        feature(None, "Sans code", square(6.82, 47.60)),
        feature("C", "  ", square(6.84, 47.60)),
    ])
    assert refused(engine, path).splitlines() == [
        "sectors.geojson: feature 2 has no code.",
        "sectors.geojson: feature 3 (code C) has no name.",
    ]


def test_refuses_file_without_code_field(engine, tmp_path):
    gdf = demo_sectors().rename(columns={"code": "ident"})
    path = write(gdf, tmp_path / "ident.geojson")
    assert refused(engine, path) == (
        "ident.geojson: the file has no field for the sector code (looked for code, code_secteur, secteur, "
        "id_secteur; its fields are: id, ident, name, csp): name it with --code-field."
    )
    report = load_sectors(engine, path, valid_from=DAY1, code_field="ident")
    assert len(report.added) == 8


def test_refuses_overlapping_sectors_listing_pairs_and_area(engine, tmp_path):
    path = geojson_file(tmp_path, [
        feature("A", "Alpha", square(6.80, 47.60)),
        feature("B", "Beta", square(6.805, 47.60)),   # half of A
        feature("C", "Gamma", square(6.83, 47.60)),
    ])
    message = refused(engine, path)
    assert message.startswith("sectors.geojson: sectors A (feature 1) and B (feature 2) overlap by ")
    assert message.endswith(" m²: a place must belong to one sector only.")
    overlap_m2 = float(message.split("overlap by ")[1].split(" m²")[0].replace(",", ""))
    # half of a 0.01° square at latitude 47.6°: 0.005° x 0.01° = 375 m x 1112 m
    assert overlap_m2 == pytest.approx(0.005 * 0.01 * 111_320 * 111_200 * 0.674, rel=0.01)
    assert "C" not in message.replace("CSP", "")


def test_touching_sectors_are_not_overlaps(engine, tmp_path):
    path = geojson_file(tmp_path, [feature("A", "Alpha", square(6.80, 47.60)), feature("B", "Beta", square(6.81, 47.60))])
    assert load_sectors(engine, path, valid_from=DAY1).added == ["A", "B"]


def test_duplicate_codes_refused(engine, tmp_path):
    path = geojson_file(tmp_path, [feature("A", "Alpha", square(6.80, 47.60)), feature("A", "Bis", square(6.82, 47.60))])
    assert refused(engine, path) == (
        "sectors.geojson: code A is used by features 1 and 2: each sector needs its own code."
    )


def test_overseas_sector_refused(engine, tmp_path):
    path = geojson_file(tmp_path, [feature("RUN", "Saint-Denis", square(55.45, -20.90))])
    assert refused(engine, path) == (
        "sectors.geojson: feature 1 (code RUN) lies outside metropolitan France and Corsica (around 55.4550, "
        "-20.8950 in lon/lat): sectors are stored in Lambert-93, and overseas territories are not supported yet."
    )


def test_gap_inside_csp_is_a_warning_with_its_area(engine, tmp_path):
    ring = [[[6.80, 47.60], [6.83, 47.60], [6.83, 47.62], [6.80, 47.62], [6.80, 47.60]],
            [[6.81, 47.605], [6.82, 47.605], [6.82, 47.615], [6.81, 47.615], [6.81, 47.605]]]
    path = geojson_file(tmp_path, [feature("A", "Anneau", ring)])
    report = load_sectors(engine, path, valid_from=DAY1)
    [gap] = report.warnings
    assert gap.startswith("sectors.geojson: CSP Test has a gap of ")
    assert gap.endswith(" m² that no sector covers, around (6.81500, 47.61000).")
    gap_m2 = float(gap.split("gap of ")[1].split(" m²")[0].replace(",", ""))
    assert gap_m2 == pytest.approx(0.01 * 0.01 * 111_320 * 111_200 * 0.674, rel=0.01)


def test_cli_prints_one_sentence_and_exit_1(psq, tmp_path):
    path = geojson_file(tmp_path, [])
    result = psq("load", "sectors", path)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: sectors.geojson holds no feature: there is nothing to load."


# -- formats and CRS ------------------------------------------------------------------
def test_zipped_shapefile_in_lambert93(engine, tmp_path):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    write(demo_sectors().to_crs(2154), shp_dir / "secteurs.shp")
    archive = tmp_path / "secteurs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp_dir.iterdir():
            zf.write(part, part.name)
    assert len(load_sectors(engine, archive, valid_from=DAY1).added) == 8


def test_shapefile_without_prj(engine, tmp_path):
    write(demo_sectors().to_crs(2154), tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    message = refused(engine, tmp_path / "noprj.shp")
    assert message.startswith("noprj.shp declares no coordinate reference system and its coordinates (x from 9")
    assert message.endswith("cannot be longitudes and latitudes: give the CRS with --crs (e.g. --crs EPSG:2154).")
    assert len(load_sectors(engine, tmp_path / "noprj.shp", valid_from=DAY1, crs="EPSG:2154").added) == 8


def test_geopackage_layers(engine, tmp_path):
    path = tmp_path / "two.gpkg"
    write(demo_sectors(), path, layer="secteurs", driver="GPKG")
    write(demo_sectors().head(2), path, layer="brouillon", driver="GPKG")
    message = refused(engine, path)
    assert message == "two.gpkg holds several layers (secteurs, brouillon): choose one with --layer."
    assert len(load_sectors(engine, path, valid_from=DAY1, layer="secteurs").added) == 8


def test_projected_file_is_stored_in_lambert93_at_the_same_place(engine, tmp_path):
    utm = write(demo_sectors().to_crs(32632), tmp_path / "utm.gpkg", driver="GPKG")
    load_sectors(engine, utm, valid_from=DAY1)
    stored = sectors_as_of(engine, DAY1).set_index("code")
    expected = demo_sectors().to_crs(2154).set_index("code")
    for code in expected.index:
        a, b = stored.geometry[code], expected.geometry[code]
        assert shapely.symmetric_difference(a, b).area < 1.0, code


# -- history --------------------------------------------------------------------------
def test_changed_sector_closes_old_version_and_history_is_queryable(engine, tmp_path, loaded):
    gdf = demo_sectors()
    centre = gdf.code == "BEL-CENTRE"
    gdf.loc[centre, "name"] = "Belfort Centre (nouveau nom)"
    gdf = gdf[gdf.code != "AGG-EST"]  # AGG-EST leaves the CSP
    path = write(gdf, tmp_path / "v2.geojson")
    report = load_sectors(engine, path, valid_from=DAY2)
    assert report.changed == ["BEL-CENTRE"]
    assert report.retired == ["AGG-EST"]
    assert len(report.unchanged) == 6

    before = sectors_as_of(engine, DAY2 - dt.timedelta(days=1)).set_index("code")
    after = sectors_as_of(engine, DAY2).set_index("code")
    assert before.name["BEL-CENTRE"] == "Belfort Centre – Vieille Ville"
    assert after.name["BEL-CENTRE"] == "Belfort Centre (nouveau nom)"
    assert "AGG-EST" in before.index and "AGG-EST" not in after.index
    assert before.valid_to["BEL-CENTRE"] == DAY2
    assert sectors_as_of(engine, DAY1 - dt.timedelta(days=1)).empty


def test_new_version_must_start_after_the_current_one(engine, tmp_path, loaded):
    gdf = demo_sectors()
    gdf.loc[gdf.code == "BEL-CENTRE", "name"] = "Autre nom"
    path = write(gdf, tmp_path / "v2.geojson")
    before = table_snapshot(engine)
    with pytest.raises(VectorFileError) as info:
        load_sectors(engine, path, valid_from=DAY1)
    assert str(info.value) == (
        "v2.geojson: sector BEL-CENTRE already has a version valid from 2024-01-01; the new version must "
        "start later: give --valid-from after 2024-01-01."
    )
    assert table_snapshot(engine) == before
