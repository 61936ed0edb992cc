"""`psq load problems`: places of three kinds, checked rows, status lifecycle."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from geo.ingest.occurrences import BadRowsError, load_occurrences
from geo.ingest.problems import load_problems
from geo.problems.status import StatusError, change_status
from tests.support import table_snapshot


def problems_geojson(tmp_path, features):
    path = tmp_path / "problemes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geometry} for props, geometry in features]}))
    return path


SPOT = {"type": "Point", "coordinates": [6.8628, 47.6376]}
STREET = {"type": "LineString", "coordinates": [[6.8600, 47.6370], [6.8650, 47.6380]]}
ESTATE = {"type": "Polygon", "coordinates": [[[6.870, 47.655], [6.875, 47.655], [6.875, 47.658],
                                              [6.870, 47.658], [6.870, 47.655]]]}


def props(pid, category="stupefiants", **extra):
    return {"id": pid, "category": category, "title": f"Problème {pid}", "partner": "Territoire Habitat",
            "reported_on": "2024-03-01", **extra}


def test_points_lines_polygons_are_attributed(engine, belfort, tmp_path):
    path = problems_geojson(tmp_path, [(props("p1"), SPOT), (props("p2", "stationnement"), STREET),
                                       (props("p3", "Rassemblements", status="Priorisé"), ESTATE)])
    report = load_problems(engine, path)
    assert (report.added, report.rejected) == (3, 0)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT p.external_id, GeometryType(p.geom), s.code, p.commune_insee, p.status, p.category_code "
            "FROM problem p LEFT JOIN sector s ON s.id = p.sector_id ORDER BY 1")).all()
        history = conn.execute(sa.text("SELECT from_status, to_status, changed_at FROM problem_status_change "
                                       "ORDER BY problem_id")).all()
    assert [tuple(r) for r in rows] == [
        ("p1", "POINT", "BEL-CENTRE", "90010", "signale", "stupefiants"),
        ("p2", "LINESTRING", "BEL-CENTRE", "90010", "signale", "stationnement"),
        ("p3", "POLYGON", "AGG-NORD", "90075", "priorise", "rassemblements"),
    ]
    assert [(h.from_status, h.to_status) for h in history] == [(None, "signale"), (None, "signale"),
                                                              (None, "priorise")]
    # Reported on 1 March 2024, midnight in Paris.
    assert history[0].changed_at == dt.datetime(2024, 2, 29, 23, 0, tzinfo=dt.timezone.utc)


def test_bad_problem_rows_are_named_and_nothing_written(engine, belfort, tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[6.86, 47.63], [6.87, 47.64], [6.87, 47.63], [6.86, 47.64],
                                                  [6.86, 47.63]]]}
    path = problems_geojson(tmp_path, [
        (props("p1"), SPOT),
        (props("p2", title=""), SPOT),
        (props("p3", status="fini"), SPOT),
        (props("p4"), bowtie),
        (props("p5", reported_on="31/06/2024"), SPOT),
        (props("p6", category="cambriolages"), SPOT),
    ])
    before = table_snapshot(engine)
    with pytest.raises(BadRowsError) as info:
        load_problems(engine, path)
    assert table_snapshot(engine) == before
    assert info.value.problems[1:] == [
        "feature 2: missing title.",
        "feature 3: unknown status 'fini' (statuses: signale, priorise, en_traitement, resolu, reouvert).",
        "feature 4: geometry is not valid (Self-intersection[6.865 47.635]).",
        "feature 5: date '31/06/2024' does not exist.",
        "feature 6: unknown category 'cambriolages' (known: stupefiants, rassemblements, rodeos, alcoolisation, "
        "stationnement, securite_routiere, harcelement_scolaire, incivilites, transports).",
    ]


def test_reimport_updates_status_along_the_lifecycle(engine, belfort, tmp_path):
    load_problems(engine, problems_geojson(tmp_path, [(props("p1"), SPOT)]))
    again = load_problems(engine, problems_geojson(tmp_path, [(props("p1"), SPOT)]))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    moved = load_problems(engine, problems_geojson(tmp_path, [(props("p1", status="priorise"), SPOT)]))
    assert moved.updated == 1
    with pytest.raises(BadRowsError) as info:
        load_problems(engine, problems_geojson(tmp_path, [(props("p1", status="reouvert"), SPOT)]))
    assert info.value.problems[1] == (
        "feature 1: status cannot go from 'priorise' to 'reouvert' (from 'priorise' only to: en_traitement, resolu).")
    with engine.begin() as conn:
        pid = conn.execute(sa.text("SELECT id FROM problem")).scalar()
        change_status(conn, pid, "en_traitement", note="patrouilles renforcées", author="chef BEL-CENTRE")
        change_status(conn, pid, "resolu")
        with pytest.raises(StatusError, match="status cannot go from 'resolu' to 'priorise'"):
            change_status(conn, pid, "priorise")
        steps = conn.execute(sa.text("SELECT to_status FROM problem_status_change ORDER BY changed_at, id")).scalars()
        assert list(steps) == ["signale", "priorise", "en_traitement", "resolu"]


def test_occurrences_link_to_their_problem(engine, belfort, tmp_path):
    load_problems(engine, problems_geojson(tmp_path, [(props("p1"), SPOT)]), source="gpo")
    csv_path = tmp_path / "faits.csv"
    csv_path.write_text("id,category,lat,lon,occurred_at,problem\n"
                        "1,stupefiants,47.6376,6.8628,2024-05-04,p1\n"
                        "2,stupefiants,47.6376,6.8628,2024-05-04,p9\n")
    with pytest.raises(BadRowsError) as info:
        load_occurrences(engine, csv_path, source="gpo")
    assert info.value.problems[1] == "line 3: problem 'p9' is not loaded for source 'gpo' (load the problems first)."
    load_occurrences(engine, csv_path, source="gpo", skip_invalid=True)
    with engine.connect() as conn:
        linked = conn.execute(sa.text("SELECT p.external_id FROM occurrence o JOIN problem p ON p.id = o.problem_id"))
        assert list(linked.scalars()) == ["p1"]


def test_csv_with_wkt_geometry(engine, belfort, tmp_path):
    path = tmp_path / "problemes.csv"
    path.write_text("id;categorie;titre;geometrie;statut\n"
                    "w1;Rodéos;Rodéos zone commerciale;LINESTRING (6.86 47.637, 6.865 47.638);en traitement\n"
                    "w2;Rodéos;Sans lieu;POINT (pas de coordonnées);\n")
    report = load_problems(engine, path, skip_invalid=True)
    assert (report.added, report.rejected) == (1, 1)
    rejects = (tmp_path / "problemes.rejects.csv").read_text()
    assert "geometry 'POINT (pas de coordonnées)' is not WKT" in rejects
