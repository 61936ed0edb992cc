"""A small local base map of the territory: one PMTiles archive of vector tiles (MVT).

The app must draw its maps with no internet at all, so the background under the
sectors cannot come from a public tile server. This module cuts the territory's own
data (the communes and the sectors) into Mapbox Vector Tiles and stores them in one
PMTiles file, which the browser reads by HTTP range requests (protomaps-leaflet,
vendored in ``web/static/vendor/protomaps-leaflet/``): no tile server, one static file.

Each tile holds four layers:

- ``communes``: the commune polygons, properties ``insee`` and ``name``;
- ``sectors``: the sector polygons, properties ``code`` and ``name``;
- ``commune_labels``: one point per commune (its ``representative_point()``, always
  inside it), properties ``name`` and ``insee``, in the one tile that holds the point;
- ``sector_labels``: the same for the sectors, properties ``code`` and ``name``.

Every tile written holds the four layers, empty ones too (a few bytes each), so that a
style can count on them; a tile with no feature at all is not written (the reader then
answers "no tile", which the renderer draws as empty).

Names are stored as they are: ``"Éloie <b>"`` stays ``"Éloie <b>"``. A vector tile
holds data, not markup; escaping is the renderer's job.

Examples
--------
>>> import tempfile
>>> import geopandas as gpd
>>> import shapely
>>> communes = gpd.GeoDataFrame({"insee": ["90039"], "name": ["Belfort"]},
...                             geometry=[shapely.box(990000, 6730000, 992000, 6732000)], crs=2154)
>>> sectors = gpd.GeoDataFrame({"code": ["BEL-CENTRE"], "name": ["Centre"]},
...                            geometry=[shapely.box(990500, 6730500, 991500, 6731500)], crs=2154)
>>> with tempfile.TemporaryDirectory() as folder:
...     report = build_basemap(communes, sectors, Path(folder) / "basemap.pmtiles", max_zoom=12)
>>> report.min_zoom, report.max_zoom, report.tiles >= 5
(8, 12, True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid
from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from sqlalchemy.engine import Connection, Engine

from geo.db.audit import audit
from geo.db.queries import named_query
from geo.db.unit_of_work import connection, transaction
from geo.errors import PsqError
from geo.settings import SRID, local_today

__all__ = ["ATTRIBUTION", "LAYERS", "ArchiveInfo", "BasemapReport", "archive_info", "EmptyBasemapError", "build_basemap", "territory_basemap",
           "territory_frames"]

#: Web mercator: the projection of the tiles (and of Leaflet's default map).
WEB_MERCATOR = 3857

#: Where the limits come from, shown by the map's attribution control.
ATTRIBUTION = "Limites : IGN Admin Express (communes), PSQ (secteurs)"

#: The archive's name in its metadata.
NAME = "psq-basemap"

#: Layer id -> its properties and their MVT type (``vector_layers`` of the metadata, in tile order).
LAYERS: dict[str, dict[str, str]] = {
    "communes": {"insee": "String", "name": "String"},
    "sectors": {"code": "String", "name": "String"},
    "commune_labels": {"name": "String", "insee": "String"},
    "sector_labels": {"code": "String", "name": "String"},
}

#: Tile extent in MVT units: 4096 is the usual grid, fine enough for a 512-px tile.
EXTENT = 4096

#: Polygons are clipped to the tile enlarged by this fraction of its width on each side, so
#: that the renderer's strokes along a tile edge are not cut where two tiles meet.
BUFFER = 1 / 16

#: Width of the web mercator world in metres (the zoom-0 tile).
WORLD_M = 2 * math.pi * 6378137.0

_COMMUNES_SQL = sa.text("SELECT insee, name, geom FROM commune ORDER BY insee")


class EmptyBasemapError(PsqError, ValueError):
    """Nothing to draw: no commune and no sector (the PMTiles writer cannot write an archive of no tile)."""


@dataclasses.dataclass(frozen=True)
class BasemapReport:
    """What :func:`build_basemap` wrote.

    Examples
    --------
    >>> BasemapReport(Path("basemap.pmtiles"), 120, 345678, 8, 14).lines()
    ['Base map basemap.pmtiles: 120 vector tiles, zooms 8 to 14, 345678 bytes (0.3 MB).']
    """

    path: Path
    tiles: int  # tiles written (empty tiles are not)
    bytes: int  # size of the archive
    min_zoom: int
    max_zoom: int

    def lines(self) -> list[str]:
        return [
            f"Base map {self.path}: {self.tiles} vector tiles, zooms {self.min_zoom} to {self.max_zoom}, "
            f"{self.bytes} bytes ({self.bytes / 1e6:.1f} MB)."
        ]


@dataclasses.dataclass
class _Layer:
    """One layer's features in web mercator: shapes, their properties, and a spatial index per zoom."""

    name: str
    shapes: np.ndarray  # shapely geometries, EPSG:3857
    properties: list[dict[str, str | None]]
    points: bool  # label points (kept inside their one tile) or polygons (clipped)

    def __post_init__(self):
        self._by_zoom: dict[int, tuple[np.ndarray, shapely.STRtree]] = {}

    def at_zoom(self, z: int) -> tuple[np.ndarray, shapely.STRtree]:
        """The shapes simplified for zoom ``z``, and their index (computed once per zoom)."""
        if z not in self._by_zoom:
            shapes = self.shapes
            if not self.points:
                # About two MVT units at this zoom: finer detail is lost in the tile's rounding anyway, and
                # simplifying keeps a low-zoom tile (a whole département on 512 px) a few kilobytes.
                tolerance = WORLD_M / 2**z / EXTENT * 2
                shapes = shapely.simplify(shapes, tolerance, preserve_topology=True)
            self._by_zoom[z] = (shapes, shapely.STRtree(shapes))
        return self._by_zoom[z]

    def features(self, tile: mercantile.Tile) -> list[dict]:
        """The layer's features in ``tile``, in web mercator (the encoder quantizes them)."""
        shapes, tree = self.at_zoom(tile.z)
        west, south, east, north = mercantile.xy_bounds(tile)
        if self.points:
            # Half-open box: a point on the edge of two tiles is in one of them only, so a label is drawn once.
            found = tree.query(shapely.box(west, south, east, north))
            return [{"geometry": shapes[i], "properties": self.properties[i]} for i in sorted(found)
                    if west <= shapes[i].x < east and south <= shapes[i].y < north]
        margin = (east - west) * BUFFER
        clip = shapely.box(west - margin, south - margin, east + margin, north + margin)
        out = []
        for i in sorted(tree.query(clip, predicate="intersects")):
            part = _polygonal(shapely.intersection(shapes[i], clip))
            if part is not None:
                out.append({"geometry": part, "properties": self.properties[i]})
        return out


