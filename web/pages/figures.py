"""The figures of the GPOs, as the ministry publishes them (issue 15 item 5).

``GET /gpo/chiffres?du=AAAA-MM-JJ&au=AAAA-MM-JJ`` (default: the calendar year to date): per CSP a table of
its sectors (meetings held, problems raised, resolved, open) and the CSP's total, then the grand total of
everything the user sees and its breakdown by category (geo.gpo.figures). A period written wrongly, or
longer than five years, is refused with 400 and one French sentence.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from geo.gpo.figures import figures, parse_period
from web.access import current_scope, permission_required
from web.db import get_db

bp = Blueprint("figures", __name__)


@bp.route("/gpo/chiffres")
@permission_required("figures.view")
def figures_page():
    first, last = parse_period(request.args.get("du"), request.args.get("au"))
    return render_template("figures.html", figures=figures(get_db(), current_scope(), first, last))
