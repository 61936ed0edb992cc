"""The statistics of the sector chief's page: Gi*, density, DBSCAN clusters and emerging categories of a view.

:func:`analyse` is what the route ``/secteur/<csp>/<code>`` (web/pages/sector.py) computes
for a sector version and the view's filters: it reads the occurrences once and computes
the four methods of `geo.analysis.methods` (the same paths as the stored runs and the
patrol zones) on the sector's 200 m grid. Nothing is stored: Gi* and the density take
milliseconds on a sector, the emerging categories well under a second.

A statistic that cannot be computed (no occurrence, counts all equal, too many points
for DBSCAN...) leaves its layer out and gives a French note instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import Grid, HotspotInputError
from geo.analysis.methods import (
    EMERGING_WEEKS,
    NO_PATTERN,
    Steps,
    dbscan_clusters,
    dbscan_description,
    density_cells,
    emerging_cells,
    gistar_cells,
    last_complete_weeks,
    supported,
    with_squares,
)
from geo.analysis.points import Points, fetch_points
from geo.analysis.scopes import Sector
from geo.formats import number
from geo.problems.categories import categories
from geo.settings import CELL_SIZE_M

# DBSCAN's cost grows with the neighbours of each point: 100,000 points in a city centre
# take seconds. Past this many points the page gives a note instead (a category or a
# shorter period brings it back).
DBSCAN_MAX_POINTS = 20_000


@dataclasses.dataclass(frozen=True)
class ViewFilters:
    """The period (local days, both included) and the category (code, or None for all) of a view."""

    first: dt.date
    last: dt.date
    category: str | None


class TooManyPoints(HotspotInputError):
    """A statistic that the page does not compute on so many points (its message is in French)."""

    @property
    def user_message(self) -> str:
        return str(self)


@dataclasses.dataclass
class Analysis:
    """The layers' data (GeoDataFrames in EPSG:2154, None when not computable), French notes, and the
    complete weeks of the emerging analysis (``steps``, in French), the DBSCAN parameters (``dbscan``, in French)."""

    steps: str = ""
    dbscan: str = ""
    gistar: gpd.GeoDataFrame | None = None
    density: gpd.GeoDataFrame | None = None
    clusters: gpd.GeoDataFrame | None = None
    emerging: gpd.GeoDataFrame | None = None
    notes: dict[str, str] = dataclasses.field(default_factory=dict)


def analyse(bind: Engine | Connection, sector: Sector, filters: ViewFilters) -> Analysis:
    """Gi*, density, DBSCAN clusters and emerging categories of a sector for the view's filters.

    The occurrences are read once, from the start of the emerging analysis's 104 weeks
    (or the period's start, if earlier) to the period's last day. The emerging analysis
    takes the 104 complete weeks (Monday to Sunday) ending with the last complete week of
    the period, yesterday at the latest: an incomplete week would read as a drop. A statistic that
    cannot be computed leaves its layer out and gives a French note (``notes``, by layer)
    instead.
    """
    steps = last_complete_weeks(filters.last, EMERGING_WEEKS)
    points = fetch_points(bind, sector.scope(), min(filters.first, steps.first_day), filters.last, filters.category)
    period = points.between(filters.first, filters.last)
    grid = Grid.from_polygon(sector.geometry, size=CELL_SIZE_M)
    analysis = Analysis(steps=steps.describe_fr(), dbscan=dbscan_description(apart=filters.category is None))
    jobs = {"gistar": lambda: with_squares(supported(gistar_cells(period, grid), len(period.x)).frame),
            "density": lambda: with_squares(density_cells(period, grid).frame[["i", "j", "density"]]),
            "clusters": lambda: _clusters(bind, sector, filters, len(period.x)),
            "emerging": lambda: _emerging(points, grid, steps, filters.category is None)}
    for key, job in jobs.items():
        try:
            setattr(analysis, key, job())
        except HotspotInputError as error:
            analysis.notes[key] = error.user_message
    return analysis


def _emerging(points: Points, grid: Grid, steps: Steps, per_category: bool) -> gpd.GeoDataFrame:
    """The recurring cells of the view (:func:`recurring_cells`), their category labelled, as squares."""
    frame = recurring_cells(points, grid, steps, per_category)
    if not per_category:
        return with_squares(frame)
    labels = {c.code: c.label for c in categories()}
    return with_squares(frame.assign(category=[labels.get(code, code) for code in frame.category]))


def recurring_cells(points: Points, grid: Grid, steps: Steps, per_category: bool) -> pd.DataFrame:
    """The emerging class of each cell over the complete weeks ``steps``, as the sector page shows it.

    With ``per_category`` (the view of all categories) each category gets its own cube,
    the false discovery rate of each week is controlled over all of them together, and
    only the cells with a trend are kept, with their category's code (column
    ``category``): summed together, the categories drown each other's recurring places
    in the background. Columns ``i``, ``j``, ``emerging_category``, ``count``,
    ``neighbourhood`` (and ``category``). The demo checks its planted places with this
    very function (geo.demo.check).
    """
    window = points.between(steps.first_day, steps.last_day)
    if len(window.x) == 0:
        raise HotspotInputError("no occurrence falls in the study area during the period")
    frame = supported(emerging_cells(window, grid, steps, apart=per_category), len(window.x)).frame
    columns = ["i", "j", "emerging_category", "count", "neighbourhood"]
    if not per_category:
        return frame[columns]
    return frame.loc[frame.emerging_category != NO_PATTERN, [*columns, "category"]].reset_index(drop=True)


def _clusters(bind: Engine | Connection, sector: Sector, filters: ViewFilters, n_points: int) -> gpd.GeoDataFrame:
    if n_points > DBSCAN_MAX_POINTS:
        raise TooManyPoints(f"{number(n_points)} faits sur la période : trop pour calculer les agrégats sur "
                            f"la page (au plus {number(DBSCAN_MAX_POINTS)}). Choisissez une catégorie ou une "
                            "période plus courte.")
    apart = filters.category is None
    clusters = dbscan_clusters(bind, sector.geometry, filters.first, filters.last, filters.category, apart=apart)
    if apart:  # each category on its own: its label and colour go to the map's hull and tooltip
        known = {c.code: c for c in categories()}
        clusters["category"] = [known[c].label if c in known else c for c in clusters.category_code]
        clusters["colour"] = [known[c].colour if c in known else "#542788" for c in clusters.category_code]
    return clusters


__all__ = ["DBSCAN_MAX_POINTS", "EMERGING_WEEKS", "Analysis", "TooManyPoints", "ViewFilters", "analyse",
           "recurring_cells"]
