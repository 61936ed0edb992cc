"""``POST /secteur/<csp>/<code>/problemes``: create a problem from a popup of the sector map.

The form (layers/new_problem.py) gives the place as a cell (``cellule=i,j``) or a hull
(``enveloppe``, GeoJSON in lon/lat), a category and a title. The user lands on his
sector's GPO, where the problem now stands on the agenda (or on the sector page when the
sector has no GPO).
"""

from __future__ import annotations

import json

import shapely
import shapely.geometry
from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from pyproj import Transformer
from shapely.ops import transform

from geo.gpo.groups import list_gpos
from geo.gpo.new_problem import NewProblemError, cell_place, create_problem
from geo.settings import SRID, local_today
from web.access import current_scope, permission_required, require
from web.db import get_db
from web.pages.sector import find_sector

bp = Blueprint("problems", __name__)

#: A hull of more vertices than this is not one of ours (DBSCAN hulls have tens).
MAX_VERTICES = 5000


def _place() -> shapely.Geometry:
    cell = (request.form.get("cellule") or "").strip()
    if cell:
        try:
            i, j = (int(v) for v in cell.split(","))
        except ValueError:
            raise NewProblemError(f"« cellule » : {cell[:40]} n'est pas un carreau (i,j).") from None
        return cell_place(i, j)
    try:
        hull = shapely.geometry.shape(json.loads(request.form.get("enveloppe") or ""))
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
        raise NewProblemError("« enveloppe » : ce n'est pas une géométrie GeoJSON.") from None
    if shapely.get_num_coordinates(hull) > MAX_VERTICES:
        raise NewProblemError(f"« enveloppe » : plus de {MAX_VERTICES} sommets.")
    to_l93 = Transformer.from_crs(4326, SRID, always_xy=True)
    return transform(to_l93.transform, hull)


@bp.route("/secteur/<csp>/<code>/problemes", methods=["POST"])
@permission_required("problem.create")
def create_problem_page(csp: str, code: str):
    sector = find_sector(csp, code, local_today())
    require("problem.create", (sector.csp_id, sector.code), sector.code)
    problem_id = create_problem(get_db(), sector, category=(request.form.get("categorie") or "").strip(),
                                title=request.form.get("titre") or "", place=_place(), author=current_user.label)
    gpos = [g for g in list_gpos(get_db(), current_scope()) if sector.code in g.sector_codes
            and g.csp_id == sector.csp_id]
    if gpos:
        return redirect(url_for("gpo.gpo_page", gpo_id=gpos[0].id, nouveau=problem_id) + "#ordre-du-jour", code=303)
    return redirect(url_for("sector_pages.sector_page", csp=csp, code=code, nouveau=problem_id), code=303)


__all__ = ["bp"]
