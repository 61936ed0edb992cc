"""The still map of a GPO's area: a PNG of a fixed size, its hot cells in the web maps' colours, fast, no network."""

from __future__ import annotations

import io
import time

import geopandas as gpd
import pytest
import shapely
from PIL import Image

from geo.analysis.methods import cell_squares
from geo.gpo.map_image import HOT_CLASSES, area_map_png, nice_length, png_size

AREA = shapely.box(990_000, 6_730_000, 993_000, 6_732_000)


def _hot() -> gpd.GeoDataFrame:
    i, j = [4955, 4956, 4957, 4958], [33653, 33653, 33654, 33654]
    return gpd.GeoDataFrame({"gi_bin": [3, 3, 2, 1]}, geometry=cell_squares(i, j), crs=2154)


def _problems() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"rank": [1, 2, 3]}, geometry=[
        shapely.Point(991_000, 6_731_000), shapely.LineString([(991_500, 6_730_500), (992_500, 6_731_500)]),
        shapely.box(990_200, 6_731_200, 990_600, 6_731_600)], crs=2154)


def _context() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.box(993_000, 6_730_000, 996_000, 6_733_000)], crs=2154)


def _colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour for _, colour in image.getcolors(maxcolors=1 << 22)}


def _blend(hex_colour: str, alpha: float = 0.8) -> tuple[int, int, int]:
    """The colour drawn with ``alpha`` over white."""
    rgb = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return tuple(round(alpha * c + (1 - alpha) * 255) for c in rgb)


def _near(colour, colours, tolerance: int = 2) -> bool:
    return any(all(abs(a - b) <= tolerance for a, b in zip(colour, c)) for c in colours)


def test_the_map_is_a_png_of_a_fixed_size_whatever_the_shape_of_the_area():
    for area in (AREA, shapely.box(0, 0, 200, 5_000), shapely.box(0, 0, 9_000, 100)):
        png = area_map_png(area, width_px=600)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and png_size(png) == (600, 420)
    assert png_size(area_map_png(AREA)) == (1400, 980)


def test_the_same_map_gives_the_same_bytes():
    drawn = [area_map_png(AREA, hot_cells=_hot(), problems=_problems(), context=_context(), title="GPO « Centre »")
             for _ in range(2)]
    assert drawn[0] == drawn[1]


def test_hot_cells_take_the_colours_of_the_web_maps_and_only_95_and_99_percent_are_drawn():
    png = area_map_png(AREA, hot_cells=_hot(), width_px=800)
    colours = _colours(png)
    for gi_bin, (colour, _) in HOT_CLASSES.items():
        assert _near(_blend(colour), colours), gi_bin
    assert not _near(_blend("#fddbc7"), colours, tolerance=0)  # the 90 % class of layers/style.py: not drawn
    assert HOT_CLASSES[3][0] == "#b2182b" and HOT_CLASSES[2][0] == "#ef8a62"  # layers/style.py GI_BIN


def test_the_problems_and_the_context_change_the_picture():
    bare = area_map_png(AREA, width_px=600)
    assert area_map_png(AREA, problems=_problems(), width_px=600) != bare
    assert area_map_png(AREA, context=_context(), width_px=600) != bare


def test_empty_layers_and_an_empty_area_still_give_a_map():
    empty = gpd.GeoDataFrame({"gi_bin": [], "rank": []}, geometry=[], crs=2154)
    assert png_size(area_map_png(shapely.MultiPolygon(), hot_cells=empty, problems=empty, context=empty,
                                 width_px=300)) == (300, 210)


def test_a_sector_map_draws_in_under_a_second():
    area_map_png(AREA, width_px=200)  # matplotlib's first import and font cache are not the drawing
    start = time.perf_counter()
    area_map_png(AREA, hot_cells=_hot(), problems=_problems(), context=_context(), title="GPO Centre")
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("metres, length", [(0.3, 1), (7, 5), (180, 100), (672, 500), (2_345, 2_000), (9_999, 5_000)])
def test_the_scale_bar_takes_a_round_length(metres, length):
    assert nice_length(metres) == length
