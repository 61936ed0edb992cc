"""The mayor's page of his commune, and its GeoJSON of aggregated grid cells.

A mayor sees his own commune only (``require_commune``: 403 for any other) and only
aggregated figures, the GPO's problems without description. Admins, référents and the
chiefs whose sectors cover the commune see the same page.

Every figure is a sum of published monthly atoms (``geo.analysis.disclosure``): a 200 m cell over
a period is the sum of its months of at least 3 occurrences that the complementary
suppression leaves; a monthly bar (per category, or the whole commune) is its month's
published count or drawn "masqué" (never 0, never a number); totals are sums of shown
figures; trend words come from the published months only. So the difference of two
periods, or any other combination of figures, never isolates fewer than 3 occurrences.

Periods are whole calendar months only (the atoms are months). Both
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
``geo.analysis.commune_figures.month_period``. The overview's day-level periods
(``geo.analysis.commune_figures.day_period``) are never used here.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, jsonify, render_template, request
from markupsafe import Markup, escape

from geo.analysis import commune_figures as stats
from geo.analysis import disclosure
from layers.choropleth import COUNT_BREAKS, cell_layer, legend
from layers.territory import commune_layer
from web.access import permission_required, require_commune
from web.db import get_db
from web.kept import kept_view
from web.map_parts import page_map, render_parts, with_request_nonce

bp = Blueprint("mayor", __name__)

#: What a cell's count is, in one French sentence (the JSON's ``regle``; the page says it at more length).
RULE_SENTENCE = ("Un carreau n'apparaît que pour les mois où il compte au moins 3 faits ; le chiffre d'une période "
                 "est la somme de ces mois publiés.")


def month_period_from_request() -> tuple[dt.date, dt.date]:
    """The whole-month period of ``?du=AAAA-MM&au=AAAA-MM`` (first day, last day); ``PeriodError`` if refused."""
    return stats.month_period(request.args.get("du"), request.args.get("au"))


MASKED_FILL = "#e2e8f0"
MASKED_TITLE = "masqué (moins de 3 faits, ou secret)"


def sparkline_svg(trend: stats.CategoryTrend, width: int = 180, height: int = 40) -> Markup:
    """An inline SVG bar chart of the published monthly counts, one bar per month (hover: month and count).

    A masked month (``None``) is a pale full-height bar titled "masqué", never a number
    nor an empty bar. Each bar carries ``data-month`` and ``data-count`` or ``data-masked``.
    """
    top = max([c for c in trend.counts if c is not None] + [1])
    step = width / len(trend.counts)
    bars = []
    for index, (month, count) in enumerate(zip(trend.months, trend.counts)):
        x = f'x="{index * step + 1:.1f}" width="{step - 2:.1f}" data-month="{month:%Y-%m}"'
        if count is None:
            bars.append(f'<rect {x} y="0" height="{height}" fill="{MASKED_FILL}" class="masked" data-masked="1">'
                        f'<title>{stats.month_label(month)} : {MASKED_TITLE}</title></rect>')
            continue
        h = max(round((height - 2) * count / top, 1), 1)
        bars.append(f'<rect {x} y="{height - h:.1f}" height="{h}" fill="{escape(trend.colour)}" '
                    f'data-count="{count}"><title>{stats.month_label(month)} : {count}</title></rect>')
    return Markup(f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img" aria-label="{escape(trend.label)} : faits par mois">'
                  f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#94a3b8"/>'
                  + "".join(bars) + "</svg>")


def _commune_or_404(insee: str):
    outline = stats.commune_outline(get_db(), insee)
    if outline.empty:
        abort(404, description=f"Aucune commune de code INSEE {insee} n'est chargée.")
    return outline


@bp.route("/commune/<insee>")
@permission_required("commune.view")
def commune_page(insee: str):
    require_commune(insee)
    outline = _commune_or_404(insee)
    first, last = month_period_from_request()
    page = commune_content(insee, outline, first, last)
    return render_template("commune.html", commune=page["commune"], main=Markup(page["main"]),
                           map_parts=with_request_nonce(page["map_parts"]))


def commune_content(insee: str, outline, first: dt.date, last: dt.date) -> dict:
    """The page's figures, charts and map for the period, rendered once per view and kept (web.kept).

    The same period asked again gets the same figures, computed once until the data
    change; the key holds the commune, the period and the last finished month (what the
    form offers), and the user's scope. Content: ``commune``, ``main`` (the HTML of the
    panel and map) and ``map_parts`` (without the nonce).
    """
    latest_month = stats.default_period()[1]

    def compute() -> dict:
        engine = get_db()
        figures = stats.period_figures(engine, insee, first, last)
        cells = figures.cells
        m = page_map(tuple(outline.to_crs(4326).total_bounds))
        commune_layer(outline, name="Limites de la commune").add_to(m)
        cell_layer(stats.cells_geojson(cells)).add_to(m)
        map_parts = render_parts(m)
        everything, trends = stats.monthly_charts(engine, insee, last)
        commune = {"insee": insee, "name": outline["name"].iloc[0]}
        main = render_template(
            "commune_main.html", commune=commune, first=first, last=last, cells=cells,
            latest_month=latest_month, max_months=stats.MAX_PERIOD_MONTHS, figures=figures,
            total_shown=figures.cells_total, legend=legend(COUNT_BREAKS), k=stats.MIN_CELL_COUNT,
            everything=(everything, sparkline_svg(everything)), trends=[(t, sparkline_svg(t)) for t in trends],
            months=everything.months, min_published=disclosure.MIN_PUBLISHED_MONTHS, month_label=stats.month_label,
            problems=stats.commune_problems(engine, insee), map_parts=map_parts)
        return {"commune": commune, "main": main, "map_parts": map_parts}

    params = {"commune": insee, "first": first.isoformat(), "last": last.isoformat(),
              "latest_month": latest_month.isoformat()}
    return kept_view("commune_page", params, compute, commune=insee)


@bp.route("/api/communes/<insee>/cellules")
@permission_required("commune.view")
def commune_cells(insee: str):
    """GeoJSON (EPSG:4326) of the commune's 200 m cells over the whole-month period: sums of published cell-months.

    ``properties.du`` and ``properties.au`` are the first and last day of the period.
    """
    require_commune(insee)
    if stats.commune_outline(get_db(), insee).empty:
        return jsonify(error=f"Aucune commune de code INSEE {insee} n'est chargée."), 404
    first, last = month_period_from_request()
    properties = {"commune": insee, "du": first.isoformat(), "au": last.isoformat(),
                  "taille_carreau_m": stats.CELL_SIZE_M, "seuil": stats.MIN_CELL_COUNT, "regle": RULE_SENTENCE}

    def compute() -> dict:
        return {**stats.cells_geojson(stats.cell_counts(get_db(), insee, first, last)), "properties": properties}

    return jsonify(kept_view("commune_cells", properties, compute, commune=insee))
