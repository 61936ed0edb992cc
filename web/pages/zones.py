"""Patrol zones: the chief's drawing page, the JSON API behind it, the GeoJSON export, the briefing page.

Pages and endpoints (admin, and the chef_secteur of the sector):

- ``GET /secteur/<csp>/<code>/zones`` (``<csp>``: the CSP's name): map with Leaflet.draw, form, zones and suggestions;
- ``POST /api/zones`` (create), ``POST /api/zones/<id>`` (edit), ``POST /api/zones/<id>/supprimer``:
  JSON in, JSON out (the stored zone, or ``{"error": "<French sentence>"}`` with 400/403/404);
- ``GET /api/secteurs/<csp>/<code>/zones.geojson``: the live zones, EPSG:4326;
- ``GET /zones/<id>/briefing``: a printable page for the patrol briefing.

The checks are in :mod:`geo.patrol.zones`; this module only maps them to HTTP.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user
from shapely import geometry as sgeom

from geo.db.unit_of_work import connection
from geo.patrol import zones as pz
from geo.territory.lookup import communes_around, sectors_as_of
from layers.legend import Legend
from layers.style import ZONE_SYMBOL, suggestion_symbol
from layers.territory import commune_layer, sector_layer
from layers.zone_layers import draw_control, suggestion_group, zone_group, zone_outline
from web.access import current_scope, permission_required, require_sector
from web.bounds import json_object
from web.db import get_db
from web.map_parts import page_map, render_map

bp = Blueprint("zones", __name__)

DEFAULT_DAYS = 365


def _period() -> pz.Period:
    try:
        days = int(request.args.get("jours", DEFAULT_DAYS))
    except ValueError:
        days = DEFAULT_DAYS
    return pz.Period.last_days(min(max(days, 7), 730))


def _actor() -> pz.Actor:
    return pz.Actor(current_scope(), current_user.account.id, request.remote_addr)


def _csp_name(csp_id: int) -> str:
    with connection(get_db()) as conn:
        name = conn.execute(sa.text("SELECT name FROM csp WHERE id = :id"), {"id": csp_id}).scalar()
    if name is None:
        abort(404, description=f"Aucune circonscription n° {csp_id}.")
    return name


def _csp_id(name: str) -> int:
    """The id of a CSP named in a URL (``CSP%20Belfort``, as on the sector pages); 404 if unknown."""
    with connection(get_db()) as conn:
        found = conn.execute(sa.text("SELECT id FROM csp WHERE name = :name"), {"name": name}).scalar()
    if found is None:
        abort(404, description=f"Aucune CSP nommée « {name} ».")
    return found


def _zones_map(csp: str, csp_id: int, code: str, zones: list[dict], suggestions: list[dict]):
    """The sector map: the user's sectors of the CSP, zones editable, suggestions, drawing control."""
    scope = current_scope()
    sectors = sectors_as_of(get_db(), None, csp=csp)
    mine = sectors[sectors.code == code]
    visible = sectors[[scope.can_see_sector(csp_id, c) for c in sectors.code]]
    m = page_map(tuple(mine.to_crs(4326).total_bounds))
    commune_layer(communes_around(get_db(), mine)).add_to(m)
    sector_layer(visible, name="Vos secteurs").add_to(m)
    offered = suggestion_group(suggestions).add_to(m)
    if suggestions:
        Legend(offered, "Zones suggérées", [suggestion_symbol(s["n"], f"Suggestion {s['n']}") for s in suggestions],
               note="Numérotées comme la liste.").add_to(m)
    editable = zone_group(zones).add_to(m)
    Legend(editable, "Zones de patrouille", [ZONE_SYMBOL], position="bottomleft").add_to(m)
    draw_control(editable).add_to(m)
    return m, editable


