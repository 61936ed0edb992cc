"""Property tests of the importers (issue 14): random and hostile files, each loaded or refused cleanly.

Whatever the file (CSV in any separator and encoding, with NUL bytes, lone surrogates,
NaN or infinite coordinates, dates at the ends of the calendar, huge fields; GeoJSON of
any shape; zipped shapefiles that are bombs or climb out of their archive), each load
either succeeds with counts that add up, or raises the project's user error
(:class:`geo.errors.PsqError`) whose first sentence names the file, in bounded time, and
leaves the database as it was. The hostile cases found by hand are kept as plain tests
at the end.
"""

from __future__ import annotations

import csv
import io
import json
import resource
import struct
import tempfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from geo.db.models import Base
from geo.errors import PsqError
from geo.ingest.occurrences import load_occurrences
from geo.ingest.problems import load_problems
from geo.ingest.sectors import load_sectors
from geo.ingest.vector_file import read_vector_file

# No shrinking: against a database it takes minutes, and the examples are small already.
PROPERTY = settings(max_examples=30, deadline=5000, derandomize=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
SECONDS_PER_LOAD = 5.0
# Belfort, place d'Armes (BEL-CENTRE).
CENTRE = (47.6376, 6.8628)


# -- what every load must do ------------------------------------------------------------
def fingerprint(engine) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the rows of every table: equal before and after means unchanged."""
    found = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            found[table.name] = tuple(conn.execute(sa.text(
                f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), ',' ORDER BY md5(t::text)), '')) "
                f"FROM {table.name} t")).one())
    return found


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def load_or_refuse(engine, load, path: Path, **options):
    """``load(engine, path, **options)``: its report, or None after a clean refusal (checked here)."""
    before = fingerprint(engine)
    start = time.monotonic()
    try:
        report = load(engine, path, **options)
    except PsqError as error:
        elapsed = time.monotonic() - start
        assert fingerprint(engine) == before, f"{path.name}: refused, yet the database changed"
        check_refusal(error, path.name)
        assert elapsed < SECONDS_PER_LOAD, f"{path.name}: refused after {elapsed:.1f} s"
        return None
    elapsed = time.monotonic() - start
    assert elapsed < SECONDS_PER_LOAD, f"{path.name}: loaded in {elapsed:.1f} s"
    return report


def check_refusal(error: PsqError, name: str) -> None:
    """Sentences, the first naming the file; those after it name a line or a feature."""
    problems = getattr(error, "problems", [str(error)])
    assert problems and all(p.strip() for p in problems), problems
    assert name in problems[0], (name, problems[0])
    for sentence in problems[1:]:
        assert sentence.startswith((name, "line ", "feature ")), sentence
    message = str(error)
    assert message and "Traceback" not in message


# -- strategies: fields, files ------------------------------------------------------------
HOSTILE_TEXT = st.text(st.characters(codec=None, categories=None, exclude_categories=()), max_size=12)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e309", "91", "-90.0001",
                     "180.5", "0", "-0", "", " ", "47,64", "47.6.3", "0x2f", "1_000", "٤٧", "４７", "47.6376\x00",
                     "4" * 400]),
)
LATS = st.one_of(st.floats(47.62, 47.66).map(lambda v: f"{v:.6f}"), NUMBERS)
LONS = st.one_of(st.floats(6.84, 6.88).map(lambda v: f"{v:.6f}"), NUMBERS)
DATES = st.one_of(
    st.sampled_from(["2024-05-04 22:15", "2024-05-04T22:15:00+02:00", "04/05/2024 22h15", "0001-01-01",
                     "9999-12-31", "9999-12-31T23:59:59Z", "0000-00-00", "2023-02-29", "2024-13-01", "31/12/9999",
                     "01/01/0001", "1677-09-21T00:13", "1677-09-21T00:00:00Z", "2262-04-11T23:59",
                     "2262-04-12T00:00:00+14:00", "1970-01-01T00:00:00Z", "2024-03-31T02:30", "2024-10-27T02:30",
                     "2024-05-04T22:15+99:99", "2024-05-04T25:61", "", "hier soir", "2024-05-04\x00"]),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%d/%m/%Y %H:%M")),
)
CATEGORIES = st.sampled_from(["rodeos", "stupefiants", "Rodéos", "RODEOS", "", "vol", "rode\x00os", "\ud800",
                              "rodéos\udcff"])
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]
SEPARATORS = [",", ";", "\t", "|"]


def field_values(column: str):
    return {"lat": LATS, "lon": LONS, "x": NUMBERS, "y": NUMBERS, "occurred_at": DATES, "reported_on": DATES,
            "category": CATEGORIES}.get(column, st.one_of(HOSTILE_TEXT, st.sampled_from(["1", "2", "p1", ""])))


@st.composite
def csv_files(draw, columns: list[str], required: list[str]):
    """(bytes, encoding given to the loader or None): a CSV of random columns, order, separator, encoding."""
    chosen = draw(st.lists(st.sampled_from(columns), unique=True, max_size=len(columns)))
    if draw(st.booleans()):
        chosen = list(dict.fromkeys(required + chosen))
    header = draw(st.permutations(chosen)) if chosen else ["rien"]
    if draw(st.integers(0, 9)) == 0:
        header = header + [draw(st.sampled_from(header + ["x\x00", "é", ""]))]
    rows = draw(st.lists(st.fixed_dictionaries({c: field_values(c) for c in header}), min_size=0, max_size=6))
    sep = draw(st.sampled_from(SEPARATORS))
    buffer = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(buffer, delimiter=sep, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow(header)
        writer.writerows([row[c] for c in header] for row in rows)
    else:  # written by hand, as broken exports are: no quoting, ragged rows
        buffer.write(sep.join(header) + "\n")
        for row in rows:
            buffer.write(sep.join(row[c] for c in header[: draw(st.integers(0, len(header)))]) + "\n")
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(ENCODINGS))
    errors = "surrogatepass" if encoding.startswith("utf") else "replace"
    data = text.encode(encoding, errors=errors)
    if draw(st.integers(0, 4)) == 0:  # invalid bytes somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    given_encoding = draw(st.sampled_from([None, None, encoding, "utf-8", "cp1252"]))
    return data, given_encoding


def fresh_dir(tmp_path: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp_path))


OCCURRENCE_COLUMNS = ["id", "category", "lat", "lon", "occurred_at", "description", "address", "x", "y", "problem"]
PROBLEM_COLUMNS = ["id", "category", "title", "status", "reported_on", "lat", "lon", "wkt", "partner", "description"]


def occurrences_loaded(engine, tmp_path, data: bytes, encoding, skip_invalid: bool):
    path = fresh_dir(tmp_path) / "faits.csv"
    path.write_bytes(data)
    before = count(engine, "occurrence")
    report = load_or_refuse(engine, load_occurrences, path, encoding=encoding, skip_invalid=skip_invalid,
                            source="propriétés")
    if report is not None:
        assert report.written + report.already_present + report.rejected == report.read, report.lines()
        assert count(engine, "occurrence") == before + report.written
        assert skip_invalid or report.rejected == 0
        assert report.read >= 1
    return report


# -- CSV ------------------------------------------------------------------------------------
@PROPERTY
@given(file=csv_files(OCCURRENCE_COLUMNS, ["category", "occurred_at", "lat", "lon"]), skip_invalid=st.booleans())
def test_occurrence_csv_of_any_kind(engine, territory, tmp_path, file, skip_invalid):
    occurrences_loaded(engine, tmp_path, *file, skip_invalid=skip_invalid)


@PROPERTY
@given(file=csv_files(PROBLEM_COLUMNS, ["id", "category", "title", "lat", "lon"]), skip_invalid=st.booleans())
def test_problem_csv_of_any_kind(engine, territory, tmp_path, file, skip_invalid):
    data, encoding = file
    path = fresh_dir(tmp_path) / "problemes.csv"
    path.write_bytes(data)
    before = count(engine, "problem")
    report = load_or_refuse(engine, load_problems, path, encoding=encoding, skip_invalid=skip_invalid,
                            source="propriétés")
    if report is not None:
        assert report.added + report.updated + report.unchanged + report.rejected == report.read, report.lines()
        assert count(engine, "problem") == before + report.added


@settings(PROPERTY, max_examples=20)
@given(sep=st.sampled_from(SEPARATORS), encoding=st.sampled_from(ENCODINGS), size=st.integers(1, 3_000_000),
       where=st.sampled_from(["header", "description", "category"]))
def test_huge_fields(engine, territory, tmp_path, sep, encoding, size, where):
    """One field of up to 3 MB (more than Arrow's block): loaded or refused, quickly, never a crash."""
    big = "é" * size
    header = ["id", "category", "lat", "lon", "occurred_at", "description"]
    row = ["1", "rodeos", str(CENTRE[0]), str(CENTRE[1]), "2024-05-04 22:15", "Rodéo"]
    if where == "header":
        header[-1] = big
    else:
        row[header.index(where)] = big
    data = (sep.join(header) + "\n" + sep.join(row) + "\n").encode(encoding)
    occurrences_loaded(engine, tmp_path, data, None, skip_invalid=True)


# -- GeoJSON ---------------------------------------------------------------------------------
COORDINATE = st.one_of(st.floats(6.8, 6.9), st.floats(47.6, 47.7), st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from([1e308, -1e308, 181.0, -91.0, 0.0]))
POSITION = st.lists(COORDINATE, min_size=0, max_size=4)
JSON_ANY = st.recursive(st.none() | st.booleans() | st.integers() | COORDINATE | HOSTILE_TEXT,
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_TEXT, inner, max_size=4),
                        max_leaves=20)


def ring(lon=CENTRE[1], lat=CENTRE[0], half=0.002, closed=True):
    points = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return points + ([points[0]] if closed else [])


@st.composite
def geometries(draw):
    kind = draw(st.sampled_from(["Point", "LineString", "Polygon", "MultiPolygon", "MultiPoint",
                                 "GeometryCollection", "Polygonn", "", None, 5]))
    shape = draw(st.sampled_from(["good", "unclosed", "random", "missing", "null", "nested"]))
    lon, lat = draw(st.floats(6.84, 6.88)), draw(st.floats(47.62, 47.66))
    good = {"Point": [lon, lat], "LineString": ring(lon, lat)[:2], "Polygon": [ring(lon, lat)],
            "MultiPolygon": [[ring(lon, lat)]], "MultiPoint": [[lon, lat]]}.get(kind, [])
    if shape == "missing":
        return {"type": kind}
    if shape == "null":
        return None
    if shape == "unclosed":
        coordinates = [ring(lon, lat, closed=False)]
    elif shape == "random":
        coordinates = draw(st.one_of(POSITION, st.lists(POSITION, max_size=5), st.lists(st.lists(POSITION, max_size=6),
                                                                                          max_size=3), JSON_ANY))
    elif shape == "nested":
        coordinates = [lon, lat]
        for _ in range(draw(st.integers(2, 400))):
            coordinates = [coordinates]
    else:
        coordinates = good
    geometry = {"type": kind, "coordinates": coordinates}
    if draw(st.integers(0, 5)) == 0:
        geometry["coordinates"] = draw(JSON_ANY)
    return geometry


def properties_for(kind: str):
    if kind == "sectors":
        fields = {"code": st.one_of(st.sampled_from(["S1", "S2", "S1", ""]), HOSTILE_TEXT),
                  "name": st.one_of(st.just("Secteur"), HOSTILE_TEXT), "csp": st.sampled_from(["CSP Test", ""])}
    elif kind == "problems":
        fields = {"id": st.one_of(st.sampled_from(["p1", "p2", "p1"]), st.integers(), HOSTILE_TEXT),
                  "category": CATEGORIES, "title": st.one_of(st.just("Problème"), HOSTILE_TEXT),
                  "reported_on": DATES, "status": st.sampled_from(["signale", "Priorisé", "résolu", "???", ""])}
    else:
        fields = {"id": st.one_of(st.sampled_from(["1", "2", "1"]), st.integers(), HOSTILE_TEXT),
                  "category": CATEGORIES, "occurred_at": DATES, "description": HOSTILE_TEXT}
    return st.fixed_dictionaries({}, optional={k: st.one_of(v, JSON_ANY) for k, v in fields.items()})


@st.composite
def geojson_files(draw, kind: str) -> bytes:
    features = draw(st.lists(st.fixed_dictionaries(
        {"type": st.sampled_from(["Feature", "Feature", "Feuture"]), "properties": properties_for(kind),
         "geometry": geometries()}), max_size=4))
    document = {"type": draw(st.sampled_from(["FeatureCollection", "FeatureCollection", "Feature", "Topology"])),
                "features": features}
    if draw(st.integers(0, 5)) == 0:
        document = draw(JSON_ANY)
    text = json.dumps(document, allow_nan=True)  # NaN and Infinity tokens, as some exports write them
    data = text.encode("utf-8", errors="surrogatepass")
    cut = draw(st.integers(0, 8))
    if cut == 0:  # truncated
        data = data[: draw(st.integers(0, len(data)))]
    elif cut == 1:  # deeply nested
        depth = draw(st.integers(10, 200_000))
        data = b'{"type": "FeatureCollection", "features": ' + b"[" * depth + b"]" * depth + b"}"
    return data


LOADERS = {
    "occurrences": (load_occurrences, "faits.geojson", {"source": "propriétés", "skip_invalid": True}),
    "problems": (load_problems, "problemes.geojson", {"source": "propriétés", "skip_invalid": True}),
    "sectors": (load_sectors, "secteurs.geojson", {"csp": None}),
}


@pytest.mark.parametrize("kind", list(LOADERS))
@PROPERTY
@given(data=st.data())
def test_geojson_of_any_shape(engine, territory, tmp_path, kind, data):
    load, name, options = LOADERS[kind]
    options = {k: v for k, v in options.items() if v is not None}
    path = fresh_dir(tmp_path) / name
    path.write_bytes(data.draw(geojson_files(kind)))
    report = load_or_refuse(engine, load, path, **options)
    if report is not None and kind == "sectors":
        written = len(report.added) + len(report.changed) + len(report.unchanged)
        assert written == len(read_vector_file(path)), report.lines()
    elif report is not None and kind == "occurrences":
        assert report.written + report.already_present + report.rejected == report.read


@settings(PROPERTY, max_examples=5)
@given(vertices=st.integers(10_000, 100_000), closed=st.booleans())
def test_huge_coordinate_arrays(engine, territory, tmp_path, vertices, closed):
    """A new sector of up to 100,000 vertices, closed or not: loaded or refused within the bound."""
    import math

    points = [[CENTRE[1] + 0.01 * math.cos(2 * math.pi * k / vertices), CENTRE[0] + 0.01 * math.sin(
        2 * math.pi * k / vertices)] for k in range(vertices)]
    if closed:
        points.append(points[0])
    path = fresh_dir(tmp_path) / "secteurs.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "S1", "name": "Grand", "csp": f"CSP {vertices} {closed}"},
         "geometry": {"type": "Polygon", "coordinates": [points]}}]}))
    load_or_refuse(engine, load_sectors, path)


