"""The local base map (geo.territory.basemap): a PMTiles archive of MVT tiles, read back with the pmtiles reader.

All but the last test need no database: two adjacent 2 km square communes near Belfort and
one sector over both, in Lambert-93, built into tmp_path.
"""

from __future__ import annotations

import gzip
from collections import Counter

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import pytest
import shapely
import sqlalchemy as sa
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from geo.territory.basemap import ATTRIBUTION, LAYERS, EmptyBasemapError, archive_info, build_basemap, territory_basemap

X0, Y0, SIDE = 990000, 6730000, 2000  # Lambert-93 metres, just south of Belfort
TRICKY = "Éloie <b> & « l'Étang »"
FOUR_LAYERS = {"communes", "sectors", "commune_labels", "sector_labels"}


def communes_frame(west_name: str = TRICKY) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"insee": ["90041", "90042"], "name": [west_name, "Valdoie"]},
        geometry=[shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE), shapely.box(X0 + SIDE, Y0, X0 + 2 * SIDE, Y0 + SIDE)],
        crs=2154,
    )


def sectors_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["BEL-SUD"], "name": ["Sud"]},
                            geometry=[shapely.box(X0, Y0, X0 + 2 * SIDE, Y0 + SIDE)], crs=2154)


def read_archive(path) -> tuple[dict, dict, dict[tuple[int, int, int], dict]]:
    """Header, metadata and every tile (decoded), keyed (z, x, y)."""
    with open(path, "rb") as f:
        source = MmapSource(f)
        reader = Reader(source)
        tiles = {zxy: mapbox_vector_tile.decode(gzip.decompress(data)) for zxy, data in all_tiles(source)}
        return reader.header(), reader.metadata(), tiles


def get_tile(path, tile: mercantile.Tile) -> dict | None:
    """One tile decoded, or None if the archive has none there (note: Reader.get takes z, x, y)."""
    with open(path, "rb") as f:
        data = Reader(MmapSource(f)).get(tile.z, tile.x, tile.y)
    return None if data is None else mapbox_vector_tile.decode(gzip.decompress(data))


def tile_of(point_3857: shapely.Point, z: int) -> mercantile.Tile:
    return mercantile.tile(*mercantile.lnglat(point_3857.x, point_3857.y), z)


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "basemap.pmtiles"
    report = build_basemap(communes_frame(), sectors_frame(), path)
    return path, report


def test_report(archive):
    path, report = archive
    assert report.path == path and report.bytes == path.stat().st_size > 0
    assert (report.min_zoom, report.max_zoom) == (8, 14)
    _, _, tiles = read_archive(path)
    assert report.tiles == len(tiles) > 7  # at least one per zoom, several at z14
    assert report.lines() == [f"Base map {path}: {report.tiles} vector tiles, zooms 8 to 14, "
                              f"{report.bytes} bytes ({report.bytes / 1e6:.1f} MB)."]


def test_header_and_metadata(archive):
    path, _ = archive
    header, metadata, tiles = read_archive(path)
    assert header["tile_type"] == TileType.MVT
    assert header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (8, 14)
    assert header["clustered"]  # tiles written in tile id order
    assert header["addressed_tiles_count"] == len(tiles)
    west, south, east, north = communes_frame().to_crs(4326).total_bounds
    assert header["min_lon_e7"] <= west * 1e7 and header["max_lon_e7"] >= east * 1e7
    assert header["min_lat_e7"] <= south * 1e7 and header["max_lat_e7"] >= north * 1e7
    assert header["min_lon_e7"] < header["center_lon_e7"] < header["max_lon_e7"]
    assert header["min_lat_e7"] < header["center_lat_e7"] < header["max_lat_e7"]
    assert 8 <= header["center_zoom"] <= 14

    assert metadata["attribution"] == ATTRIBUTION == "Limites : IGN Admin Express (communes), PSQ (secteurs)"
    assert metadata["name"]
    layers = {layer["id"]: layer["fields"] for layer in metadata["vector_layers"]}
    assert layers == LAYERS
    assert layers["communes"] == {"insee": "String", "name": "String"}
    assert layers["sector_labels"] == {"code": "String", "name": "String"}


def test_z14_tile_of_a_commune_label(archive):
    path, _ = archive
    west_commune = communes_frame().to_crs(3857).geometry[0]
    tile = tile_of(west_commune.representative_point(), 14)
    layers = get_tile(path, tile)
    assert layers is not None
    assert set(layers) == FOUR_LAYERS
    assert all(layer["extent"] == 4096 for layer in layers.values())
    labels = [f["properties"] for f in layers["commune_labels"]["features"]]
    assert {"name": TRICKY, "insee": "90041"} in labels
    assert {f["properties"]["code"] for f in layers["sectors"]["features"]} == {"BEL-SUD"}
    assert {"insee": "90041", "name": TRICKY} in [f["properties"] for f in layers["communes"]["features"]]
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in layers["communes"]["features"])


def test_names_are_data_not_markup(archive):
    path, _ = archive
    _, _, tiles = read_archive(path)
    names = {f["properties"]["name"] for layers in tiles.values()
             for layer in ("communes", "commune_labels") for f in layers[layer]["features"]}
    assert names == {TRICKY, "Valdoie"}  # unchanged: no escaping, no lost accent


