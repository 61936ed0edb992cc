"""A still map of a GPO's area for its meeting file: a PNG drawn on the server, no tiles, no network.

The area's outline (EPSG:2154), the neighbouring sectors in light grey, the hot cells of
the last weeks (Gi* classes, in the colours of the web maps) and the problems of the
agenda numbered by their rank, with a scale bar, a north arrow and a French legend. The
image has the same size for the same arguments (``width_px`` by 0.7 of it), whatever the
area's shape: the view is widened to the image's proportions, never stretched.

Drawn with matplotlib's Agg canvas on a :class:`matplotlib.figure.Figure` (no pyplot: no
global state, safe in a threaded server) and geopandas' plotting.

Examples
--------
>>> import shapely
>>> png = area_map_png(shapely.box(990_000, 6_730_000, 993_000, 6_732_000), width_px=400)
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", png_size(png)
(True, (400, 280))
>>> nice_length(2_345)
2000
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Sequence
from typing import NamedTuple

import geopandas as gpd
import shapely

from geo.formats import number
from geo.settings import SRID

#: Height of the image over its width (a landscape picture that fits an A4 page in portrait).
ASPECT = 0.7
DPI = 100
#: Room around the area, as a share of its larger side.
MARGIN = 0.06
#: Gi* class -> (colour, French label): the hot classes the web maps draw (layers/style.py, GI_BIN, ColorBrewer
#: RdBu; only 95 and 99 % are drawn). Copied, not imported: geo/ does not depend on layers/.
HOT_CLASSES = {3: ("#b2182b", "Point chaud (99 %)"), 2: ("#ef8a62", "Point chaud (95 %)")}
AREA_COLOUR = "#1e293b"
CONTEXT_FILL, CONTEXT_EDGE = "#f1f5f9", "#94a3b8"
PROBLEM_COLOUR = "#1d4ed8"


class Overlay(NamedTuple):
    """More shapes drawn over the area's outline, in the order given: ``frame`` (EPSG:2154), its legend ``label``,
    the keywords of ``GeoDataFrame.plot`` (``style``: ``facecolor``, ``edgecolor``, ``alpha``...), and the column
    whose text is written on each shape, if any (``labels``)."""

    frame: gpd.GeoDataFrame
    label: str
    style: dict
    labels: str | None = None


def area_map_png(area, *, hot_cells: gpd.GeoDataFrame | None = None, problems: gpd.GeoDataFrame | None = None,
                 context: gpd.GeoDataFrame | None = None, width_px: int = 1400, title: str | None = None,
                 area_label: str = "Périmètre du GPO", overlays: Sequence[Overlay] = (), view=None) -> bytes:
    """The PNG of the map of ``area`` (a shapely geometry in EPSG:2154), ``width_px`` by ``0.7 * width_px``.

    Parameters
    ----------
    area : shapely geometry
        The GPO's area, drawn as an outline; the view is framed on it.
    hot_cells : GeoDataFrame, optional
        Cells (EPSG:2154) with a ``gi_bin`` column; classes 2 and 3 are drawn.
    problems : GeoDataFrame, optional
        Points, lines or polygons (EPSG:2154) with a ``rank`` column: each is labelled with it.
    context : GeoDataFrame, optional
        Neighbouring sectors or communes (EPSG:2154), drawn in light grey under the rest.
    width_px : int
        The image's width in pixels.
    title : str, optional
        A title written in the top left corner.
    area_label : str
        The outline's name in the legend.
    overlays : sequence of Overlay
        More layers over the rest (the audit file's camera wedges and proposed sites).
    view : shapely geometry, optional
        What the view is framed on, if not the area.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height_px = round(width_px * ASPECT)
    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    xmin, ymin, xmax, ymax = _view(area if view is None else view, ASPECT)
    axes.set_xlim(xmin, xmax)
    axes.set_ylim(ymin, ymax)
    axes.set_aspect("equal", adjustable="datalim")
    handles = _draw(axes, area, hot_cells, problems, context, (xmin, ymin, xmax, ymax), area_label)
    handles += _overlays(axes, overlays)
    _scale_bar(axes, xmin, ymin, xmax, ymax)
    _north_arrow(axes)
    if title:
        axes.text(0.015, 0.975, title, transform=axes.transAxes, ha="left", va="top", fontsize=13,
                  fontweight="bold", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    axes.legend(handles=handles, loc="lower right", fontsize=10, framealpha=0.92, title="Légende",
                title_fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _view(area, aspect: float) -> tuple[float, float, float, float]:
    """The box framing ``area`` with a margin, widened to ``aspect`` (height / width)."""
    if area is None or area.is_empty:
        area = shapely.Point(0, 0).buffer(500)
    xmin, ymin, xmax, ymax = area.bounds
    side = max(xmax - xmin, ymax - ymin, 200.0)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    width, height = xmax - xmin + 2 * MARGIN * side, ymax - ymin + 2 * MARGIN * side
    width, height = max(width, height / aspect), max(height, width * aspect)
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _draw(axes, area, hot_cells, problems, context, box, area_label: str = "Périmètre du GPO") -> list:
    """The layers, bottom to top; the legend's handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    view = shapely.box(*box)
    handles = []
    if context is not None and len(context):
        shown = context[context.intersects(view)]
        if len(shown):
            shown.plot(ax=axes, facecolor=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, linewidth=0.8, zorder=1)
            handles.append(Patch(facecolor=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, label="Secteurs voisins"))
    if hot_cells is not None and len(hot_cells):
        for gi_bin, (colour, label) in HOT_CLASSES.items():
            cells = hot_cells[hot_cells["gi_bin"] == gi_bin]
            if len(cells):
                cells.plot(ax=axes, color=colour, alpha=0.8, linewidth=0, zorder=2)
                handles.append(Patch(facecolor=colour, alpha=0.8, label=label))
    if area is not None and not area.is_empty:
        gpd.GeoSeries([area], crs=SRID).boundary.plot(ax=axes, color=AREA_COLOUR, linewidth=2.2, zorder=3)
        handles.append(Line2D([], [], color=AREA_COLOUR, linewidth=2.2, label=area_label))
    if problems is not None and len(problems):
        _problems(axes, problems)
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=11, markerfacecolor="white",
                              markeredgecolor=PROBLEM_COLOUR, label="Problème (n° de l'ordre du jour)"))
    return handles


def _overlays(axes, overlays: Sequence[Overlay]) -> list:
    """Each overlay over the outline (zorder 4 and up), its shapes labelled from its ``labels`` column; the legend's
    handles."""
    from matplotlib.patches import Patch

    handles = []
    for k, overlay in enumerate(overlays):
        if overlay.frame is None or not len(overlay.frame):
            continue
        style = {"linewidth": 1, **overlay.style}
        overlay.frame.plot(ax=axes, zorder=4 + k, **style)
        handles.append(Patch(facecolor=style.get("facecolor", style.get("color", "none")),
                             edgecolor=style.get("edgecolor", style.get("color", "none")),
                             alpha=style.get("alpha"), label=overlay.label))
        if overlay.labels:
            colour = style.get("edgecolor", AREA_COLOUR)
            for row in overlay.frame.itertuples():
                anchor = row.geometry.representative_point() if not row.geometry.is_empty else None
                if anchor is not None:
                    axes.annotate(str(getattr(row, overlay.labels)), (anchor.x, anchor.y), ha="center", va="center",
                                  fontsize=9, fontweight="bold", color=colour, zorder=8,
                                  bbox={"boxstyle": "circle,pad=0.3", "facecolor": "white", "edgecolor": colour,
                                        "linewidth": 1.5})
    return handles


def _problems(axes, problems: gpd.GeoDataFrame) -> None:
    """Each problem's geometry, and its rank in a white disc on a point of it (the best rank on top)."""
    kinds = problems.geom_type
    polygons = problems[kinds.isin(["Polygon", "MultiPolygon"])]
    lines = problems[kinds.isin(["LineString", "MultiLineString"])]
    if len(polygons):
        polygons.plot(ax=axes, facecolor=PROBLEM_COLOUR, alpha=0.15, edgecolor=PROBLEM_COLOUR, linewidth=1.5,
                      zorder=4)
    if len(lines):
        lines.plot(ax=axes, color=PROBLEM_COLOUR, linewidth=2.5, zorder=4)
    for row in problems.sort_values("rank", ascending=False).itertuples():
        anchor = row.geometry.representative_point() if not row.geometry.is_empty else None
        if anchor is None:
            continue
        axes.annotate(str(row.rank), (anchor.x, anchor.y), ha="center", va="center", fontsize=9, fontweight="bold",
                      color=PROBLEM_COLOUR, zorder=6,
                      bbox={"boxstyle": "circle,pad=0.3", "facecolor": "white", "edgecolor": PROBLEM_COLOUR,
                            "linewidth": 1.5})


def nice_length(metres: float) -> int:
    """The largest 1, 2 or 5 times a power of ten not above ``metres`` (at least 1): a scale bar's length."""
    power = 10 ** math.floor(math.log10(max(metres, 1)))
    return int(max(step * power for step in (1, 2, 5) if step * power <= max(metres, 1)))


def _scale_bar(axes, xmin, ymin, xmax, ymax) -> None:
    """A bar of a round length near a fifth of the view's width, in the bottom left corner, in metres or km."""
    length = nice_length((xmax - xmin) / 5)
    x0, y0 = xmin + 0.03 * (xmax - xmin), ymin + 0.05 * (ymax - ymin)
    thickness = 0.012 * (ymax - ymin)
    half = length / 2
    for k, colour in enumerate(("#111827", "white")):
        axes.add_patch(_rectangle((x0 + k * half, y0), half, thickness, colour))
    label = f"{number(length / 1000)} km" if length >= 1000 and length % 1000 == 0 else f"{number(length)} m"
    axes.text(x0 + length / 2, y0 + 1.8 * thickness, label, ha="center", va="bottom", fontsize=10, zorder=7,
              bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})


def _rectangle(xy, width, height, colour):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, facecolor=colour, edgecolor="#111827", linewidth=1, zorder=7)


def _north_arrow(axes) -> None:
    """An arrow and an N in the top right corner (Lambert-93's north is the map's up, to within a degree here)."""
    axes.annotate("N", xy=(0.965, 0.965), xytext=(0.965, 0.87), xycoords="axes fraction", ha="center", va="center",
                  fontsize=13, fontweight="bold", zorder=7,
                  arrowprops={"arrowstyle": "-|>", "color": "#111827", "linewidth": 2})


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, read from its header."""
    return struct.unpack(">II", png[16:24])


__all__ = ["ASPECT", "HOT_CLASSES", "Overlay", "area_map_png", "nice_length", "png_size"]
