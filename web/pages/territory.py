"""Pages in French: the CSP map of sectors and communes."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request, url_for

from geo.settings import local_today
from geo.territory.lookup import communes_around, list_csps, sector_summaries, sectors_as_of
from layers.territory import commune_layer, sector_layer
from web.access import current_scope, permission_required, require_csp
from web.db import get_db
from web.map_parts import page_map, render_map

bp = Blueprint("pages", __name__)


def _day_from_request() -> dt.date:
    text = request.args.get("date")
    if not text:
        return local_today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"La date « {text} » n'est pas une date valide (format attendu : AAAA-MM-JJ).")


@bp.route("/")
@permission_required("territory.view")
def index():
    csps = list_csps(get_db())
    if not csps:
        return render_template("empty.html"), 200
    return redirect(url_for("pages.csp_map", name=csps[0]["name"]))


@bp.route("/csp/<name>")
@permission_required("territory.view")
def csp_map(name: str):
    scope = current_scope()
    # The CSP page shows territory only (sectors, communes, population): partners of
    # the GPO may see it too, while occurrence data stays behind the sector pages.
    if scope.role != "partenaire":
        require_csp(name)
    engine = get_db()
    day = _day_from_request()
    csps = [c for c in list_csps(engine, day) if scope.role == "partenaire" or scope.can_see_csp(c["name"])]
    if name not in {c["name"] for c in csps}:
        abort(404, description=f"Aucune CSP nommée « {name} ».")
    sectors = sectors_as_of(engine, day, csp=name)
    if sectors.empty:
        return render_template("csp.html", csp=name, csps=csps, day=day, summaries=[], map_parts=None)
    communes = communes_around(engine, sectors)
    m = page_map(tuple(sectors.to_crs(4326).total_bounds))
    commune_layer(communes).add_to(m)
    sector_layer(sectors).add_to(m)
    map_parts = render_map(m)
    summaries = sector_summaries(engine, name, day)
    openable = {s.code for s in summaries if scope.role in ("admin", "referent")
                or any(r.csp_name == name and r.code == s.code for r in scope.sectors)}
    return render_template("csp.html", csp=name, csps=csps, day=day, summaries=summaries, map_parts=map_parts,
                           openable=openable)


