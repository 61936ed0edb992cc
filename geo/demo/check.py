"""Does the sector page read each planted place of a synthetic demo as planted?

The demo exists to show each emerging class on a map, on whatever day it is built. A
place planted as persistent can still read otherwise on a given draw: a chance
Mann-Kendall trend, or the drift of its sector's other places of the same category (Gi*
compares a cell with its sector's mean and spread week by week). :func:`misread_places`
runs the sector page's own analysis (:func:`geo.analysis.sector_view.recurring_cells`,
each sector's 104 complete weeks, every category apart) on the generated occurrences in
memory, and :func:`geo.demo.loader.load_demo` takes the first seed whose draw reads as
planted.

This is a property of the demo, not evidence for the engine: the engine's error rates
are measured on draws that were not chosen (bench/calibration.py,
tests/geo/analysis/hotspots/test_calibration.py).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import shapely

from geo.analysis.hotspots import Grid
from geo.analysis.methods import EMERGING_WEEKS, last_complete_weeks
from geo.analysis.points import Points
from geo.analysis.sector_view import recurring_cells
from geo.demo.synthetic import TIMEZONE, SyntheticDemo
from geo.settings import CELL_SIZE_M, SRID

__all__ = ["misread_places", "planted_cells"]


def planted_cells(truth: dict) -> list[tuple[str, str, str, dict, str]]:
    """(place id, sector, category code, cell, expected class) of every planted cell with an expected class.

    >>> truth = {"places": [{"id": "PL01", "sector": "BEL-RESID", "category": "stupefiants",
    ...                      "cell": {"i": 1, "j": 2}, "expected_emerging_class": "persistent"}]}
    >>> planted_cells(truth)
    [('PL01', 'BEL-RESID', 'stupefiants', {'i': 1, 'j': 2}, 'persistent')]
    """
    out = []
    for place in truth["places"]:
        for part in [place[k] for k in ("old", "new") if k in place] or [place]:
            if part.get("expected_emerging_class"):
                out.append((place["id"], part.get("sector") or place["sector"], place["category"], part["cell"],
                            part["expected_emerging_class"]))
    return out


def misread_places(demo: SyntheticDemo, sectors: gpd.GeoDataFrame, end: dt.date) -> list[str]:
    """The planted cells the sector page would not show in their class, as readable lines (empty: all hold).

    ``sectors``: the sectors the demo is loaded with (column ``code``); ``end``: the last
    day of the synthetic data (a Sunday), the last day of the default view's weeks.
    """
    steps = last_complete_weeks(end, EMERGING_WEEKS, today=end + dt.timedelta(days=1))
    occ = demo.occurrences
    at = occ["occurred_at"].dt.tz_convert(TIMEZONE).dt.tz_localize(None).to_numpy("datetime64[us]")
    x, y = occ["x"].to_numpy(float), occ["y"].to_numpy(float)
    shapes = dict(zip(sectors.code, sectors.to_crs(SRID).geometry))
    wrong = []
    by_sector: dict[str, list] = {}
    for row in planted_cells(demo.truth):
        by_sector.setdefault(row[1], []).append(row)
    for code, rows in sorted(by_sector.items()):
        inside = shapely.intersects_xy(shapes[code], x, y)
        points = Points(x[inside], y[inside], at[inside], np.arange(int(inside.sum())),
                        occ["category"].to_numpy(object)[inside])
        cells = recurring_cells(points, Grid.from_polygon(shapes[code], size=CELL_SIZE_M), steps, per_category=True)
        for place, _, category, cell, expected in rows:
            got = sorted(cells.emerging_category[(cells.i == cell["i"]) & (cells.j == cell["j"])
                                                 & (cells.category == category)])
            want = [] if expected == "no pattern" else [f"{expected} hot spot"]
            if got != want:
                wrong.append(f"{place} ({code}, {category}): {got or 'no pattern'} instead of {want or 'no pattern'}")
    return wrong
