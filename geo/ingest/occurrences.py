"""``psq load occurrences FILE``: dated events in, checked row by row, attributed.

Every row is checked (coordinates, dates, category, id); by default one bad row stops
the import and the report lists every bad row with its line and reason, with nothing
written. With ``skip_invalid`` the good rows are written and the bad ones go to a
rejects CSV with a reason column. Writing is a COPY into a staging table, then one
set-based INSERT that attributes each point to the sector valid on its local day, its
commune, CSP and EPCI (DESIGN.md section 9: no per-row work). Re-importing a file adds
nothing: occurrences are unique by (source, external id).

An import never holds a reader (DESIGN.md section 9): it takes no lock stronger than
ROW EXCLUSIVE, keeps the indexes and updates them as it inserts, and stays one
transaction, so that a killed import leaves nothing written (:func:`lock_for_import`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from pyproj import CRS
from sqlalchemy.engine import Connection, Engine

from geo.db.queries import named_query
from geo.db.unit_of_work import transaction
from geo.errors import PsqError
from geo.ingest import row_checks
from geo.ingest.row_checks import Faults, Territory
from geo.ingest.tabular_file import RowTable, read_rows, resolve_columns
from geo.ingest.vector_file import VectorFileError
from geo.progress import progress
from geo.settings import IMPORT_LOCK_TIMEOUT, LOCAL_TZ

# Field -> header names recognised without --map (lower case).
FIELDS = {
    "id": ("id", "identifiant", "external_id", "num"),
    "category": ("category", "categorie", "catégorie", "type"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "x": ("x",),
    "y": ("y",),
    "occurred_at": ("occurred_at", "date", "datetime", "date_heure", "horodatage"),
    "description": ("description", "libelle", "libellé", "commentaire"),
    "address": ("address", "adresse"),
    "problem": ("problem", "problem_id", "probleme", "problème"),
}
CANONICAL = ["line", "external_id", "category", "occurred_at", "x", "y", "description", "address", "problem_external_id"]
DEFAULT_TZ = LOCAL_TZ
COPY_CHUNK = 100_000


@dataclasses.dataclass
class OccurrenceLoadReport:
    file: str
    source: str
    read: int
    written: int = 0
    already_present: int = 0
    rejected: int = 0
    outside_sectors: int = 0
    encoding: str | None = None
    rejects_file: Path | None = None
    #: Of ``outside_sectors``: inside a sector none of whose versions was valid on their day.
    not_yet_valid: int = 0
    not_yet_valid_days: tuple[dt.date, dt.date] | None = None
    sectors_from: dt.date | None = None
    notes: list[str] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{self.file}: {self.read} rows read, {self.written} occurrences written, "
            f"{self.already_present} already present (source '{self.source}'), {self.rejected} rejected."
        ]
        if self.outside_sectors:
            out.append(f"{self.outside_sectors} of the written occurrences fell in no sector: kept, with no sector.")
        if self.not_yet_valid:
            first, last = self.not_yet_valid_days
            out.append(f"{self.not_yet_valid} of them lie inside a sector that was not yet in force on their day "
                       f"(they date from {first} to {last}, the sectors from {self.sectors_from}): load the same "
                       f"sectors again with --valid-from {first} or earlier, and they will be attributed.")
        if self.rejects_file:
            out.append(f"Rejected rows, each with its reason, are in {self.rejects_file}.")
        out.extend(self.notes)
        return out


class BadRowsError(VectorFileError):
    """Rows that cannot be loaded; the message lists each with its reason."""

    #: The first of ``problems`` is the headline (how many rows), the others the rows.
    headline_first = True
    #: What the headline says came of the file (a loader without ``--skip-invalid`` says only "nothing was written").
    outcome = "nothing was written (use --skip-invalid to load the others)"

    def __init__(self, name: str, total: int, bad: list[tuple[str, str]]):
        super().__init__([f"{name}: {len(bad)} of {total} rows are bad; {self.outcome}."]
                         + [f"{where}: {reason}." for where, reason in bad])
        self.bad = bad


@dataclasses.dataclass
class CheckedRows:
    good: pd.DataFrame  # CANONICAL columns, x/y in Lambert-93, occurred_at in UTC
    bad: pd.DataFrame  # the file's columns, plus "reason"
    table: RowTable
    #: None when the file has ids; else the ids are derived from each row's content, and
    #: this many good rows repeat an earlier identical row of the file (kept: distinct events).
    repeated: int | None = None


def check_occurrences(table: RowTable, *, mapping: dict[str, str] | None = None, crs: str | None = None,
                      tz: str = DEFAULT_TZ, territory: Territory | None = None,
                      now: dt.datetime | None = None) -> CheckedRows:
    """Check every row of a table; split it into good canonical rows and bad rows with reasons."""
    columns = resolve_columns(table, mapping or {}, FIELDS, ("category", "occurred_at"))
    rows = table.rows
    faults = Faults(len(rows))
    territory = territory or Territory.metropolitan_france()
    get = lambda field: row_checks.text(rows[columns[field]]) if field in columns else pd.Series("", index=rows.index)  # noqa: E731

    ids = get("id")
    if "id" in columns:
        row_checks.check_ids(ids, rows["line"], faults, table.where)
    codes = row_checks.check_categories(get("category"), faults)
    when = row_checks.parse_dates(get("occurred_at"), tz, faults, now)
    not_points = np.zeros(len(rows), dtype=bool)
    if "geometry" in rows:
        kinds = rows["geometry"].map(lambda g: g.geom_type if g is not None else "no geometry")
        not_points = ~kinds.isin(["Point"]).to_numpy()
        faults.add(not_points, "an occurrence is a point, not a {}", kinds)
    if "lat" in columns and "lon" in columns and not crs:
        coordinate_crs, first, second, names = CRS.from_epsg(4326), get("lat"), get("lon"), ("lat", "lon")
    else:
        coordinate_crs = _crs(crs or table.crs or "EPSG:2154")
        first, second = get("x"), get("y")
        names = ("x", "y")
        if coordinate_crs.is_geographic:  # features in lon/lat: check as lat, lon
            first, second, names = second, first, ("lat", "lon")
    with faults.excluding(not_points):
        x, y = row_checks.check_coordinates(first, second, names, coordinate_crs, territory, faults)

    bad_mask = faults.bad()
    repeated = None
    if "id" not in columns:  # many exports have no id: one from the row's checked content
        ids, repeated = row_checks.content_ids(codes, when, x, y, get("description"), get("address"), get("problem"),
                                              keep=~bad_mask)
    # Series, not numpy copies: Arrow strings and tz-aware times would be converted
    # to Python objects one by one.
    good = pd.DataFrame({
        "line": rows["line"], "external_id": ids, "category": codes, "occurred_at": when,
        "x": pd.Series(x, index=rows.index), "y": pd.Series(y, index=rows.index),
        "description": get("description"), "address": get("address"), "problem_external_id": get("problem"),
    })[~bad_mask].reset_index(drop=True)
    reasons = faults.reasons()
    bad = rows[bad_mask].drop(columns=[c for c in ("geometry",) if c in rows]).copy()
    bad["reason"] = [reasons[p] for p in np.flatnonzero(bad_mask)]
    return CheckedRows(good, bad, table, repeated)


def _crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except Exception:
        raise VectorFileError(f"--crs {text}: unknown coordinate reference system.") from None


def territory_of(conn: Connection) -> Territory:
    """The extent of the communes and sectors loaded, or metropolitan France if none."""
    row = conn.execute(named_query("territory_extent")).one()
    if row.xmin is None:
        return Territory.metropolitan_france()
    label = "the loaded territory (" + (f"départements {row.departements}" if row.departements else "its sectors") + ")"
    return Territory(row.xmin, row.ymin, row.xmax, row.ymax, label)


def load_occurrences(engine: Engine, path: str | Path, *, source: str | None = None,
                     mapping: dict[str, str] | None = None, crs: str | None = None, encoding: str | None = None,
                     tz: str = DEFAULT_TZ, skip_invalid: bool = False, rejects: Path | None = None,
                     layer: str | None = None, now: dt.datetime | None = None) -> OccurrenceLoadReport:
    """Check and load an occurrence file in one transaction.

    Raises :class:`BadRowsError` (nothing written) when a row is bad and
    ``skip_invalid`` is False.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.ingest.communes import load_communes
    >>> _ = load_communes(engine, "90")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "faits.csv"
    >>> _ = p.write_text("id,category,lat,lon,occurred_at\\n1,rodeos,47.6389,6.8631,2024-05-04 22:15\\n")
    >>> load_occurrences(engine, p, source="main courante").lines()[0]
    "faits.csv: 1 rows read, 1 occurrences written, 0 already present (source 'main courante'), 0 rejected."
    """
    path = Path(path)
    table = read_rows(path, encoding=encoding, layer=layer)
    source = source or path.stem
    with transaction(engine) as conn:
        checked = check_occurrences(table, mapping=mapping, crs=crs, tz=tz, territory=territory_of(conn), now=now)
        _check_problem_links(conn, checked, source)
        report = OccurrenceLoadReport(path.name, source, read=len(table.rows), encoding=table.encoding,
                                      rejected=len(checked.bad))
        if len(checked.bad) and not skip_invalid:
            where = table.where
            raise BadRowsError(path.name, len(table.rows),
                               [(f"{where} {line}", reason) for line, reason in zip(checked.bad["line"], checked.bad["reason"])])
        if len(checked.bad):
            report.rejects_file = write_rejects(checked.bad, table, path, rejects)
        if checked.repeated is not None:
            report.notes.append(
                f"No id column: each row's id is derived from its content (category, time, place, texts), so loading "
                f"this file again adds nothing; {checked.repeated} rows identical to an earlier row of the file are "
                "kept as distinct events.")
        if table.encoding and table.encoding != "utf-8":
            report.notes.append(f"Read as {table.encoding} (not UTF-8).")
        written, outside = write_occurrences(conn, checked.good, source, file=path.name, read=report.read,
                                             rejected=report.rejected)
        if outside:
            late = conn.execute(named_query("occurrence_sector_not_yet_valid"), {"source": source, "tz": DEFAULT_TZ}).one()
            if late.n:
                report.not_yet_valid, report.sectors_from = late.n, late.sectors_from
                report.not_yet_valid_days = (late.first_day, late.last_day)
    report.written, report.outside_sectors = written, outside
    report.already_present = len(checked.good) - written
    return report


def write_rejects(bad: pd.DataFrame, table: RowTable, path: Path, rejects: Path | None) -> Path:
    """The bad rows as they were, plus their line (or feature) and reason, in UTF-8 CSV."""
    target = rejects or path.with_name(path.stem + ".rejects.csv")
    bad.drop(columns=["line"]).assign(**{table.where: bad["line"]}).to_csv(target, index=False)
    return target


def _check_problem_links(conn: Connection, checked: CheckedRows, source: str) -> None:
    """A row naming a problem that is not loaded is a bad row: the link would be lost."""
    refs = checked.good["problem_external_id"]
    wanted = sorted(set(refs[refs != ""]))
    if not wanted:
        return
    known = set(conn.execute(sa.text("SELECT external_id FROM problem WHERE source = :s AND external_id = ANY(:ids)"),
                             {"s": source, "ids": wanted}).scalars())
    unknown = (refs != "") & ~refs.isin(known)
    if unknown.any():
        bad = checked.good[unknown]
        rows = checked.table.rows.set_index("line").loc[bad["line"]].reset_index()
        rows["reason"] = [f"problem '{r}' is not loaded for source '{source}' (load the problems first)"
                          for r in bad["problem_external_id"]]
        checked.bad = pd.concat([checked.bad, rows.drop(columns=[c for c in ("geometry",) if c in rows])],
                                ignore_index=True).sort_values("line")
        checked.good = checked.good[~unknown].reset_index(drop=True)


def write_occurrences(conn: Connection, good: pd.DataFrame, source: str, *, file: str | None,
                      read: int, rejected: int = 0) -> tuple[int, int]:
    """COPY canonical rows to a staging table, then attribute and insert them in one
    statement. Returns (rows written, rows outside every sector).

    Raises :class:`ImportLockedError` (nothing written) when another session holds a lock
    on the occurrence table longer than ``IMPORT_LOCK_TIMEOUT``.
    """
    lock_for_import(conn, "occurrence", "import_batch")
    conn.execute(sa.text(_STAGING))
    _copy_frame(conn, good)
    batch = conn.execute(sa.text(
        "INSERT INTO import_batch (kind, source, file, rows_read, rows_written, rows_already_present, "
        "rows_rejected, rows_outside_sectors) VALUES ('occurrences', :source, :file, :read, 0, 0, :rejected, 0) "
        "RETURNING id"), {"source": source, "file": file, "read": read, "rejected": rejected}).scalar_one()
    # JIT compiling this plan costs more than it saves at any batch size seen here.
    conn.execute(sa.text("SET LOCAL jit = off"))
    # The indexes stay and are updated row by row: dropping them and building them again
    # after (about 13 s faster a million rows, bench/import_latency.py) takes an ACCESS
    # EXCLUSIVE lock that would hold every reader until the commit.
    written, outside = conn.execute(named_query("occurrence_attribute_insert"),
                                    {"source": source, "batch": batch, "tz": DEFAULT_TZ}).one()
    if written:  # the mayors' alerts, in this transaction: they exist if and only if the occurrences do
        from geo.alerts.outbox import enqueue_for_batch

        enqueue_for_batch(conn, batch)
    if written:
        # New pages are in no BRIN range until a vacuum summarises them: summarise them now, so
        # that the rows are indexed at the commit. SHARE UPDATE EXCLUSIVE: readers and writers go on.
        conn.execute(sa.text("SELECT brin_summarize_new_values('occurrence_occurred_at_brin')"))
    conn.execute(sa.text(
        "UPDATE import_batch SET rows_written = :w, rows_already_present = :a, rows_outside_sectors = :o "
        "WHERE id = :id"), {"w": written, "a": len(good) - written, "o": outside, "id": batch})
    return written, outside


class ImportLockedError(PsqError):
    """Another session held a lock on the table longer than ``IMPORT_LOCK_TIMEOUT``; nothing was written.

    >>> str(ImportLockedError("occurrence"))
    'The occurrence table is locked by another session; try again (nothing was written).'
    """

    status = 409

    def __init__(self, table: str):
        super().__init__(f"The {table} table is locked by another session; try again (nothing was written).",
                         user_message="Une autre session verrouille les données à importer ; réessayez plus tard.")


def lock_for_import(conn: Connection, *tables: str) -> None:
    """Take the import's locks on ``tables`` first, waiting at most ``IMPORT_LOCK_TIMEOUT``.

    ROW EXCLUSIVE, what INSERT and UPDATE take anyway: readers (ACCESS SHARE) and other
    imports go on beside it. Only a session holding a stronger lock (a migration, a manual
    ``LOCK TABLE``, ``VACUUM FULL``) makes it wait; past the timeout the import stops with
    :class:`ImportLockedError` (naming the first table) rather than wait in the lock queue.
    Once the locks are held the timeout is lifted: what the import may wait for afterwards
    (another import's rows of the same ids, the ``data_version`` counter) holds no reader,
    and failing after the work is done would waste it.

    For the rest of the transaction its backend also checks every second that the client
    is still there, so that a killed loader's statement stops at once, not at its end.

    Examples
    --------
    >>> with engine.begin() as conn:
    ...     lock_for_import(conn, "occurrence", "import_batch")
    ...     conn.execute(sa.text("SELECT current_setting('lock_timeout')")).scalar()
    '0'
    """
    before = conn.execute(sa.text(
        "SELECT current_setting('lock_timeout'), set_config('lock_timeout', :timeout, true), "
        "set_config('client_connection_check_interval', '1s', true)"),
        {"timeout": IMPORT_LOCK_TIMEOUT}).scalar_one()
    try:
        conn.execute(sa.text(f"LOCK TABLE {', '.join(tables)} IN ROW EXCLUSIVE MODE"))
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise ImportLockedError(tables[0]) from None
        raise
    conn.execute(sa.text("SELECT set_config('lock_timeout', :before, true)"), {"before": before})


#: SQLSTATE of a lock not obtained within lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


_STAGING = """
CREATE TEMPORARY TABLE occurrence_staging (
    line integer, external_id text, category text, occurred_at timestamptz,
    x double precision, y double precision, description text, address text, problem_external_id text
) ON COMMIT DROP
"""


def _copy_frame(conn: Connection, frame: pd.DataFrame) -> None:
    """COPY the canonical rows as CSV written by Arrow (C++, a million rows a second),
    in chunks so that the server parses one while the next is written."""
    table = pa.Table.from_pandas(frame[CANONICAL], preserve_index=False).cast(_ARROW_SCHEMA)
    options = pacsv.WriteOptions(include_header=False)
    cursor = conn.connection.driver_connection.cursor()
    statement = (f"COPY occurrence_staging ({', '.join(CANONICAL)}) FROM STDIN WITH "
                 "(FORMAT csv, FORCE_NULL (description, address, problem_external_id))")
    with cursor.copy(statement) as copy:
        for start in progress(range(0, len(frame), COPY_CHUNK), desc="COPY", unit="chunk"):
            buffer = io.BytesIO()
            pacsv.write_csv(table.slice(start, COPY_CHUNK), buffer, options)
            copy.write(buffer.getvalue())


_ARROW_SCHEMA = pa.schema([
    ("line", pa.int64()), ("external_id", pa.string()), ("category", pa.string()),
    ("occurred_at", pa.timestamp("us", tz="UTC")), ("x", pa.float64()), ("y", pa.float64()),
    ("description", pa.string()), ("address", pa.string()), ("problem_external_id", pa.string()),
])