def test_each_label_is_in_one_tile_per_zoom(archive):
    path, _ = archive
    _, _, tiles = read_archive(path)
    communes = Counter((z, f["properties"]["insee"]) for (z, _, _), layers in tiles.items()
                       for f in layers["commune_labels"]["features"])
    sectors = Counter((z, f["properties"]["code"]) for (z, _, _), layers in tiles.items()
                      for f in layers["sector_labels"]["features"])
    assert communes == {(z, insee): 1 for z in range(8, 15) for insee in ("90041", "90042")}
    assert sectors == {(z, "BEL-SUD"): 1 for z in range(8, 15)}


def test_polygons_are_clipped_to_the_buffered_tile(archive):
    path, _ = archive
    _, _, tiles = read_archive(path)
    margin = 4096 / 16 + 1  # the buffer, plus one unit of rounding
    for layers in tiles.values():
        for layer in ("communes", "sectors"):
            for feature in layers[layer]["features"]:
                xs, ys = zip(*shapely.get_coordinates(shapely.geometry.shape(feature["geometry"])), strict=True)
                assert -margin <= min(xs) and max(xs) <= 4096 + margin
                assert -margin <= min(ys) and max(ys) <= 4096 + margin


def test_a_tile_far_away_is_absent(archive):
    path, _ = archive
    for z in range(8, 15):
        assert get_tile(path, mercantile.tile(2.3522, 48.8566, z)) is None  # Paris
    assert get_tile(path, mercantile.tile(6.86, 47.63, 15)) is None  # beyond max_zoom
    assert get_tile(path, mercantile.tile(6.86, 47.63, 7)) is None  # below min_zoom


def test_low_zooms_are_simplified(tmp_path):
    # A commune with a fine-grained boundary (a 4096-vertex circle of 1 km radius).
    circle = shapely.Point(X0, Y0).buffer(1000, quad_segs=1024)
    communes = gpd.GeoDataFrame({"insee": ["90041"], "name": ["Ronde"]}, geometry=[circle], crs=2154)
    path = tmp_path / "basemap.pmtiles"
    build_basemap(communes, sectors_frame().iloc[:0], path)
    _, _, tiles = read_archive(path)

    def vertices(z: int) -> int:
        return sum(len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
                   for (tz, _, _), layers in tiles.items() if tz == z for f in layers["communes"]["features"])

    assert vertices(8) < 20 < vertices(14) / 5


def test_rebuild_replaces_the_archive_atomically(tmp_path):
    path = tmp_path / "basemap.pmtiles"
    build_basemap(communes_frame(), sectors_frame(), path)
    first = path.read_bytes()
    build_basemap(communes_frame(), sectors_frame(), path)
    assert path.read_bytes() == first  # the same data gives the same file
    build_basemap(communes_frame("Éloie"), sectors_frame(), path)
    assert path.read_bytes() != first
    # A failed build leaves the archive as it was, and no temporary file behind.
    before = path.read_bytes()
    with pytest.raises(ValueError, match="no CRS"):
        build_basemap(communes_frame().set_crs(None, allow_override=True), sectors_frame(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["basemap.pmtiles"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_nothing_to_draw_is_refused(tmp_path):
    path = tmp_path / "basemap.pmtiles"
    with pytest.raises(EmptyBasemapError, match="no commune and no sector"):
        build_basemap(communes_frame().iloc[:0], sectors_frame().iloc[:0], path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="zooms"):
        build_basemap(communes_frame(), sectors_frame(), path, min_zoom=10, max_zoom=9)


def test_territory_basemap_from_the_database(engine, territory, tmp_path):
    path = tmp_path / "basemap.pmtiles"
    report = territory_basemap(engine, path)
    with engine.connect() as conn:
        communes = dict(conn.execute(sa.text("SELECT insee, name FROM commune")).all())
        sectors = set(conn.execute(sa.text("SELECT code FROM sector WHERE valid_during @> CURRENT_DATE")).scalars())
    assert len(communes) > 50 and len(sectors) >= 8

    header, metadata, tiles = read_archive(path)
    assert report.tiles == len(tiles) and report.bytes == path.stat().st_size
    assert (header["min_zoom"], header["max_zoom"]) == (8, 14)
    assert {layer["id"] for layer in metadata["vector_layers"]} == FOUR_LAYERS
    for z in (8, 14):
        labels = {f["properties"]["insee"]: f["properties"]["name"] for (tz, _, _), layers in tiles.items()
                  if tz == z for f in layers["commune_labels"]["features"]}
        assert labels == communes
        codes = {f["properties"]["code"] for (tz, _, _), layers in tiles.items()
                 if tz == z for f in layers["sector_labels"]["features"]}
        assert codes == sectors
    polygons = {f["properties"]["name"] for layers in tiles.values() for f in layers["communes"]["features"]}
    assert polygons == set(communes.values())
    print(report.lines())


def test_psq_export_basemap_writes_the_archive_and_reports_it(psq, territory, tmp_path):
    out = tmp_path / "fonds" / "fond.pmtiles"
    result = psq("export", "basemap", "-o", out, "--max-zoom", "11")
    assert result.exit_code == 0, result.output
    assert f"Base map {out}:" in result.output and "zooms 8 to 11" in result.output
    assert archive_info(out).max_zoom == 11


def test_psq_export_basemap_of_an_empty_database_says_what_to_load(psq, engine, tmp_path):
    result = psq("export", "basemap", "-o", tmp_path / "fond.pmtiles")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no commune and no sector to draw: load them first"
    assert not (tmp_path / "fond.pmtiles").exists()
