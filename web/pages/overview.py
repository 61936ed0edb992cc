"""The overview of a CSP: its sectors coloured by occurrences per 1,000 inhabitants.

For admins and référents (every CSP) and for sector chiefs (the CSP of their sectors
only); a table gives each sector's rate and the trend of its 12 monthly counts. Never
for a mayor, so its period is given to the day (``?du=AAAA-MM-JJ&au=AAAA-MM-JJ``,
``geo.analysis.commune_figures.day_period``); the mayor's page takes whole months only.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from geo.analysis import commune_figures as stats
from geo.territory.lookup import communes_around, list_csps
from layers.choropleth import TREND_STYLE, legend, quantile_breaks, rate_layer, trend_layer
from layers.legend import Legend
from layers.territory import commune_layer
from web.access import current_scope, permission_required, require_csp
from web.db import get_db
from web.map_parts import page_map, render_map

bp = Blueprint("overview", __name__)

TREND_ARROWS = {"hausse": "▲", "baisse": "▼", "stable": "●"}


def _chosen_csp(csps: list[dict]) -> str:
    """The CSP of ``?csp=``, else the user's first one (a chief) or the first with sectors."""
    scope = current_scope()
    visible = [c["name"] for c in csps if scope.can_see_csp(c["name"])]
    wanted = request.args.get("csp") or next(
        (c["name"] for c in csps if c["name"] in visible and c["sectors"]), visible[0] if visible else None)
    if wanted is None:
        abort(404, description="Aucune circonscription n'est chargée.")
    if wanted not in {c["name"] for c in csps}:
        abort(404, description=f"Aucune CSP nommée « {wanted} ».")
    require_csp(wanted)
    return wanted


def _rate_map(shapes):
    engine = get_db()
    m = page_map(tuple(shapes.to_crs(4326).total_bounds))
    communes = communes_around(engine, shapes)
    if len(communes):
        commune_layer(communes).add_to(m)
    breaks = quantile_breaks([r for r in shapes.rate if r is not None])
    rate_layer(shapes, breaks).add_to(m)
    trends = trend_layer(shapes).add_to(m)
    Legend(trends, "Tendance des 12 derniers mois (Mann-Kendall, 5 %)",
           [TREND_STYLE[w] for w in ("hausse", "stable", "baisse")],
           position="bottomleft").add_to(m)  # bottom right holds the page's legend of rates
    return render_map(m), breaks


@bp.route("/vue-ensemble")
@permission_required("csp.view")
def overview_page():
    engine = get_db()
    first, last = stats.day_period(request.args.get("du"), request.args.get("au"))
    csps = list_csps(engine, last)
    csp = _chosen_csp(csps)
    scope = current_scope()
    rates, shapes = stats.sector_rates(engine, csp, first, last)
    map_parts, breaks = _rate_map(shapes) if len(shapes) else (None, ())
    return render_template(
        "overview.html", csp=csp, csps=[c for c in csps if scope.can_see_csp(c["name"])], first=first, last=last,
        rates=rates, arrows=TREND_ARROWS, legend=legend(breaks, "{:.1f}", " ‰") if breaks else [],
        map_parts=map_parts, total=sum(r.occurrences for r in rates), population=sum(r.population for r in rates))