def build_basemap(communes: gpd.GeoDataFrame, sectors: gpd.GeoDataFrame, path: Path,
                  min_zoom: int = 8, max_zoom: int = 14) -> BasemapReport:
    """Write the base map of ``communes`` and ``sectors`` to the PMTiles archive ``path``.

    Every web mercator tile of zooms ``min_zoom`` to ``max_zoom`` over the bounds of both
    frames is cut, and written when it holds a feature: gzipped MVT, four layers (see the
    module's docstring). The archive is written beside ``path`` under a temporary name and
    then moved onto it (``os.replace``), so a server reading the old file never sees a
    half-written one.

    Parameters
    ----------
    communes : geopandas.GeoDataFrame
        Columns ``insee``, ``name`` and the geometry, in any CRS (usually EPSG:2154).
    sectors : geopandas.GeoDataFrame
        Columns ``code``, ``name`` and the geometry, in any CRS.
    path : pathlib.Path
        The archive to write (its folder must exist); replaced if it exists.
    min_zoom, max_zoom : int
        The zoom levels cut. 8 shows a département on a screen, 14 a neighbourhood; the
        renderer over-zooms the last level beyond it if told where the data stops
        (protomaps-leaflet: ``maxDataZoom`` = ``max_zoom``; its default, 15, leaves the
        map blank past ``max_zoom``).

    Returns
    -------
    BasemapReport
        The path, the number of tiles written, the archive's size and the zooms.

    Raises
    ------
    EmptyBasemapError
        If neither frame has a geometry.
    ValueError
        If a frame has no CRS, or the zooms are not 0 <= min_zoom <= max_zoom <= 22.

    Examples
    --------
    >>> import tempfile
    >>> import shapely
    >>> square = shapely.box(990000, 6730000, 992000, 6732000)
    >>> communes = gpd.GeoDataFrame({"insee": ["90039"], "name": ["Belfort"]}, geometry=[square], crs=2154)
    >>> no_sector = gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs=2154)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     report = build_basemap(communes, no_sector, Path(folder) / "basemap.pmtiles", 10, 10)
    ...     report.tiles, report.path.stat().st_size == report.bytes
    (1, True)
    """
    path = Path(path)
    if not 0 <= min_zoom <= max_zoom <= 22:
        raise ValueError(f"zooms {min_zoom} to {max_zoom}: write 0 <= min_zoom <= max_zoom <= 22")
    layers = _layers(_mercator(communes, "communes"), _mercator(sectors, "sectors"))
    shapes = np.concatenate([layer.shapes for layer in layers])
    if len(shapes) == 0:
        raise EmptyBasemapError("no commune and no sector to draw: load them first",
                                user_message="Aucune commune ni aucun secteur à dessiner : chargez-les d'abord.")
    bounds = shapely.total_bounds(shapes)
    west, south = mercantile.lnglat(bounds[0], bounds[1])
    east, north = mercantile.lnglat(bounds[2], bounds[3])

    header = {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        # Overwritten by Writer.finalize with the zooms of the first and last tiles written.
        "min_zoom": min_zoom,
        "max_zoom": max_zoom,
        # Rounded outwards, so the declared bounds always contain the data.
        "min_lon_e7": math.floor(west * 1e7),
        "min_lat_e7": math.floor(south * 1e7),
        "max_lon_e7": math.ceil(east * 1e7),
        "max_lat_e7": math.ceil(north * 1e7),
        "center_zoom": _centre_zoom(bounds, min_zoom, max_zoom),
        "center_lon_e7": round((west + east) / 2 * 1e7),
        "center_lat_e7": round((south + north) / 2 * 1e7),
    }
    metadata = {
        "name": NAME,
        "description": "Communes et secteurs du territoire (PSQ)",
        "attribution": ATTRIBUTION,
        "type": "baselayer",
        "vector_layers": [
            {"id": name, "fields": fields, "minzoom": min_zoom, "maxzoom": max_zoom}
            for name, fields in LAYERS.items()
        ],
    }

    tiles = 0
    with _replacing(path) as out:
        writer = Writer(out)
        for tile_id, tile in _tiles((west, south, east, north), min_zoom, max_zoom):
            data = _encode(tile, layers)
            if data is not None:
                # mtime=0: the same data gives the same bytes, so the writer's de-duplication of identical
                # tiles works and a rebuild of an unchanged territory gives an identical file.
                writer.write_tile(tile_id, gzip.compress(data, mtime=0))
                tiles += 1
        if tiles == 0:  # shapes too small to leave a mark at any zoom; finalize would fail on no tile
            raise EmptyBasemapError("the communes and sectors are too small to draw at these zooms")
        writer.finalize(header, metadata)
    return BasemapReport(path, tiles, path.stat().st_size, min_zoom, max_zoom)