@bp.route("/secteur/<csp>/<code>/zones")
@permission_required("zone.edit")
def zones_page(csp: str, code: str):
    csp_id = _csp_id(csp)
    require_sector(csp_id, code, "zone.edit")
    engine = get_db()
    if pz.sector_geometry(engine, csp_id, code) is None:
        abort(404, description=f"Le secteur {code} n'est pas en vigueur aujourd'hui.")
    period = _period()
    scope = current_scope()
    zones = pz.list_zones(engine, scope, csp_id, code)
    hot = pz.sector_hot_cells(engine, csp_id, code, period)
    contents = {z["id"]: pz.zone_contents(engine, scope, z, period, hot) for z in zones}
    suggestions = pz.suggest_zones(engine, csp_id, code, period, hot)
    m, editable = _zones_map(csp, csp_id, code, zones, suggestions)
    return render_template(
        "zones.html", csp=csp, csp_id=csp_id, code=code, zones=zones, contents=contents, period=period,
        suggestions=suggestions, swatches={s["n"]: suggestion_symbol(s["n"]).swatch_css() for s in suggestions},
        zone_problems=pz.sector_problems(engine, csp_id, code),
        map_parts=render_map(m, "collapsed"), config=editor_config(m, editable, csp_id, code, suggestions))


def editor_config(m: folium.Map, editable: folium.FeatureGroup, csp_id: int, code: str,
                  suggestions: list[dict] = ()) -> dict:
    """What web/static/js/zones.js needs: the map and layer names in the page, the sector, the API URLs."""
    return {"map": m.get_name(), "group": editable.get_name(), "csp_id": csp_id, "sector_code": code,
            "create_url": url_for("zones.api_create"), "zone_url": url_for("zones.api_update", zone_id=0),
            "delete_url": url_for("zones.api_delete", zone_id=0),
            "suggestions": [{"n": s["n"], "label": s["label"], "category": s.get("category"), "geometry": s["geometry"]}
                            for s in suggestions]}


@bp.route("/api/zones", methods=["POST"])
@permission_required("zone.edit")
def api_create():
    data = json_object()
    try:
        csp_id, code = int(data.get("csp_id")), str(data.get("sector_code") or "")
    except (TypeError, ValueError):
        return jsonify(error="Indiquez la circonscription et le secteur de la zone."), 400
    return jsonify(pz.create_zone(get_db(), _actor(), csp_id, code, data)), 201


@bp.route("/api/zones/<int:zone_id>", methods=["POST"])
@permission_required("zone.edit")
def api_update(zone_id: int):
    data = json_object()
    return jsonify(pz.update_zone(get_db(), _actor(), zone_id, data)), 200


@bp.route("/api/zones/<int:zone_id>/supprimer", methods=["POST"])
@permission_required("zone.edit")
def api_delete(zone_id: int):
    return jsonify(pz.delete_zone(get_db(), _actor(), zone_id)), 200


@bp.route("/api/secteurs/<csp>/<code>/zones.geojson")
@permission_required("zone.edit")
def api_export(csp: str, code: str):
    csp_id = _csp_id(csp)
    require_sector(csp_id, code, "zone.edit")
    response = jsonify(pz.export_zones(get_db(), _actor(), csp_id, code))
    response.headers["Content-Disposition"] = f'attachment; filename="zones-{code}.geojson"'
    response.mimetype = "application/geo+json"
    return response


@bp.route("/zones/<int:zone_id>/briefing")
@permission_required("zone.edit")
def briefing(zone_id: int):
    engine = get_db()
    scope = current_scope()
    zone = pz.get_zone(engine, scope, zone_id)  # another sector's zone: not found (404), like an unknown one
    require_sector(zone["csp_id"], zone["sector_code"], "zone.edit")
    period = _period()
    problems = [p for p in pz.sector_problems(engine, zone["csp_id"], zone["sector_code"])
                if p["id"] in zone["problem_ids"]]
    return render_template("zone_briefing.html", zone=zone, csp=_csp_name(zone["csp_id"]), period=period,
                           contents=pz.zone_contents(engine, scope, zone, period), problems=problems,
                           map_parts=render_map(_briefing_map(zone), None))


def _briefing_map(zone: dict) -> folium.Map:
    """The zone in its surroundings: about 500 m around it, over the base map and the commune limits."""
    shape = gpd.GeoDataFrame(geometry=[sgeom.shape(zone["geometry"])], crs=4326)
    lon0, lat0, lon1, lat1 = shape.total_bounds
    pad = 0.006  # about 500 m around the zone: the streets and the commune names of its surroundings
    m = page_map((lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad))
    commune_layer(communes_around(get_db(), shape, margin_m=2000)).add_to(m)
    zone_outline(zone).add_to(m)
    return m
