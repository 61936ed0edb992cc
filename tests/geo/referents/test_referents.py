"""``psq load referents`` and the référents' coverage, on the real communes of the Territoire de Belfort."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from pyproj import Transformer

from geo.accounts.users import UserScope
from geo.referents.referents import BadFileError, coverage_shapes, load_referents, referent_coverage

HEADER = "name;kind;service;lat;lon;communes;email;phone\n"
TO_WGS84 = Transformer.from_crs(2154, 4326, always_xy=True)


def _write(tmp_path, body: str, name: str = "referents.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _town_hall(engine, insee: str) -> tuple[float, float]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text("SELECT ST_X(town_hall), ST_Y(town_hall) FROM commune WHERE insee = :i"),
                                  {"i": insee}).one())


def _lat_lon(x: float, y: float) -> str:
    lon, lat = TO_WGS84.transform(x, y)
    return f"{lat:.9f};{lon:.9f}"


def _assignments(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT rc.commune_insee, r.name FROM referent_commune rc "
                                         "JOIN referent r ON r.id = rc.referent_id")).all())


def test_a_good_file_is_loaded_and_a_new_list_replaces_the_old_one(engine, territory, tmp_path):
    body = ("Capitaine Arnaud;referent;DDSP 90 — état-major;47.6386;6.8628;90010, 90099 90008;a@interieur.gouv.fr;\n"
            "Brigadier Colin;correspondant;CSP Belfort;47.51;6.99;90033;;03 84 00 00 00\n")
    report = load_referents(engine, _write(tmp_path, body))
    assert report.lines() == ["referents.csv: 2 rows read, 2 référents added, 0 updated; 4 communes assigned."]
    assert _assignments(engine) == {"90010": "Capitaine Arnaud", "90099": "Capitaine Arnaud",
                                    "90008": "Capitaine Arnaud", "90033": "Brigadier Colin"}
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT kind, service, email, phone FROM referent WHERE name = 'Brigadier Colin'")).one()
    assert tuple(row) == ("correspondant", "CSP Belfort", None, "03 84 00 00 00")

    # Colin takes Valdoie and loses Delle; Arnaud, not in the file, keeps Belfort and Bavilliers.
    again = load_referents(engine, _write(tmp_path, "Brigadier Colin;correspondant;CSP Delle;47.51;6.99;90099;;\n"))
    assert again.lines() == ["referents.csv: 1 rows read, 0 référents added, 1 updated; 1 communes assigned, "
                             "1 of them taken from another référent."]
    assert _assignments(engine) == {"90010": "Capitaine Arnaud", "90008": "Capitaine Arnaud",
                                    "90099": "Brigadier Colin"}


@pytest.mark.parametrize("bad_row, reason", [
    (";referent;DDSP 90;47.64;6.86;90008", "missing name"),
    ("Lieutenant B;gendarme;DDSP 90;47.64;6.86;90008", "kind 'gendarme' is neither referent nor correspondant"),
    ("Lieutenant B;referent;DDSP 90;47.64;6.86;90008 99999", "unknown INSEE code(s) 99999"),
    ("Lieutenant B;referent;DDSP 90;43.2965;5.3698;90008", "km outside the loaded territory"),
    ("Lieutenant B;referent;DDSP 90;47.64;6.86;90033,90010", "commune 90010 (already claimed on line 2)"),
    ("Lieutenant B;referent;;47.64;6.86;90008", "missing service"),
    ("Capitaine A;referent;DDSP 90;47.64;6.86;90008", "référent 'Capitaine A' already given on line 2"),
])
def test_a_bad_row_refuses_the_whole_file_naming_its_line(engine, territory, tmp_path, bad_row, reason):
    path = tmp_path / "referents.csv"
    path.write_text("name;kind;service;lat;lon;communes\n"
                    "Capitaine A;referent;DDSP 90;47.64;6.86;90010\n" + bad_row + "\n", encoding="utf-8")
    with pytest.raises(BadFileError) as refused:
        load_referents(engine, path)
    headline, *lines = refused.value.problems
    assert headline == "referents.csv: 1 of 2 rows are bad; nothing was written."
    assert len(lines) == 1 and lines[0].startswith("line 3: ") and reason in lines[0], lines
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM referent")).scalar() == 0


def test_the_command_prints_the_report_or_each_bad_line(psq, territory, tmp_path):
    good = _write(tmp_path, "Capitaine A;referent;DDSP 90;47.64;6.86;90010;;\n")
    result = psq("load", "referents", good)
    assert result.exit_code == 0 and "1 référents added" in result.output
    bad = _write(tmp_path, "Capitaine A;referent;DDSP 90;47.64;6.86;90010;;\nB;x;DDSP 90;47.64;6.86;90010;;\n",
                 name="bad.csv")
    result = psq("load", "referents", bad)
    assert result.exit_code == 1
    assert "line 3: kind 'x' is neither referent nor correspondant; commune 90010 (already claimed on line 2)" \
           in result.output


def _audit(engine, insee: str, status: str, referent: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO audit_request (commune_insee, kind, need, requested_on, status, referent_id, done_on) "
            "VALUES (:c, 'site', 'Étude de la mairie', DATE '2026-10-01', :s, "
            "(SELECT id FROM referent WHERE name = :r), :done)"),
            {"c": insee, "s": status, "r": referent, "done": dt.date(2026, 11, 1) if status == "realisee" else None})


def test_the_coverage_gives_each_referent_his_load_and_his_distances(engine, territory, tmp_path):
    x, y = _town_hall(engine, "90010")
    # Arnaud's base is 3 km due east of Belfort's town hall (Lambert-93 metres): the distance is known.
    body = (f"Capitaine Arnaud;referent;DDSP 90;{_lat_lon(x + 3000, y)};90010 90008;;\n"
            f"Brigadier Colin;correspondant;CSP Belfort;{_lat_lon(*_town_hall(engine, '90033'))};90033;;\n")
    load_referents(engine, _write(tmp_path, body))
    _audit(engine, "90010", "demandee")               # waiting in Arnaud's town
    _audit(engine, "90008", "planifiee", "Capitaine Arnaud")
    _audit(engine, "90010", "realisee", "Capitaine Arnaud")  # done: not open
    _audit(engine, "90033", "abandonnee", "Brigadier Colin")  # abandoned: not open

    coverage = referent_coverage(engine, UserScope("admin"))
    arnaud, colin = coverage.referents[1], coverage.referents[0]  # by name
    assert (arnaud.name, arnaud.kind_label, colin.kind_label) == ("Capitaine Arnaud", "Référent sûreté",
                                                                 "Correspondant sûreté")
    with engine.connect() as conn:
        population = dict(conn.execute(sa.text("SELECT insee, population FROM commune")).all())
        bavilliers_km = conn.execute(sa.text(
            "SELECT ST_Distance(ST_Translate(b.town_hall, 3000, 0), c.town_hall) / 1000 FROM commune b, commune c "
            "WHERE b.insee = '90010' AND c.insee = '90008'")).scalar()
    assert arnaud.commune_count == 2 and arnaud.inhabitants == population["90010"] + population["90008"]
    distances = {c.insee: c.distance_km for c in arnaud.communes}
    assert distances["90010"] == pytest.approx(3.0, abs=1e-3)
    assert distances["90008"] == pytest.approx(bavilliers_km, abs=1e-3)
    assert arnaud.max_km == pytest.approx(max(3.0, bavilliers_km), abs=1e-3)
    assert arnaud.mean_km == pytest.approx((3.0 + bavilliers_km) / 2, abs=1e-3)
    assert colin.distances == [pytest.approx(0.0, abs=1e-3)]
    assert (arnaud.open_audits, colin.open_audits) == (2, 0)

    # Every other commune is covered by nobody, each with its population.
    uncovered = {c.insee: c.population for c in coverage.uncovered}
    assert len(uncovered) == len(population) - 3 and "90010" not in uncovered
    assert uncovered["90099"] == population["90099"]

    # A chief sees no audit request at all: no count, not a misleading 0.
    chief = referent_coverage(engine, UserScope("chef_secteur"))
    assert [r.open_audits for r in chief.referents] == [None, None]
    # A référent counts the requests he may see: his own and those of his towns.
    me = referent_coverage(engine, UserScope("referent", referent_id=arnaud.id))
    assert [r.open_audits for r in me.referents] == [0, 2]

    shapes = coverage_shapes(engine).set_index("insee")
    assert shapes.loc["90010", "referent"] == "Capitaine Arnaud"
    assert shapes.loc["90010", "distance_km"] == pytest.approx(3.0, abs=1e-3)
    assert pd.isna(shapes.loc["90099", "referent"]) and shapes.crs.to_epsg() == 2154
