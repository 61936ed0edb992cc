"""The mayor's page of his commune, and its GeoJSON of aggregated grid cells.

A mayor sees his own commune only (``require_commune``: 403 for any other) and only
aggregated figures: 200 m cells with at least 3 occurrences, monthly counts per
category, the GPO's problems without description. Admins, référents and the chiefs
whose sectors cover the commune see the same page.

Periods are whole calendar months only: with days, two periods one day apart could be
subtracted to isolate single occurrences of a cell despite the k = 3 threshold (a
differencing attack); with months, two periods always differ by whole months. Both
``/commune/<insee>`` and ``/api/communes/<insee>/cellules`` read:

- ``?du=AAAA-MM&au=AAAA-MM``: first and last month, both included;
- a full date is accepted only on a month boundary: ``du`` the 1st of a month,
  ``au`` the last day of a month (``du=2026-01-01&au=2026-06-30`` is January to June);
  any other day is refused, never rounded;
- at most 24 months, ending at the latest with the last finished month (the
  current, incomplete month is refused);
- default: the last 12 full months (``au`` alone: the 12 months ending with it).

A refused period gets one French sentence naming the fault: a 400 page, or
``{"error": ...}`` with 400 for the JSON. The rule itself is
``geo.commune_stats.month_period``. The overview's day-level periods
(``geo.commune_stats.day_period``) are never used here.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from markupsafe import Markup, escape

from geo import commune_stats as stats
from geo.commune_stats import PeriodError
from layers.base_map import base_map
from layers.choropleth import COUNT_BREAKS, cell_layer, legend
from layers.territory import commune_layer
from web.access import require_commune
from web.db import get_engine
from web.map_parts import render_map

bp = Blueprint("mayor", __name__)


def month_period_from_request() -> tuple[dt.date, dt.date]:
    """The whole-month period of ``?du=AAAA-MM&au=AAAA-MM`` (first day, last day); ``PeriodError`` if refused."""
    return stats.month_period(request.args.get("du"), request.args.get("au"))


def sparkline_svg(trend: stats.CategoryTrend, width: int = 180, height: int = 40) -> Markup:
    """An inline SVG bar chart of the monthly counts, one bar per month (hover: month and count)."""
    top = max(max(trend.counts), 1)
    step = width / len(trend.counts)
    bars = []
    for index, (month, count) in enumerate(zip(trend.months, trend.counts)):
        h = max(round((height - 2) * count / top, 1), 1 if count else 0)
        bars.append(f'<rect x="{index * step + 1:.1f}" y="{height - h:.1f}" width="{step - 2:.1f}" height="{h}" '
                    f'fill="{escape(trend.colour)}"><title>{stats.month_label(month)} : {count}</title></rect>')
    return Markup(f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img" aria-label="{escape(trend.label)} : faits par mois">'
                  f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#94a3b8"/>'
                  + "".join(bars) + "</svg>")


def _commune_or_404(insee: str):
    outline = stats.commune_outline(get_engine(), insee)
    if outline.empty:
        abort(404, description=f"Aucune commune de code INSEE {insee} n'est chargée.")
    return outline


@bp.route("/commune/<insee>")
def commune_page(insee: str):
    require_commune(insee)
    outline = _commune_or_404(insee)
    try:
        first, last = month_period_from_request()
    except PeriodError as error:
        abort(400, description=str(error))
    engine = get_engine()
    cells = stats.cell_counts(engine, insee, first, last)
    m = base_map(tuple(outline.to_crs(4326).total_bounds), current_app.config["BASE_TILES_URL"],
                 current_app.config["BASE_TILES_ATTRIBUTION"])
    commune_layer(outline, name="Limites de la commune").add_to(m)
    cell_layer(stats.cells_geojson(cells)).add_to(m)
    trends = stats.category_trends(engine, insee, last)
    return render_template(
        "commune.html", commune={"insee": insee, "name": outline["name"].iloc[0]}, first=first, last=last, cells=cells,
        latest_month=stats.default_period()[1], max_months=stats.MAX_PERIOD_MONTHS,
        total_shown=sum(c.count for c in cells), legend=legend(COUNT_BREAKS), k=stats.MIN_CELL_COUNT,
        trends=[(t, sparkline_svg(t)) for t in trends], months=trends[0].months if trends else (),
        month_label=stats.month_label, problems=stats.commune_problems(engine, insee), map_parts=render_map(m))


@bp.route("/api/communes/<insee>/cellules")
def commune_cells(insee: str):
    """GeoJSON (EPSG:4326) of the commune's 200 m cells with at least 3 occurrences in the whole-month period.

    ``properties.du`` and ``properties.au`` are the first and last day of the period.
    """
    require_commune(insee)
    if stats.commune_outline(get_engine(), insee).empty:
        return jsonify(error=f"Aucune commune de code INSEE {insee} n'est chargée."), 404
    try:
        first, last = month_period_from_request()
    except PeriodError as error:
        return jsonify(error=str(error)), 400
    collection = stats.cells_geojson(stats.cell_counts(get_engine(), insee, first, last))
    collection["properties"] = {"commune": insee, "du": first.isoformat(), "au": last.isoformat(),
                                "taille_carreau_m": stats.CELL_SIZE_M, "seuil": stats.MIN_CELL_COUNT}
    return jsonify(collection)