def territory_basemap(bind: Engine | Connection, path: Path, day: dt.date | None = None, *,
                      min_zoom: int = 8, max_zoom: int = 14) -> BasemapReport:
    """Write the base map of the communes loaded and the sectors valid on ``day`` to ``path``.

    Parameters
    ----------
    bind : sqlalchemy.engine.Engine or sqlalchemy.engine.Connection
        The database.
    path : pathlib.Path
        The PMTiles archive to write (replaced atomically).
    day : datetime.date, optional
        The day whose sectors are drawn; default today in France (``geo.settings.local_today``).
    min_zoom, max_zoom : int
        As :func:`build_basemap`.

    Returns
    -------
    BasemapReport

    Examples
    --------
    >>> import tempfile
    >>> from geo.ingest.sectors import load_sectors
    >>> _ = load_sectors(engine, "data/boundaries/sectors-csp-belfort.geojson", valid_from=dt.date(2024, 1, 1))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     report = territory_basemap(engine, Path(folder) / "basemap.pmtiles", dt.date(2025, 1, 1), max_zoom=10)
    >>> report.tiles > 0, report.max_zoom
    (True, 10)
    """
    communes, sectors = territory_frames(bind, day or local_today())
    report = build_basemap(communes, sectors, path, min_zoom, max_zoom)
    with transaction(bind) as conn:
        audit(conn, "export.basemap", target=str(path), details={"tiles": report.tiles, "as_of": day or local_today()})
    return report


