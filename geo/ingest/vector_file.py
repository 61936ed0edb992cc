"""Reading vector files (GeoJSON, GeoPackage, Shapefile, zipped Shapefile, CSV with
WKT) into GeoDataFrames, with one clear sentence for each way a file can be bad.

Shared by every loader of geometries drawn by people (sectors now; zones, cameras
later). The CRS rules follow DESIGN.md section 4: any declared CRS is accepted; a file
that declares none is read as lon/lat only if its coordinates can be lon/lat.
"""

from __future__ import annotations

import math
import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.errors import PsqError

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage", ".shp": "Shapefile",
           ".zip": "zipped Shapefile", ".csv": "CSV"}

# Beyond this magnitude no CRS of the Earth has meaningful coordinates (metres or
# degrees); 1e308 and infinities are written by broken exports.
ABSURD = 1e9


class VectorFileError(PsqError, ValueError):
    """A file that cannot be loaded; ``problems`` holds one sentence per fault."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def checked_path(path: str | Path, formats, kinds: str) -> Path:
    """``path`` as a Path, once it exists and its suffix is one of ``formats``; else VectorFileError.

    ``kinds`` names the accepted formats in the message ("a CSV or GeoJSON file").

    >>> checked_path("data/boundaries/sectors-csp-belfort.txt", (".csv",), "a CSV file")
    Traceback (most recent call last):
    ...
    geo.ingest.vector_file.VectorFileError: data/boundaries/sectors-csp-belfort.txt: no such file.
    """
    path = Path(path)
    if not path.exists():
        raise VectorFileError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise VectorFileError(f"{path.name}: unknown format '{suffix}'; give {kinds}.")
    return path


def read_vector_file(path: str | Path, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file, checking it can be read, is not empty and has a usable CRS.

    Parameters
    ----------
    path : str or Path
        .geojson/.json, .gpkg, .shp, .zip (a zipped Shapefile) or .csv (WKT in a
        ``geometry`` or ``wkt`` column).
    layer : str, optional
        Layer of a GeoPackage holding several.
    crs : str, optional
        CRS to use when the file declares none (or to override a GeoJSON's implicit
        lon/lat), e.g. "EPSG:2154".

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's CRS, coordinates checked against that CRS's valid range.

    Examples
    --------
    >>> gdf = read_vector_file("data/boundaries/sectors-csp-belfort.geojson")
    >>> len(gdf), gdf.crs.to_epsg()
    (8, 4326)
    """
    path = checked_path(path, FORMATS, "a GeoJSON, GeoPackage, Shapefile (or zipped), or CSV file")
    name = path.name
    suffix = path.suffix.lower()
    source = _source(path, suffix)
    layer = _choose_layer(source, name, FORMATS[suffix], layer)
    options = {"GEOM_POSSIBLE_NAMES": "geometry,wkt,WKT", "KEEP_GEOM_COLUMNS": "NO"} if suffix == ".csv" else {}
    # GDAL, pyogrio and shapely speak through warnings (printed raw on the terminal): caught
    # here, and turned into our sentence where they explain a refusal.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gdf = pyogrio.read_dataframe(source, layer=layer, **options)
        except Exception as exc:  # pyogrio raises several GDAL-level error types
            if _UNCLOSED in str(exc) or any("closed ring" in str(w.message) for w in caught):
                raise VectorFileError(_unclosed_rings(source, layer, name)) from None
            raise VectorFileError(
                f"{name} cannot be read as a {FORMATS[suffix]} file: it is truncated or corrupt ({_first_line(exc)})."
            ) from None
    if len(gdf) == 0:
        raise VectorFileError(f"{name} holds no feature: there is nothing to load.")
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        raise VectorFileError(f"{name} has no geometry column.")
    gdf = _with_crs(gdf, name, suffix, crs)
    _check_coordinates(gdf, name, suffix)
    return gdf


