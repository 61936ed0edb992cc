"""`psq load places`: schools, stops and social housing from CSV or GeoJSON, idempotent, a bad row refused with its
line and nothing written."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from geo.ingest.places import BadPlacesError, load_places

SOURCE = "places-test"


@pytest.fixture(autouse=True)
def _clean(engine):
    """sensitive_place has no foreign key: the tests' cleaning does not empty it, this does."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM sensitive_place WHERE source LIKE :s"), {"s": SOURCE + "%"})
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM sensitive_place WHERE source LIKE :s"), {"s": SOURCE + "%"})


def places(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT external_id, kind, name, GeometryType(geom), ST_SRID(geom), round(ST_X(ST_PointOnSurface(geom))), "
            "round(ST_Y(ST_PointOnSurface(geom))) FROM sensitive_place WHERE source LIKE :s ORDER BY 1"),
            {"s": SOURCE + "%"})]


SCHOOLS = "id;nom;lat;lon\nE1;École Jean Moulin;47,6389;6,8631\nE2;Collège Signoret;47.6440;6.8550\n"


def test_a_csv_of_schools_loads_and_loads_again_to_nothing(engine, tmp_path):
    path = tmp_path / "ecoles.csv"
    path.write_text(SCHOOLS)
    assert load_places(engine, path, kind="school", source=SOURCE).lines() == [
        "ecoles.csv: 2 rows read, 2 school places added, 0 updated, 0 unchanged (source 'places-test')."]
    first = places(engine)
    assert [r[:5] for r in first] == [("E1", "school", "École Jean Moulin", "POINT", 2154),
                                      ("E2", "school", "Collège Signoret", "POINT", 2154)]
    assert 985_000 < first[0][5] < 995_000 and 6_730_000 < first[0][6] < 6_740_000  # Belfort, in Lambert-93
    again = load_places(engine, path, kind="school", source=SOURCE)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    path.write_text(SCHOOLS.replace("Collège Signoret", "Collège Simone Signoret"))
    renamed = load_places(engine, path, kind="school", source=SOURCE)
    assert (renamed.added, renamed.updated, renamed.unchanged) == (0, 1, 1)
    assert places(engine)[1][2] == "Collège Simone Signoret" and len(places(engine)) == 2


def test_a_geojson_of_any_shape_and_crs_is_stored_in_lambert_93(engine, tmp_path):
    # Lambert-93 coordinates declared in the file (GeoJSON's legacy "crs" member, which GDAL reads).
    features = [
        ({"code": "R1", "libelle": "Résidence des Glacis"},
         {"type": "Polygon", "coordinates": [[[990000, 6735000], [990200, 6735000], [990200, 6735200],
                                              [990000, 6735200], [990000, 6735000]]]}),
        ({"code": "R2", "libelle": "Cité des Forges"}, {"type": "Point", "coordinates": [991000, 6736000]}),
    ]
    path = tmp_path / "residences.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
                                "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}))
    report = load_places(engine, path, kind="housing", source=SOURCE, mapping={"id": "code", "name": "libelle"})
    assert (report.added, report.read) == (2, 2)
    assert places(engine) == [("R1", "housing", "Résidence des Glacis", "POLYGON", 2154, 990100, 6735100),
                              ("R2", "housing", "Cité des Forges", "POINT", 2154, 991000, 6736000)]


def test_a_line_in_lon_lat_without_ids_gets_ids_from_its_content(engine, tmp_path):
    path = tmp_path / "lignes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Ligne 3"},
         "geometry": {"type": "LineString", "coordinates": [[6.86, 47.637], [6.865, 47.638]]}}]}))
    assert load_places(engine, path, kind="transport", source=SOURCE).added == 1
    assert load_places(engine, path, kind="transport", source=SOURCE).unchanged == 1
    [(external_id, kind, name, shape, *_)] = places(engine)
    assert (external_id.startswith("h:"), kind, name, shape) == (True, "transport", "Ligne 3", "LINESTRING")


def test_a_bad_row_is_refused_with_its_line_and_nothing_is_written(engine, tmp_path):
    path = tmp_path / "arrets.csv"
    path.write_text("id,name,lat,lon\nA1,Gare,47.6376,6.8628\nA2,Théâtre,quarante-sept,6.86\nA1,Doublon,47.64,6.86\n")
    with pytest.raises(BadPlacesError) as info:
        load_places(engine, path, kind="transport", source=SOURCE)
    assert info.value.problems == ["arrets.csv: 2 of 3 rows are bad; nothing was written.",
                                   "line 3: lat 'quarante-sept' is not a number.",
                                   "line 4: id 'A1' already used on line 2."]
    assert places(engine) == []


def test_psq_load_places_prints_what_it_did_and_refuses_in_one_sentence(engine, tmp_path, psq):
    path = tmp_path / "ecoles.csv"
    path.write_text("numero,appellation,x,y\n1,École du Centre,991000,6736000\n")
    result = psq("load", "places", path, "--kind", "school", "--source", SOURCE, "--id-field", "numero",
                 "--name-field", "appellation", "--crs", "EPSG:2154")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ecoles.csv: 1 rows read, 1 school places added, 0 updated, 0 unchanged " \
                                    "(source 'places-test')."
    assert places(engine)[0][:3] == ("1", "school", "École du Centre")
    path.write_text("numero,appellation,x,y\n2,École loin,,6736000\n")
    refused = psq("load", "places", path, "--kind", "school", "--source", SOURCE, "--id-field", "numero")
    assert refused.exit_code == 1
    assert "line 2: missing coordinates (x or y is empty)." in refused.output
    assert len(places(engine)) == 1
    assert psq("load", "places", path, "--kind", "church").exit_code == 2  # click's own refusal of the choice
