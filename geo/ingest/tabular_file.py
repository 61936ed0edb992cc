"""Reading row files (CSV, GeoJSON, GeoPackage) into a table of text with line numbers.

CSV exports from French software are often Windows-1252 and separated by semicolons
with decimal commas: the encoding is detected (UTF-8 first, then Windows-1252) unless
given, and the separator is sniffed. Every row keeps the line it came from (or its
feature number) so that each fault can be named where the user will find it.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from geo.ingest.vector_file import VectorFileError, checked_path, read_vector_file

ROW_FORMATS = (".csv", ".txt", ".geojson", ".json", ".gpkg")


@dataclasses.dataclass
class RowTable:
    """Rows of a file as text, with where each came from.

    ``rows`` has one column per field (str, '' when empty) plus ``line`` (int): the
    line number in a CSV file (the header is line 1), or the feature number in a
    GeoJSON or GeoPackage. A file with geometries also gets ``x`` and ``y`` (text,
    in ``crs``) for points and ``geometry`` (shapely) for any kind.
    """

    rows: pd.DataFrame
    name: str
    where: str  # "line" or "feature"
    encoding: str | None = None
    crs: str | None = None


def read_rows(path: str | Path, encoding: str | None = None, layer: str | None = None) -> RowTable:
    """Read a CSV, GeoJSON or GeoPackage file of rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_bytes("id;category;lat;lon\\n1;Rodéos;47,64;6,86\\n".encode("cp1252"))
    >>> table = read_rows(p)
    >>> table.encoding, table.rows.loc[0, "category"], table.rows.loc[0, "lat"], int(table.rows.loc[0, "line"])
    ('cp1252', 'Rodéos', '47,64', 2)
    """
    path = checked_path(path, ROW_FORMATS, "a CSV, GeoJSON or GeoPackage file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv(path, encoding)
    return _read_features(path, layer)


def decode(data: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    """Text of a file and the encoding used: the given one, else UTF-8, else Windows-1252."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise VectorFileError(f"--encoding {encoding}: unknown encoding.") from None
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise VectorFileError(
                f"{name} is not valid {encoding}: byte 0x{data[exc.start]:02x} on line {line} cannot be read; "
                "give the right --encoding (utf-8, cp1252, latin-1)."
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # "Unicode text" of Excel and Notepad
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise VectorFileError(f"{name} starts as UTF-16 but byte {exc.start} cannot be read as UTF-16; give "
                                  "the right --encoding (utf-8, cp1252, latin-1).") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Bytes Windows-1252 leaves undefined: Latin-1 reads every byte.
        return data.decode("latin-1"), "latin-1"


def _read_csv(path: Path, encoding: str | None) -> RowTable:
    text, used = decode(path.read_bytes(), path.name, encoding)
    if not text.strip():
        raise VectorFileError(f"{path.name} is empty: there is nothing to load.")
    if "\x00" in text:  # PostgreSQL stores no NUL in text: refused here, with its line, not by COPY
        line = text[: text.index("\x00")].count("\n") + 1
        raise VectorFileError(f"{path.name}, line {line}: a NUL character (\\0) cannot be loaded; remove it (or, if "
                              "the file is UTF-16, give --encoding utf-16).")
    first_line = text.split("\n", 1)[0].lstrip("\ufeff")
    try:
        sep = csv.Sniffer().sniff(first_line + "\n", delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    header = [c.strip() for c in next(csv.reader([first_line], delimiter=sep))]
    rows = _parse_csv(text.lstrip("\ufeff").encode("utf-8"), sep, header, path.name)
    if rows.empty:
        raise VectorFileError(f"{path.name} has a header but no row: there is nothing to load.")
    rows["line"] = _line_numbers(text, sep, len(rows))
    return RowTable(rows, path.name, "line", encoding=used)


def _parse_csv(data: bytes, sep: str, header: list[str], name: str) -> pd.DataFrame:
    """Every field as text ('' when empty), with Arrow's multi-threaded CSV reader:
    a million rows in a fraction of a second."""
    if len(set(header)) != len(header):
        twice = sorted({c for c in header if header.count(c) > 1})
        raise VectorFileError(f"{name}: the header names {', '.join(twice)} more than once.")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        raise VectorFileError(f"{name} cannot be read as CSV: {str(exc).strip().splitlines()[0]}.") from None
    return table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None)


def _line_numbers(text: str, sep: str, count: int) -> list[int]:
    """Line where each record starts (the header is line 1).

    When the file has one line per record, record k is on line k + 2; with quoted
    newlines or blank lines (which pandas skips), the csv module counts them.
    """
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if physical == count + 1:
        return list(range(2, count + 2))
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    next(reader)
    starts = []
    previous_end = reader.line_num
    for record in reader:
        if record:
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    return starts[:count]


def _read_features(path: Path, layer: str | None) -> RowTable:
    gdf = read_vector_file(path, layer=layer)
    rows = pd.DataFrame({c: gdf[c].map(_as_text) for c in gdf.columns if c != gdf.geometry.name})
    geometries = gdf.geometry.values
    points = shapely.get_type_id(geometries) == 0
    coords = shapely.get_coordinates(geometries[points])
    rows["x"] = ""
    rows["y"] = ""
    rows.loc[points, "x"] = [repr(float(v)) for v in coords[:, 0]]
    rows.loc[points, "y"] = [repr(float(v)) for v in coords[:, 1]]
    rows["geometry"] = list(geometries)
    rows["line"] = range(1, len(rows) + 1)
    epsg = gdf.crs.to_epsg()
    return RowTable(rows.reset_index(drop=True), path.name, "feature", crs=f"EPSG:{epsg}" if epsg else gdf.crs.to_wkt())


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def parse_mapping(pairs, fields) -> dict[str, str]:
    """``["occurred_at=Date", "category=Nature"]`` -> {"occurred_at": "Date", ...}.

    >>> parse_mapping(["occurred_at=Date des faits"], {"occurred_at": ()})
    {'occurred_at': 'Date des faits'}
    """
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not column.strip():
            raise VectorFileError(f"--map {pair}: write it as field=column, e.g. --map occurred_at=Date.")
        if field.strip() not in fields:
            raise VectorFileError(f"--map {pair}: unknown field '{field.strip()}'; fields are {', '.join(fields)}.")
        mapping[field.strip()] = column.strip()
    return mapping


def resolve_columns(table: RowTable, mapping: dict[str, str], fields: dict[str, tuple[str, ...]],
                    required: tuple[str, ...], point_or: tuple[str, ...] = ()) -> dict[str, str]:
    """Which column holds each field: given by --map, else found by its usual names.

    Coordinates are required as lat and lon, or x and y (a file of features has x/y),
    unless one of the ``point_or`` fields (e.g. a WKT geometry) is there.
    """
    present = {c.lower(): c for c in table.rows.columns if c not in ("line", "geometry")}
    hidden = ("line", "geometry") + (("x", "y") if table.where == "feature" else ())
    shown = ", ".join(c for c in table.rows.columns if c not in hidden)
    columns = {}
    for field, names in fields.items():
        if field in mapping:
            if mapping[field] not in table.rows.columns:
                raise VectorFileError(
                    f"{table.name}: --map {field}={mapping[field]}: no such column; columns are {shown}."
                )
            columns[field] = mapping[field]
            continue
        found = next((present[n] for n in names if n in present), None)
        if found:
            columns[field] = found
    needed = [f for f in required if f not in columns]
    has_point = ("lat" in columns and "lon" in columns) or ("x" in columns and "y" in columns)
    if not has_point and not any(f in columns for f in point_or):
        needed.append("lat and lon (or x and y)")
    if needed:
        raise VectorFileError(
            f"{table.name}: no column for {', '.join(needed)} (columns: {shown}); name them with --map FIELD=COLUMN."
        )
    return columns