_UNCLOSED = "do not form a closed linestring"


def _unclosed_rings(source: str, layer: str | None, name: str) -> list[str]:
    """One sentence per feature with a ring whose last point is not its first (feature and place)."""
    _, _, wkbs, _ = pyogrio.raw.read(source, layer=layer, read_geometry=True)[:4]
    problems = []
    for position, wkb in enumerate(wkbs, start=1):
        if wkb is None:
            continue
        try:
            shapely.from_wkb(wkb)
            continue
        except shapely.errors.GEOSException:
            fixed = shapely.from_wkb(wkb, on_invalid="fix")
        lon, lat = shapely.get_coordinates(fixed)[0] if fixed is not None else (math.nan, math.nan)
        problems.append(f"{name}, feature {position}: a ring of its polygon is not closed (its last point is not "
                        f"its first; it starts at ({lon:.6g}, {lat:.6g})): close it, as every polygon ring must be.")
    return problems or [f"{name}: a polygon ring is not closed (its last point is not its first)."]


def _source(path: Path, suffix: str) -> str:
    if suffix != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise VectorFileError(f"{path.name} is not a readable zip archive (truncated or corrupt).") from None
    _check_members(path.name, infos)
    members = [info.filename for info in infos]
    shapefiles = [m for m in members if m.lower().endswith(".shp")]
    if len(shapefiles) != 1:
        raise VectorFileError(
            f"{path.name} must hold exactly one .shp file; it holds {len(shapefiles)}"
            + (f" ({', '.join(shapefiles)})." if shapefiles else ".")
        )
    return f"/vsizip/{path}/{shapefiles[0]}"


