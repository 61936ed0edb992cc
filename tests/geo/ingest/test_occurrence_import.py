"""`psq load occurrences`: every bad row named, nothing lost, attribution by place and date."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from geo.ingest.occurrences import BadRowsError, load_occurrences
from tests.support import table_snapshot

HEADER = "id,category,lat,lon,occurred_at,description,address\n"
# Belfort, place d'Armes (BEL-CENTRE) and Offemont (AGG-NORD).
CENTRE = (47.6376, 6.8628)
OFFEMONT = (47.6626, 6.8790)
TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
TO_LONLAT = Transformer.from_crs(2154, 4326, always_xy=True)


def csv_file(tmp_path, lines, name="faits.csv", encoding="utf-8", header=HEADER):
    path = tmp_path / name
    path.write_bytes((header + "".join(line + "\n" for line in lines)).encode(encoding))
    return path


def good_line(i, lat=CENTRE[0], lon=CENTRE[1], when="2024-05-04 22:15", category="rodeos"):
    return f"{i},{category},{lat},{lon},{when},Rodéo urbain,rue de la Gare"


def refusal(engine, path, **options) -> list[str]:
    """The load fails, lists the bad rows, and changes nothing."""
    before = table_snapshot(engine)
    with pytest.raises(BadRowsError) as info:
        load_occurrences(engine, path, **options)
    assert table_snapshot(engine) == before
    return info.value.problems


def count(engine, where="true") -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM occurrence WHERE {where}")).scalar()


# -- each kind of bad row, with its message ------------------------------------------
@pytest.mark.parametrize("row, message", [
    ("2,rodeos,,6.8628,2024-05-04,,", "line 3: missing coordinates (lat or lon is empty)."),
    ("2,rodeos,47.6376,,2024-05-04,,", "line 3: missing coordinates (lat or lon is empty)."),
    ("2,rodeos,quarante-sept,6.8628,2024-05-04,,", "line 3: lat 'quarante-sept' is not a number."),
    ("2,rodeos,47.6376,6.86.28,2024-05-04,,", "line 3: lon '6.86.28' is not a number."),
    ("2,rodeos,6.8628,47.6376,2024-05-04,,",
     "line 3: lat and lon look swapped: (lat 6.8628, lon 47.6376) is in the territory the other way round."),
    ("2,rodeos,48.8566,2.3522,2024-05-04,,",
     "line 3: point (lat 48.8566, lon 2.3522) lies 346 km outside the loaded territory (départements 90)."),
    ("2,rodeos,147.6,6.86,2024-05-04,,", "line 3: lat 147.6 or lon 6.86 is outside -90..90 / -180..180."),
    ("2,rodeos,47.6376,6.8628,30/02/2024,,", "line 3: date '30/02/2024' does not exist."),
    ("2,rodeos,47.6376,6.8628,2023-02-29T10:00,,", "line 3: date '2023-02-29T10:00' does not exist."),
    ("2,rodeos,47.6376,6.8628,hier soir,,",
     "line 3: date 'hier soir' is not ISO 8601 (2024-03-05T21:30) or dd/mm/yyyy [HH:MM]."),
    ("2,rodeos,47.6376,6.8628,,,", "line 3: missing date."),
    ("2,rodeos,47.6376,6.8628,2099-01-01,,", "line 3: date '2099-01-01' is in the future."),
    ("2,vol à la roulotte,47.6376,6.8628,2024-05-04,,",
     "line 3: unknown category 'vol à la roulotte' (known: stupefiants, rassemblements, rodeos, alcoolisation, "
     "stationnement, securite_routiere, harcelement_scolaire, incivilites, transports)."),
    ("1,rodeos,47.6376,6.8628,2024-05-04,,", "line 3: id '1' already used on line 2."),
    (",rodeos,47.6376,6.8628,2024-05-04,,", "line 3: missing id."),
])
def test_each_bad_row_is_named_with_its_reason(engine, belfort, tmp_path, row, message):
    path = csv_file(tmp_path, [good_line(1), row])
    problems = refusal(engine, path)
    assert problems == ["faits.csv: 1 of 2 rows are bad; nothing was written (use --skip-invalid to load the "
                        "others).", message]


def test_several_faults_on_one_row_are_all_given(engine, belfort, tmp_path):
    path = csv_file(tmp_path, [good_line(1), "1,vol,abc,6.86,31/04/2024,,"])
    [_, message] = refusal(engine, path)
    assert message.startswith("line 3: id '1' already used on line 2; unknown category 'vol'")
    assert "date '31/04/2024' does not exist" in message and "lat 'abc' is not a number" in message


def test_seven_bad_rows_out_of_fifty(engine, belfort, tmp_path, psq):
    lines = [good_line(i, lat=CENTRE[0] + i * 1e-4) for i in range(1, 51)]
    broken = {3: "3,rodeos,,6.86,2024-05-04,,", 9: "9,rodeos,6.8628,47.6376,2024-05-04,,",
              17: "17,braquage,47.6376,6.8628,2024-05-04,,", 22: "22,rodeos,47.6376,6.8628,30/02/2024,,",
              30: "29,rodeos,47.6376,6.8628,2024-05-04,,", 41: "41,rodeos,47.6376,x,2024-05-04,,",
              50: "50,rodeos,43.2965,5.3698,2024-05-04,,"}
    for position, row in broken.items():
        lines[position - 1] = row
    path = csv_file(tmp_path, lines)

    result = psq("load", "occurrences", path)
    assert result.exit_code == 1
    assert count(engine) == 0
    reported = [line.strip().split(":")[0] for line in result.output.splitlines()[1:]]
    assert reported == [f"line {p + 1}" for p in sorted(broken)]
    assert result.output.splitlines()[0] == (
        "Error: faits.csv: 7 of 50 rows are bad; nothing was written (use --skip-invalid to load the others).")

    result = psq("load", "occurrences", path, "--skip-invalid")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "faits.csv: 50 rows read, 43 occurrences written, 0 already present (source 'faits'), 7 rejected.")
    assert count(engine) == 43
    with open(tmp_path / "faits.rejects.csv", newline="", encoding="utf-8") as f:
        rejects = list(csv.DictReader(f))
    assert [int(r["line"]) for r in rejects] == [p + 1 for p in sorted(broken)]
    assert all(r["reason"] for r in rejects)
    assert rejects[2]["category"] == "braquage" and rejects[2]["reason"].startswith("unknown category 'braquage'")


# -- idempotence, encodings, formats, dates ------------------------------------------------
def test_reimport_adds_nothing(engine, belfort, tmp_path):
    path = csv_file(tmp_path, [good_line(i) for i in range(1, 6)])
    first = load_occurrences(engine, path)
    again = load_occurrences(engine, path)
    assert (first.written, again.written, again.already_present) == (5, 0, 5)
    assert count(engine) == 5
    # Same ids from another source are other occurrences.
    assert load_occurrences(engine, path, source="police municipale").written == 5


def test_latin1_semicolon_file_with_decimal_commas(engine, belfort, tmp_path):
    header = "Numéro;Catégorie;Latitude;Longitude;Date;Description;Adresse\n"
    lines = ["A1;Rodéos;47,6376;6,8628;04/05/2024 22:15;Rodéo sur le parking de l'Hôtel de Ville;Place d'Armes",
             "A2;Sécurité routière;47,6380;6,8630;05/05/2024;Piéton renversé;Faubourg de France"]
    path = csv_file(tmp_path, lines, name="export.csv", encoding="latin-1", header=header)
    report = load_occurrences(engine, path, mapping={"id": "Numéro"})
    assert report.written == 2
    assert "Read as cp1252 (not UTF-8)." in report.notes
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT external_id, category_code, description, address FROM occurrence "
                                    "ORDER BY external_id")).all()
    assert rows[0] == ("A1", "rodeos", "Rodéo sur le parking de l'Hôtel de Ville", "Place d'Armes")
    assert rows[1][1:] == ("securite_routiere", "Piéton renversé", "Faubourg de France")


def test_wrong_encoding_given_is_named(engine, belfort, tmp_path):
    path = csv_file(tmp_path, [good_line(1)], encoding="latin-1")
    before = table_snapshot(engine)
    with pytest.raises(Exception) as info:
        load_occurrences(engine, path, encoding="utf-8")
    assert str(info.value) == ("faits.csv is not valid utf-8: byte 0xe9 on line 2 cannot be read; give the right "
                               "--encoding (utf-8, cp1252, latin-1).")
    assert table_snapshot(engine) == before


def test_dates_in_paris_time_and_with_offsets(engine, belfort, tmp_path):
    lines = [good_line(1, when="2024-07-14 23:30"),  # summer: UTC+2
             good_line(2, when="14/01/2024 23:30"),  # winter: UTC+1
             good_line(3, when="2024-07-14T23:30:00Z"),
             good_line(4, when="2024-10-27 02:30"),  # happens twice: read as summer time
             good_line(5, when="2024-03-31 02:30")]  # does not exist: moved forward
    load_occurrences(engine, csv_file(tmp_path, lines))
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text(
            "SELECT external_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM occurrence")).all())
    assert got == {"1": "2024-07-14 21:30", "2": "2024-01-14 22:30", "3": "2024-07-14 23:30",
                   "4": "2024-10-27 00:30", "5": "2024-03-31 01:00"}


def test_xy_in_lambert93_and_other_crs(engine, belfort, tmp_path):
    x, y = TO_L93.transform(CENTRE[1], CENTRE[0])
    path = csv_file(tmp_path, [f"1,rodeos,{x:.1f},{y:.1f},2024-05-04,,"], header="id,category,x,y,occurred_at,a,b\n")
    assert load_occurrences(engine, path).written == 1
    utm_x, utm_y = Transformer.from_crs(4326, 32632, always_xy=True).transform(CENTRE[1], CENTRE[0])
    utm = csv_file(tmp_path, [f"2,rodeos,{utm_x:.1f},{utm_y:.1f},2024-05-04,,"], name="utm.csv",
                   header="id,category,x,y,occurred_at,a,b\n")
    assert load_occurrences(engine, utm, crs="EPSG:32632").written == 1
    with engine.connect() as conn:
        distance = conn.execute(sa.text("SELECT ST_Distance(a.geom, b.geom) FROM occurrence a, occurrence b "
                                        "WHERE a.external_id = '1' AND b.external_id = '2'")).scalar()
    assert distance < 0.2


def test_missing_required_column_is_named(engine, belfort, tmp_path):
    path = csv_file(tmp_path, ["1,rodeos,47.6,6.8"], header="id,category,lat,lon\n")
    with pytest.raises(Exception) as info:
        load_occurrences(engine, path)
    assert str(info.value) == ("faits.csv: no column for occurred_at (columns: id, category, lat, lon); name them "
                               "with --map FIELD=COLUMN.")


def test_geojson_points(engine, belfort, tmp_path):
    path = tmp_path / "faits.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ['
                    '{"type": "Feature", "properties": {"id": "g1", "category": "incivilites", '
                    '"occurred_at": "2024-06-01T10:00"}, "geometry": {"type": "Point", "coordinates": [6.8628, 47.6376]}},'
                    '{"type": "Feature", "properties": {"id": "g2", "category": "incivilites", '
                    '"occurred_at": "2024-06-01T10:00"}, "geometry": {"type": "LineString", '
                    '"coordinates": [[6.86, 47.63], [6.87, 47.64]]}}]}')
    problems = refusal(engine, path)
    assert problems[1] == "feature 2: an occurrence is a point, not a LineString."
    report = load_occurrences(engine, path, skip_invalid=True)
    assert (report.written, report.rejected) == (1, 1)


# -- attribution -----------------------------------------------------------------------
def _sector_of(engine, external_id):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT s.code, o.commune_insee, c.name AS csp, o.epci_siren FROM occurrence o "
            "LEFT JOIN sector s ON s.id = o.sector_id LEFT JOIN csp c ON c.id = o.csp_id "
            "WHERE o.external_id = :e"), {"e": external_id}).one()


def test_attribution_either_side_of_a_sector_border(engine, belfort, tmp_path):
    with engine.connect() as conn:
        # A point of the border between BEL-CENTRE and another sector, and the normal there.
        border = conn.execute(sa.text(
            "SELECT ST_X(p), ST_Y(p), other.code FROM sector a, sector other, "
            "LATERAL (SELECT ST_LineInterpolatePoint(ST_LineMerge(ST_Intersection(ST_Boundary(a.geom), "
            "ST_Boundary(other.geom))), 0.5) AS p) pt "
            "WHERE a.code = 'BEL-CENTRE' AND other.code <> a.code AND ST_Length(ST_Intersection(ST_Boundary(a.geom), "
            "ST_Boundary(other.geom))) > 200 AND GeometryType(ST_LineMerge(ST_Intersection(ST_Boundary(a.geom), "
            "ST_Boundary(other.geom)))) = 'LINESTRING' ORDER BY other.code LIMIT 1")).one()
        x, y, other = border
        inside = {}
        for code in ("BEL-CENTRE", other):
            for dx, dy in ((3, 0), (-3, 0), (0, 3), (0, -3)):
                hit = conn.execute(sa.text("SELECT code FROM sector WHERE ST_Contains(geom, ST_SetSRID("
                                           "ST_MakePoint(:x, :y), 2154)) AND ST_Distance(geom, ST_Boundary(geom)) >= 0"),
                                   {"x": x + dx, "y": y + dy}).scalar()
                if hit == code:
                    inside[code] = (x + dx, y + dy)
    assert set(inside) == {"BEL-CENTRE", other}
    lines = []
    for i, (code, (px, py)) in enumerate(inside.items()):
        lon, lat = TO_LONLAT.transform(px, py)
        lines.append(good_line(f"side-{code}", lat=f"{lat:.8f}", lon=f"{lon:.8f}"))
    lon, lat = TO_LONLAT.transform(x, y)
    load_occurrences(engine, csv_file(tmp_path, lines))
    for code in inside:
        assert _sector_of(engine, f"side-{code}").code == code


def test_attribution_follows_sector_history(engine, belfort, tmp_path):
    # From 2025-01-01, BEL-CENTRE is redrawn to exclude the place d'Armes, which goes to a new sector.
    with engine.begin() as conn:
        conn.execute(sa.text(
            "WITH cut AS (SELECT ST_Buffer(ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154), 150) AS g) "
            "INSERT INTO sector (csp_id, code, name, geom, valid_from) "
            "SELECT csp_id, 'BEL-ARMES', 'Place d''Armes', ST_Multi(ST_Intersection(s.geom, cut.g)), '2025-01-01' "
            "FROM sector s, cut WHERE s.code = 'BEL-CENTRE'"), {"lon": CENTRE[1], "lat": CENTRE[0]})
        conn.execute(sa.text(
            "WITH cut AS (SELECT ST_Buffer(ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154), 150) AS g), "
            "old AS (UPDATE sector SET valid_to = '2025-01-01' WHERE code = 'BEL-CENTRE' RETURNING *) "
            "INSERT INTO sector (csp_id, code, name, geom, valid_from) "
            "SELECT csp_id, code, name, ST_Multi(ST_CollectionExtract(ST_Difference(old.geom, cut.g), 3)), '2025-01-01' "
            "FROM old, cut"), {"lon": CENTRE[1], "lat": CENTRE[0]})
    lines = [good_line("before", when="2024-12-31 23:30"),  # still 2024 in Paris
             good_line("after", when="2025-01-01 00:30"),
             good_line("utc-after-paris-before", when="2024-12-31T22:59:00Z")]
    load_occurrences(engine, csv_file(tmp_path, lines))
    assert _sector_of(engine, "before").code == "BEL-CENTRE"
    assert _sector_of(engine, "after").code == "BEL-ARMES"
    assert _sector_of(engine, "utc-after-paris-before").code == "BEL-CENTRE"
    with engine.connect() as conn:
        versions = conn.execute(sa.text(
            "SELECT count(DISTINCT o.sector_id) FROM occurrence o JOIN sector s ON s.id = o.sector_id "
            "WHERE s.code = 'BEL-CENTRE'")).scalar()
    assert versions == 1  # both BEL-CENTRE rows are the 2024 version


def test_commune_csp_epci_and_points_outside_sectors(engine, belfort, tmp_path):
    giromagny = (47.7425, 6.8284)  # a commune of département 90 outside the CSP's sectors
    path = csv_file(tmp_path, [good_line("c", *CENTRE), good_line("o", *OFFEMONT), good_line("g", *giromagny)])
    report = load_occurrences(engine, path)
    assert report.outside_sectors == 1
    assert "1 of the written occurrences fell in no sector: kept, with no sector." in report.lines()
    centre, offemont, giro = (_sector_of(engine, e) for e in ("c", "o", "g"))
    assert centre == ("BEL-CENTRE", "90010", "CSP Belfort", "200069052")
    assert offemont.code == "AGG-NORD" and offemont.commune_insee == "90075"
    assert giro.code is None and giro.csp is None and giro.commune_insee == "90052"
    with engine.connect() as conn:
        batch = conn.execute(sa.text("SELECT rows_read, rows_written, rows_outside_sectors FROM import_batch")).one()
    assert tuple(batch) == (3, 3, 1)


def test_a_load_keeps_the_indexes_and_summarises_the_brin(engine, belfort, tmp_path):
    """No index is dropped and built again (that locked readers out, issue 14); the new rows are indexed at
    the commit, the BRIN ranges of their pages included."""
    def indexes():
        with engine.connect() as conn:
            return sorted(conn.execute(sa.text(
                "SELECT indexrelid::bigint || ' ' || indexdef FROM pg_indexes "
                "JOIN pg_index ON indexrelid = (schemaname || '.' || indexname)::regclass "
                "WHERE tablename = 'occurrence'")).scalars())

    before = indexes()
    report = load_occurrences(engine, csv_file(tmp_path, [good_line(i) for i in range(1, 11)]))
    assert report.written == 10
    assert indexes() == before  # the same indexes, by their identity too: none was built again
    assert len(before) == 5  # primary key, (source, external_id), geom, occurred_at, (sector, time)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT brin_summarize_new_values('occurrence_occurred_at_brin')")).scalar() == 0