# -- zipped shapefiles ------------------------------------------------------------------------
def deflated_zeros(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes (a multiple of 1 MiB) and its CRC-32, built in a second:
    one MiB is compressed once and repeated (each block ends with a full flush, so the blocks are alike)."""
    chunk = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    return block * (size >> 20) + b"\x03\x00", crc


def zip_of(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip archive of already deflated members (name, data, uncompressed size, crc), written by hand
    (the zipfile module cannot store a stream it did not compress)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, size, crc in members:
        offset = out.tell()
        encoded = name.encode("utf-8")
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x21, crc, len(data), size,
                              len(encoded), 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, 8, 0, 0x21, crc, len(data), size,
                                  len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central.getvalue()),
                          start, 0))
    return out.getvalue()


def shapefile_parts(tmp_path) -> dict[str, bytes]:
    """The .shp, .shx, .dbf and .prj of one small sector, as bytes."""
    import geopandas as gpd
    import shapely

    folder = fresh_dir(tmp_path)
    gpd.GeoDataFrame({"code": ["S1"], "name": ["Secteur"], "csp": ["CSP Test"]},
                     geometry=[shapely.Polygon(ring())], crs=4326).to_file(folder / "secteurs.shp")
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


GIB = 1 << 30
NAN = float("nan")


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """A zipped shapefile whose .dbf holds 1 GiB of zeros: 1 MB on disk."""
    parts = shapefile_parts(tmp_path_factory.mktemp("bombe"))
    zeros, crc = deflated_zeros(GIB)
    members = [(f"secteurs{suffix}", zlib.compress(data)[2:-4], len(data), zlib.crc32(data))
               for suffix, data in parts.items() if suffix != ".dbf"]
    members.append(("secteurs.dbf", zeros, GIB, crc))
    path = tmp_path_factory.getbasetemp() / "bombe.zip"
    path.write_bytes(zip_of(members))
    assert path.stat().st_size < 2 * 1024 * 1024
    return path


def test_a_zip_bomb_is_refused_before_it_is_inflated(engine, zip_bomb):
    assert zipfile.ZipFile(zip_bomb).getinfo("secteurs.dbf").file_size == GIB
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        assert load_or_refuse(engine, load_sectors, zip_bomb) is None
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert traced_peak < 50 * 1024 * 1024 and grown_kib < 300 * 1024, (traced_peak, grown_kib)


def test_a_zip_bomb_says_why(engine, zip_bomb):
    with pytest.raises(PsqError) as info:
        load_sectors(engine, zip_bomb)
    assert str(info.value) == ("bombe.zip: secteurs.dbf would unzip to 1,024 MiB from 1 MiB (a zip bomb?): a "
                               "zipped shapefile may hold at most 512 MiB; unzip it yourself and load the .shp.")


@pytest.mark.parametrize("member", ["../secteurs.shp", "../../etc/secteurs.shp", "/tmp/secteurs.shp",
                                    "a/../../secteurs.shp", "C:\\secteurs.shp", "..\\secteurs.shp"])
def test_a_zip_whose_members_climb_out_is_refused(engine, tmp_path, member):
    parts = shapefile_parts(tmp_path)
    path = tmp_path / "secteurs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for suffix, data in parts.items():
            archive.writestr(zipfile.ZipInfo(member.removesuffix(".shp") + suffix), data)
    assert load_or_refuse(engine, load_sectors, path) is None
    with pytest.raises(PsqError) as info:
        load_sectors(engine, path)
    assert str(info.value).startswith(f"secteurs.zip: the member {member.removesuffix('.shp')}")
    assert count(engine, "sector") == 0


@PROPERTY
@given(data=st.data())
def test_zip_archives_of_any_kind(engine, tmp_path, data):
    """Random bytes, truncated archives, odd member names, stored or deflated: loaded or refused."""
    parts = shapefile_parts(tmp_path) if data.draw(st.booleans()) else {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as zf:
        for suffix, content in parts.items():
            if data.draw(st.integers(0, 5)):
                stem = data.draw(st.sampled_from(["secteurs", "secteurs", "é/secteurs", "dir/../secteurs", ""]))
                zf.writestr(stem + suffix, content)
        for _ in range(data.draw(st.integers(0, 2))):
            zf.writestr(data.draw(st.text(min_size=1, max_size=10)).replace("\x00", "") or "x",
                        data.draw(st.binary(max_size=200)))
    raw = buffer.getvalue()
    mode = data.draw(st.sampled_from(["whole", "truncated", "noise", "flipped"]))
    if mode == "truncated":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif mode == "noise":
        raw = data.draw(st.binary(max_size=2000))
    elif mode == "flipped" and raw:
        at = data.draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1:]
    path = fresh_dir(tmp_path) / "secteurs.zip"
    path.write_bytes(raw)
    report = load_or_refuse(engine, load_sectors, path)
    if report is not None:
        assert len(report.added) + len(report.changed) + len(report.unchanged) == 1


# -- regressions: the hostile files that once got through ------------------------------------------
def csv_bytes(*rows: str, header="id,category,lat,lon,occurred_at,description") -> bytes:
    return (header + "\n" + "".join(r + "\n" for r in rows)).encode("utf-8", errors="surrogatepass")


def refusal_of(engine, tmp_path, load, name: str, data: bytes, **options) -> list[str]:
    path = fresh_dir(tmp_path) / name
    path.write_bytes(data)
    before = fingerprint(engine)
    with pytest.raises(PsqError) as info:
        load(engine, path, **options)
    assert fingerprint(engine) == before
    check_refusal(info.value, name)
    return info.value.problems


GOOD = f"1,rodeos,{CENTRE[0]},{CENTRE[1]},2024-05-04 22:15,Rodéo"


def test_dates_at_the_ends_of_the_calendar(engine, territory, tmp_path):
    """Once pandas' OutOfBoundsDatetime (a nanosecond timestamp ends in 1677 and 2262): now a bad row."""
    days = ["0001-01-01", "9999-12-31", "9999-12-31T23:59:59Z", "31/12/9999", "01/01/0001", "1677-09-21T00:13",
            "2262-04-11T23:59"]
    problems = refusal_of(engine, tmp_path, load_occurrences, "faits.csv", csv_bytes(
        GOOD, *(f"{k},rodeos,{CENTRE[0]},{CENTRE[1]},{day},x" for k, day in enumerate(days, start=2))))
    assert problems[1:] == [f"line {k}: date '{day}' is outside the years 1900 to 2200."
                            for k, day in enumerate(days, start=3)]


def test_infinite_coordinates_are_bad_rows(engine, territory, tmp_path):
    """Once an IntegrityError (a point of NULL geometry): inf is a number to Arrow, but no place."""
    values = ["inf", "-inf", "Infinity", "nan", "1e309"]
    problems = refusal_of(engine, tmp_path, load_occurrences, "faits.csv", csv_bytes(
        GOOD, *(f"{k},rodeos,{value},{CENTRE[1]},2024-05-04 22:15,x" for k, value in enumerate(values, start=2))))
    assert problems[1:] == [f"line {k}: lat '{value}' is not a number." for k, value in enumerate(values, start=3)]
    problems = refusal_of(engine, tmp_path, load_problems, "problemes.csv", csv_bytes(
        "p1,rodeos,Rodéos,6.86,-inf", header="id,category,title,lon,lat"))
    assert problems[1:] == ["line 2: lat '-inf' is not a number."]


def test_nul_in_a_field(engine, territory, tmp_path):
    """Once a psycopg error of COPY (PostgreSQL stores no NUL in text): now the line is named."""
    problems = refusal_of(engine, tmp_path, load_occurrences, "faits.csv",
                          csv_bytes(GOOD, f"2,rodeos,{CENTRE[0]},{CENTRE[1]},2024-05-04 22:15,Rod\x00éo"))
    assert problems == ["faits.csv, line 3: a NUL character (\\0) cannot be loaded; remove it (or, if the file is "
                        "UTF-16, give --encoding utf-16)."]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_its_mark_is_read_without_being_told(engine, territory, tmp_path, encoding):
    """Excel's "Unicode text": once refused for its garbled header, now read."""
    path = fresh_dir(tmp_path) / "faits.csv"
    path.write_bytes(("\ufeff" if encoding.endswith("be") else "").encode(encoding) + csv_bytes(GOOD).decode()
                     .encode(encoding))
    report = load_or_refuse(engine, load_occurrences, path)
    assert (report.written, report.encoding) == (1, "utf-16")


def feature_file(tmp_path, geometry, **properties) -> Path:
    path = fresh_dir(tmp_path) / "faits.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": geometry,
        "properties": {"id": "1", "category": "rodeos", "occurred_at": "2024-05-04 22:15", **properties}}]}))
    return path


def test_a_lone_surrogate_in_a_geojson_text(engine, territory, tmp_path):
    path = feature_file(tmp_path, {"type": "Point", "coordinates": [CENTRE[1], CENTRE[0]]}, description="a\ud800b")
    assert load_or_refuse(engine, load_occurrences, path).written == 1
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT description FROM occurrence")).scalar_one()
    assert stored.startswith("a") and stored.endswith("b") and "\ud800" not in stored


@pytest.mark.parametrize("geometry", [{"type": "Point", "coordinates": []}, {"type": "Point", "coordinates": [NAN, 1]},
                                      {"type": "Point", "coordinates": [1e308, 47.6]}, None])
def test_points_that_are_no_place(engine, territory, tmp_path, geometry):
    path = feature_file(tmp_path, geometry)
    assert load_or_refuse(engine, load_occurrences, path) is None
