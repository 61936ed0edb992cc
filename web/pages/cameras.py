"""The cameras a user may see (issue 16 item 6): a mayor his town's, a chief those of his sectors.

- ``GET /cameras`` (``?commune=INSEE``: one town's only): the cameras' wedges on a map (existing ones solid
  blue, proposed ones dashed orange), framed on the cameras, else on the user's communes or the territory;
  beside it a table of the cameras (identifier, commune, owner, status, bearing, field of view, range).
  Admin and référent see every camera. The rows are clipped to the scope in SQL
  (geo.referents.cameras.list_cameras) and by the row-level security of the request's connection.

A route parses its fields (a malformed one: 400 and one French sentence naming it), asks the access policy,
calls geo.referents, renders.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request

from geo.errors import PsqError
from geo.referents.cameras import list_cameras
from geo.referents.conventions import commune_shapes, scope_communes
from geo.referents.referents import known_communes
from geo.settings import SRID
from layers.camera_layers import WEDGE_STYLE, camera_wedges_layer
from layers.legend import Legend
from layers.style import Symbol
from layers.territory import commune_layer
from web.access import allowed, current_scope, permission_required
from web.db import get_db
from web.map_parts import page_map, render_map

bp = Blueprint("cameras", __name__)

#: An INSEE code: five digits, or Corsica's 2A/2B and three digits.
INSEE = re.compile(r"\d{5}|2[AB]\d{3}")
#: Metres of margin around the cameras' wedges when the map is framed on them.
MARGIN_M = 150


class FormError(PsqError):
    """A query field malformed (400, one French sentence naming the field)."""


def _commune_arg() -> str | None:
    """The ``commune`` of the query string (None when absent or empty), or FormError."""
    text = (request.args.get("commune") or "").strip()
    if not text:
        return None
    if not INSEE.fullmatch(text):
        raise FormError(f"« commune » : « {text[:20]} » n'est pas un code INSEE (5 chiffres, ou 2A ou 2B "
                        "suivi de 3 chiffres).")
    return text


def _area(db, scope, commune: str | None, cameras) -> list[str]:
    """The INSEE codes drawn as the map's background: the commune asked, else the user's communes (admin,
    référent: those of the cameras, or the whole territory when there is none)."""
    if commune is not None:
        return [commune]
    area = scope_communes(db, scope)
    if area is None:
        area = sorted({c.commune_insee for c in cameras if c.commune_insee}) or sorted(known_communes(db))
    return area


def _bounds(cameras, shapes) -> tuple[float, float, float, float] | None:
    """Lon/lat bounds of the cameras' wedges with a margin, else of the background communes; None for neither."""
    import geopandas as gpd
    import shapely

    if cameras:
        box = shapely.box(*gpd.GeoSeries([c.wedge() for c in cameras], crs=SRID).total_bounds).buffer(MARGIN_M)
        return tuple(gpd.GeoSeries([box], crs=SRID).to_crs(4326).total_bounds)
    if shapes.empty:
        return None
    return tuple(shapes.to_crs(4326).total_bounds)


def camera_map(cameras, background) -> dict[str, str] | None:
    """The page's map: the background communes' limits and the cameras' wedges, with their legend."""
    bounds = _bounds(cameras, background)
    if bounds is None:
        return None
    m = page_map(bounds)
    if not background.empty:
        commune_layer(background, name="Limites des communes").add_to(m)
    layer = camera_wedges_layer(cameras)
    layer.add_to(m)
    Legend(layer, "Caméras", [Symbol(WEDGE_STYLE["existing"]["color"], "Existante (champ de vision)"),
                              Symbol(WEDGE_STYLE["proposed"]["color"], "Proposée", "outline", dash="6 4")]).add_to(m)
    return render_map(m)


@bp.route("/cameras")
@permission_required("cameras.view")
def cameras_page():
    commune = _commune_arg()
    if commune is not None and not allowed("cameras.view", commune):
        abort(403, description=f"Vous n'avez pas accès aux caméras de la commune {commune}.")
    scope, db = current_scope(), get_db()
    cameras = list_cameras(db, scope, commune)
    area = _area(db, scope, commune, cameras)
    shapes = commune_shapes(db, sorted(set(area) | {c.commune_insee for c in cameras if c.commune_insee}))
    if commune is not None and shapes.empty:
        abort(404, description=f"Aucune commune n'a le code INSEE {commune}.")
    names = dict(zip(shapes.insee, shapes.name))
    background = shapes[shapes.insee.isin(area)]
    return render_template("cameras.html", cameras=cameras, names=names, commune=commune,
                           commune_name=names.get(commune), proposed=sum(c.status == "proposed" for c in cameras),
                           map_parts=camera_map(cameras, background))