def territory_frames(bind: Engine | Connection, day: dt.date) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The communes loaded (insee, name) and the sectors valid on ``day`` (code, name), in EPSG:2154.

    The sectors come from ``sql/queries/sector_on_day.sql``, the one "sectors valid on a
    day" query (the one of ``geo.analysis.scopes.sectors_on_day``), run here directly:
    importing ``geo.analysis`` from ``geo.territory`` would close an import circle
    (``geo.analysis`` imports ``geo.territory``), which the import contracts forbid.
    """
    with connection(bind) as conn:
        communes = gpd.read_postgis(_COMMUNES_SQL, conn, geom_col="geom", crs=SRID)
        rows = conn.execute(named_query("sector_on_day"),
                            {"day": day, "csp_id": None, "csp": None, "code": None, "keys": None,
                             "with_geom": True}).all()
    sectors = gpd.GeoDataFrame({"code": [r.code for r in rows], "name": [r.name for r in rows]},
                               geometry=[shapely.from_wkb(bytes(r.geom)) for r in rows], crs=SRID)
    return communes.rename_geometry("geometry"), sectors


# -- helpers ------------------------------------------------------------------------------


def _mercator(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """``frame`` in web mercator, without empty or missing geometries."""
    if frame.crs is None:
        raise ValueError(f"the {what} have no CRS: set it (EPSG:2154 for Lambert-93) before building the base map")
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    return frame.to_crs(WEB_MERCATOR)


def _text(value) -> str | None:
    """A property as a string; missing values (None, NaN) as None, which the encoder leaves out."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _layers(communes: gpd.GeoDataFrame, sectors: gpd.GeoDataFrame) -> list[_Layer]:
    """The four layers, in the order of :data:`LAYERS`."""
    out = []
    for frame, name, keys in ((communes, "communes", ("insee", "name")), (sectors, "sectors", ("code", "name"))):
        polygons = np.array([_polygonal(g) for g in frame.geometry], dtype=object)
        keep = np.array([g is not None for g in polygons], dtype=bool)
        polygons = polygons[keep]
        rows = frame[keep]
        properties = [{k: _text(row[k]) for k in keys} for _, row in rows.iterrows()]
        out.append(_Layer(name, polygons, properties, points=False))
    for polygon_layer, name in ((out[0], "commune_labels"), (out[1], "sector_labels")):
        # Computed on the full geometry, so that the point stays the same at every zoom.
        points = shapely.point_on_surface(polygon_layer.shapes) if len(polygon_layer.shapes) else polygon_layer.shapes
        properties = [{k: p[k] for k in LAYERS[name]} for p in polygon_layer.properties]
        out.append(_Layer(name, np.asarray(points, dtype=object), properties, points=True))
    return out


def _polygonal(geometry) -> shapely.Geometry | None:
    """The polygon parts of ``geometry`` (a clip can leave lines and points on the tile's edge), or None.

    MVT cannot encode a GeometryCollection, and a line left by a clip along a tile edge is not part of a polygon.
    """
    if geometry is None or geometry.is_empty:
        return None
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _centre_zoom(bounds: np.ndarray, min_zoom: int, max_zoom: int) -> int:
    """The zoom at which the data's bounds fill about 1024 pixels (four 256-px tiles), within the zooms cut."""
    span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1.0)
    return max(min_zoom, min(max_zoom, math.floor(math.log2(WORLD_M / span)) + 2))