#: A zipped shapefile is read in place (GDAL's /vsizip), never unpacked, but GDAL may inflate a member
#: whole: an archive declaring more than this, in all, is refused before anything is inflated.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def _check_members(name: str, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive whose members climb out of it (``../``, an absolute path) or would unzip to more
    than ``MAX_UNZIPPED_BYTES`` (a zip bomb), from what the archive declares: nothing is inflated here."""
    for info in infos:
        member = info.filename
        parts = re.split(r"[/\\]", member)
        if member.startswith(("/", "\\")) or _DRIVE.match(member) or ".." in parts or "\x00" in member:
            raise VectorFileError(f"{name}: the member {member} lies outside the archive (an absolute path or one "
                                  "with '..'): refused; zip the shapefile's files alone, without folders above them.")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        largest = max(infos, key=lambda info: info.file_size)
        raise VectorFileError(
            f"{name}: {largest.filename} would unzip to {_mib(largest.file_size)} from {_mib(largest.compress_size)}"
            f"{' (a zip bomb?)' if largest.file_size > 100 * max(largest.compress_size, 1) else ''}: a zipped "
            f"shapefile may hold at most {_mib(MAX_UNZIPPED_BYTES)}; unzip it yourself and load the .shp.")


def _mib(size: int) -> str:
    return f"{max(round(size / (1 << 20)), 1):,} MiB"


def _choose_layer(source: str, name: str, kind: str, layer: str | None) -> str | None:
    try:
        layers = [row[0] for row in pyogrio.list_layers(source)]
    except Exception as exc:
        raise VectorFileError(
            f"{name} cannot be read as a {kind} file: it is truncated or corrupt ({_first_line(exc)})."
        ) from None
    if layer is not None:
        if layer not in layers:
            raise VectorFileError(f"{name} has no layer '{layer}'; its layers are: {', '.join(layers)}.")
        return layer
    if len(layers) > 1:
        raise VectorFileError(f"{name} holds several layers ({', '.join(layers)}): choose one with --layer.")
    return None


def _with_crs(gdf: gpd.GeoDataFrame, name: str, suffix: str, crs: str | None) -> gpd.GeoDataFrame:
    if crs:
        try:
            return gdf.set_crs(CRS.from_user_input(crs), allow_override=True)
        except CRSError:
            raise VectorFileError(f"--crs {crs}: unknown coordinate reference system.") from None
    if gdf.crs is not None:
        return gdf
    # No declared CRS: lon/lat is the only safe guess, and only if it fits.
    xmin, ymin, xmax, ymax = _finite_bounds(gdf, name)
    if -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90:
        return gdf.set_crs(4326)
    raise VectorFileError(
        f"{name} declares no coordinate reference system and its coordinates "
        f"(x from {xmin:.6g} to {xmax:.6g}, y from {ymin:.6g} to {ymax:.6g}) cannot be longitudes and "
        "latitudes: give the CRS with --crs (e.g. --crs EPSG:2154)."
    )


def _finite_bounds(gdf: gpd.GeoDataFrame, name: str) -> tuple[float, float, float, float]:
    _check_absurd(gdf, name)
    return tuple(gdf.total_bounds)


def _check_absurd(gdf: gpd.GeoDataFrame, name: str) -> None:
    problems = []
    for position, geometry in enumerate(gdf.geometry, start=1):
        if geometry is None or geometry.is_empty:
            continue
        coords = shapely.get_coordinates(geometry)
        bad = ~np.isfinite(coords) | (np.abs(coords) > ABSURD)
        if bad.any():
            x, y = coords[bad.any(axis=1)][0]
            problems.append(
                f"{name}, feature {position}: absurd coordinates ({x:.6g}, {y:.6g}); no place on Earth has them."
            )
    if problems:
        raise VectorFileError(problems)


def _check_coordinates(gdf: gpd.GeoDataFrame, name: str, suffix: str) -> None:
    """Every vertex must lie within the valid range of the file's CRS."""
    _check_absurd(gdf, name)
    crs = gdf.crs
    if crs.is_geographic:
        xmin, ymin, xmax, ymax = -180.0, -90.0, 180.0, 90.0
        area = "longitude -180..180, latitude -90..90"
    else:
        if crs.area_of_use is None:
            return
        lon0, lat0, lon1, lat1 = crs.area_of_use.bounds
        to_crs = Transformer.from_crs(4326, crs, always_xy=True)
        xmin, ymin, xmax, ymax = to_crs.transform_bounds(lon0, lat0, lon1, lat1, densify_pts=21)
        # Allow a margin: areas of use are drawn tightly around land.
        margin = 0.25 * max(xmax - xmin, ymax - ymin)
        xmin, ymin, xmax, ymax = xmin - margin, ymin - margin, xmax + margin, ymax + margin
        area = f"x {xmin:,.0f}..{xmax:,.0f}, y {ymin:,.0f}..{ymax:,.0f}"
    problems = []
    for position, geometry in enumerate(gdf.geometry, start=1):
        if geometry is None or geometry.is_empty:
            continue
        coords = shapely.get_coordinates(geometry)
        outside = (coords[:, 0] < xmin) | (coords[:, 0] > xmax) | (coords[:, 1] < ymin) | (coords[:, 1] > ymax)
        if outside.any():
            x, y = coords[outside][0]
            hint = ""
            if suffix in (".geojson", ".json") and crs.is_geographic:
                hint = (" A GeoJSON without a crs member is read as longitude/latitude (RFC 7946); these look "
                        "like metres: declare the CRS in the file or give it with --crs (e.g. --crs EPSG:2154).")
            problems.append(
                f"{name}, feature {position}: coordinates ({x:.6g}, {y:.6g}) are outside the valid range of "
                f"{crs_label(crs)} ({area}).{hint}"
            )
    if problems:
        raise VectorFileError(problems)


def crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def feature_label(position: int, code) -> str:
    """How messages name a feature: its 1-based position and, when known, its code."""
    if code is None or (isinstance(code, float) and math.isnan(code)) or str(code).strip() == "":
        return f"feature {position}"
    return f"feature {position} (code {code})"
