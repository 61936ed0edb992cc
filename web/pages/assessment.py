"""``/gpo/<id>/evaluation``: assess an action of a GPO (the "évaluation" step), and keep the assessment.

``GET`` with ``zone=problem:ID`` or ``zone=zone:ID`` (a problem's place or a patrol zone of the
GPO's sectors), ``date`` (the action's date), ``jours`` (90), ``couronne`` (200 m) and
``categorie`` (default: the problem's or zone's own) shows the three areas on a map, the
counts before and after in a small chart, GE, NE, WDQ and TNE and their reading
(geo.gpo.assessment). ``POST`` with the same fields stores it (it then stands on the GPO page
and in the meeting file).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from geo.gpo.areas import assessable_area, assessable_areas
from geo.gpo.assessment import assess, save_assessment, to_json
from geo.gpo.groups import get_gpo
from geo.problems.categories import categories, resolve
from geo.settings import local_today
from layers.assessment_layers import AREA_COLOURS, assessment_layer
from web.access import current_scope, permission_required, require
from web.db import get_db
from web.map_parts import page_map, render_map

bp = Blueprint("assessment", __name__)

DEFAULT_DAYS, DEFAULT_RING_M = 90, 200


def _params(args) -> dict:
    """The request's fields, checked: 400 with one French sentence for a malformed one."""
    kind, _, ident = (args.get("zone") or "").partition(":")
    if kind not in ("problem", "zone") or not ident.isdigit() or int(ident) >= 2**31:  # ids are integer (int4)
        abort(400, description="« zone » : choisissez un problème ou une zone de patrouille du GPO.")
    try:
        day = dt.date.fromisoformat((args.get("date") or "").strip())
    except ValueError:
        abort(400, description=f"« date » : {args.get('date') or 'vide'} n'est pas une date (AAAA-MM-JJ).")
    numbers = {}
    for field, default in (("jours", DEFAULT_DAYS), ("couronne", DEFAULT_RING_M)):
        text = (args.get(field) or str(default)).strip()
        try:
            numbers[field] = int(text)
        except ValueError:
            abort(400, description=f"« {field} » : {text} n'est pas un nombre entier.")
    category_text = (args.get("categorie") or "").strip()
    category = resolve(category_text) if category_text else None
    if category_text and category is None:
        abort(400, description=f"Catégorie inconnue : « {category_text} ».")
    return {"kind": kind, "id": int(ident), "date": day, "days": numbers["jours"], "ring": numbers["couronne"],
            "category": category}


def _gpo(gpo_id: int):
    require("gpo.run", gpo_id)
    gpo = get_gpo(get_db(), current_scope(), gpo_id)
    if gpo is None:
        abort(404, description=f"Aucun GPO n° {gpo_id}.")
    return gpo


def _assessed(gpo, params: dict):
    area = assessable_area(get_db(), gpo, params["kind"], params["id"])
    category = params["category"] or area.category_code
    result = assess(get_db(), area.geometry, params["date"], days=params["days"], buffer_m=params["ring"],
                    category=category)
    return area, category, result


@bp.route("/gpo/<int:gpo_id>/evaluation")
@permission_required("gpo.run")
def assessment_page(gpo_id: int):
    gpo = _gpo(gpo_id)
    context = {"gpo": gpo, "areas": assessable_areas(get_db(), gpo), "categories": categories(), "args": request.args,
               "today": local_today(), "days": DEFAULT_DAYS, "ring": DEFAULT_RING_M, "colours": AREA_COLOURS,
               "result": None}
    if request.args.get("zone"):
        params = _params(request.args)
        area, category, result = _assessed(gpo, params)
        m = page_map(tuple(_bounds(result)))
        assessment_layer(result.area, result.ring, result.control).add_to(m)
        context.update(area=area, category=category, result=result, figures=to_json(result), params=params,
                       map_parts=render_map(m, None))
    return render_template("assessment.html", **context)


@bp.route("/gpo/<int:gpo_id>/evaluation", methods=["POST"])
@permission_required("gpo.run")
def save_assessment_page(gpo_id: int):
    gpo = _gpo(gpo_id)
    params = _params(request.form)
    area, _, result = _assessed(gpo, params)
    save_assessment(get_db(), result, gpo_id=gpo_id, label=area.label, user_id=current_user.account.id,
                    **({"problem_id": area.id} if area.kind == "problem" else {"zone_id": area.id}))
    return redirect(url_for("gpo.gpo_page", gpo_id=gpo_id) + "#evaluations", code=303)


def _bounds(result) -> tuple[float, float, float, float]:
    import geopandas as gpd

    shapes = [g for g in (result.control, result.ring, result.area) if g is not None and not g.is_empty]
    return tuple(gpd.GeoSeries(shapes[:1], crs=2154).to_crs(4326).total_bounds)


__all__ = ["bp"]