def _tiles(lnglat_bounds: tuple[float, float, float, float], min_zoom: int,
           max_zoom: int) -> Iterator[tuple[int, mercantile.Tile]]:
    """The tiles over the bounds, with their PMTiles tile id, in tile id order.

    The writer needs them in that order: it de-duplicates runs of identical consecutive tiles by id and marks
    the archive "clustered" (tile data in id order, which readers rely on for fewer range requests) only if
    no tile id is lower than the one before.
    """
    tiles = list(mercantile.tiles(*lnglat_bounds, zooms=range(min_zoom, max_zoom + 1)))
    with_ids = sorted((zxy_to_tileid(t.z, t.x, t.y), t) for t in tiles)
    # No duplicate: a tile id is written once (the writer does not check).
    return iter(dict(with_ids).items())


def _encode(tile: mercantile.Tile, layers: list[_Layer]) -> bytes | None:
    """The MVT of ``tile`` (not compressed), or None when no layer has a feature in it."""
    found = [{"name": layer.name, "features": layer.features(tile)} for layer in layers]
    if not any(layer["features"] for layer in found):
        return None
    with warnings.catch_warnings():
        # mapbox-vector-tile 2.2 quantizes with shapely.ops.transform, deprecated since shapely 2.1: one
        # warning per feature, thousands per build, about the library's code and not ours.
        warnings.filterwarnings("ignore", r".*shapely\.ops\.transform", DeprecationWarning)
        return mapbox_vector_tile.encode(found, default_options={
            # Tile-local coordinates: the tile's own bounds map onto 0..EXTENT; the buffer falls outside.
            "quantize_bounds": mercantile.xy_bounds(tile),
            "extents": EXTENT,
            # A polygon rounded to the MVT grid can cross itself; repair it rather than ship an invalid ring.
            "on_invalid_geometry": on_invalid_geometry_make_valid,
        })


class _replacing:
    """Context manager: a binary file beside ``path``, moved onto ``path`` when the block ends without error.

    ``os.replace`` within one folder is atomic, so a reader (the web server) opens either the old archive
    or the new one, never a half-written file. On an error the temporary file is removed and ``path`` is
    left as it was.
    """

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = tempfile.NamedTemporaryFile(dir=self.path.parent, prefix=f".{self.path.name}.",
                                                suffix=".tmp", delete=False)
        return self.file

    def __exit__(self, kind, error, traceback):
        tmp = Path(self.file.name)
        try:
            if kind is None:
                self.file.flush()
                os.fsync(self.file.fileno())
            self.file.close()
            if kind is not None:
                return False
            # NamedTemporaryFile is private to its owner (0600); the server may run as another user.
            mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
            os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return False


@dataclasses.dataclass(frozen=True)
class ArchiveInfo:
    """What a map needs to know of a PMTiles archive: its deepest zoom (deeper, the browser over-zooms)
    and its attribution (from its metadata, empty if none)."""

    max_zoom: int
    attribution: str


def archive_info(path: Path) -> ArchiveInfo:
    """The deepest zoom and the attribution of the PMTiles archive at ``path`` (any archive, ours or not).

    Raises ``ValueError`` (in French) when the file is missing or not a PMTiles archive.

    Examples
    --------
    >>> import tempfile, geopandas as gpd, shapely
    >>> one = gpd.GeoDataFrame({"insee": ["1"], "code": ["A"], "name": ["A"]}, crs=2154,
    ...                        geometry=[shapely.box(990000, 6730000, 991000, 6731000)])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = build_basemap(one, one, Path(folder) / "b.pmtiles", max_zoom=11)
    ...     archive_info(Path(folder) / "b.pmtiles")
    ArchiveInfo(max_zoom=11, attribution='Limites : IGN Admin Express (communes), PSQ (secteurs)')
    """
    try:
        with open(path, "rb") as file:
            reader = Reader(MmapSource(file))
            header, metadata = reader.header(), reader.metadata()
    except Exception as error:  # noqa: BLE001 (pmtiles raises its own, bare exceptions on a foreign file)
        raise ValueError(f"Le fond de carte {path} n'est pas une archive PMTiles lisible ({error}).") from None
    attribution = metadata.get("attribution", "") if isinstance(metadata, dict) else ""
    return ArchiveInfo(int(header["max_zoom"]), str(attribution or ""))
