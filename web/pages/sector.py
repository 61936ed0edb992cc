"""The sector chief's page: ``GET /secteur/<csp>/<code>``.

A map of one sector (its limit, the communes as background, its problems, its
occurrences as 200 m cell counts loaded for the view, and the hotspot statistics
computed on the fly) with a side panel (figures by category, the list of problems).
The statistics are :func:`geo.analysis.sector_view.analyse`'s (Gi*, density, clusters,
emerging categories); they and the rendered map are computed once per view and kept in
PostgreSQL for every worker until the data change (``view_content``, geo.db.kept_views).
This module parses the request, checks access, builds the map and renders it.

The helpers that read the period, the category and the sector of a request are
shared with the JSON endpoints of web/api/maps.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import folium
import geopandas as gpd
from flask import Blueprint, abort, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from geo.analysis import sector_view
from geo.analysis.scopes import Sector, sector_on_day
from geo.analysis.sector_view import EMERGING_WEEKS, Analysis, ViewFilters
from geo.db.queries import named_query
from geo.db.unit_of_work import connection
from geo.formats import day as fr_day
from geo.patrol import zones as pz
from geo.problems.categories import categories, resolve
from geo.problems.status import LABELS as STATUS_LABELS
from geo.settings import DAYS_ACCEPTED, LOCAL_TZ, last_days
from geo.territory.lookup import communes_around
from layers.hotspot_layers import (
    EMERGING_STYLE,
    GI_BIN_STYLE,
    cluster_layer,
    density_layer,
    emerging_layer,
    gistar_layer,
)
from layers.legend import Legend
from layers.new_problem import new_problem_config, new_problem_marker
from layers.problem_layers import GridCounts, OccurrenceTiles, category_style, grid_legend_entries, problem_layer
from layers.style import DENSITY_SYMBOL, ZONE_SYMBOL, Symbol, emerging_symbol
from layers.territory import commune_layer, sector_layer
from layers.zone_layers import draw_control, zone_group
from web.access import allowed, current_scope, permission_required, require_sector
from web.db import get_db
from web.kept import kept_view
from web.map_parts import page_map, render_parts, with_request_nonce
from web.pages.zones import editor_config

bp = Blueprint("sector_pages", __name__)


class Filters(ViewFilters):
    """The period (local days, both included) and the category (code, or None for all) of a request's view."""

    def query(self) -> dict[str, str]:
        """The filters as query-string parameters (``du``, ``au``, ``categorie``)."""
        args = {"du": self.first.isoformat(), "au": self.last.isoformat()}
        if self.category:
            args["categorie"] = self.category
        return args


def _date_arg(args: MultiDict, key: str, default: dt.date) -> dt.date:
    text = (args.get(key) or "").strip()
    if not text:
        return default
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"La date « {text} » n'est pas une date valide (format attendu : AAAA-MM-JJ).")
    first, last = DAYS_ACCEPTED
    if not first <= day <= last:
        abort(400, description=f"La date du {fr_day(day)} est hors des années {first.year} à {last.year}.")
    return day


def read_filters(args: MultiDict, today: dt.date | None = None) -> Filters:
    """The filters of a request: ``du`` and ``au`` (default: the 365 days ending yesterday, as on every page),
    ``categorie``.

    Aborts with 400 and a French message on a malformed date, a period that ends
    before it starts, or an unknown category.
    """
    default_first, default_last = last_days(today=today)
    last = _date_arg(args, "au", default_last)
    first = _date_arg(args, "du", last - (default_last - default_first))
    if first > last:
        abort(400, description=f"La période commence le {first:%d/%m/%Y}, après sa fin le {last:%d/%m/%Y}.")
    text = (args.get("categorie") or "").strip()
    category = resolve(text) if text else None
    if text and category is None:
        abort(400, description=f"Catégorie inconnue : « {text} ».")
    return Filters(first, last, category)


def find_sector(csp: str, code: str, day: dt.date) -> Sector:
    """The version of a sector valid on ``day``, after checking that the user may see it (403, else 404)."""
    with connection(get_db()) as conn:
        csp_id = conn.execute(named_query("csp_id_by_name"), {"csp": csp}).scalar()
        # An unknown CSP is checked as an id no one has: a chief gets 403, not a hint.
        require_sector(csp_id if csp_id is not None else -1, code)
        sector = None if csp_id is None else sector_on_day(conn, day, csp_id=csp_id, code=code)
    if sector is None:
        abort(404, description=f"Le secteur {code} de la circonscription « {csp} » n'existait pas le {day:%d/%m/%Y}.")
    return sector


# -- statistics of the view: geo.analysis.sector_view, kept per view ------------------------


def recurring_summary(cells: gpd.GeoDataFrame | None) -> list[dict]:
    """The side panel's list of recurring issues: per category (if analysed apart) and trend, the cells.

    Hot trends first, in the order of the legend; each entry: ``category`` (or None),
    ``trend`` (French label), ``swatch`` (the CSS of its symbol), ``cells``.
    """
    if cells is None:
        return []
    shown = cells[cells.emerging_category.isin(EMERGING_STYLE)]
    if "category" not in shown:
        shown = shown.assign(category="")
    order = list(EMERGING_STYLE)
    rows = []
    for (category, trend), n in shown.groupby(["category", "emerging_category"]).size().items():
        symbol = emerging_symbol(trend)
        rows.append({"category": category or None, "trend": symbol.label, "swatch": symbol.swatch_css(),
                     "cells": int(n), "rank": order.index(trend)})
    return sorted(rows, key=lambda r: (r["rank"], r["category"] or ""))


# -- the map ---------------------------------------------------------------------------


def _problems(sector: Sector, filters: Filters) -> list[dict]:
    with connection(get_db()) as conn:
        rows = conn.execute(named_query("sector_problems"), {
            "sector_id": sector.id, "day": filters.last, "category": filters.category}).mappings().all()
    return [dict(r) for r in rows]


def _category_counts(sector: Sector, filters: Filters) -> list[dict]:
    """Occurrences of the period by category, every category listed (zeros included), in file order."""
    with connection(get_db()) as conn:
        found = dict(conn.execute(named_query("sector_category_counts"), {
            "sector_id": sector.id, "first": filters.first, "last": filters.last, "tz": LOCAL_TZ}).all())
    return [{"code": c.code, "label": c.label, "colour": c.colour, "count": found.get(c.code, 0)}
            for c in categories()]


def _add_problems(m: folium.Map, problems: list[dict]) -> None:
    # Their own pane above the overlays: cells loaded later must not cover them (popups).
    layer = problem_layer(problems, pane="psqProblems").add_to(m)
    styles = category_style()
    present = dict.fromkeys(p["category_code"] for p in problems)
    Legend(layer, "Problèmes (catégorie)", [styles.get(c, ("#555555", c)) for c in present] or
           [("#cbd5e1", "aucun problème")]).add_to(m)


def _add_grid(m: folium.Map, sector: Sector, filters: Filters) -> None:
    layer = folium.FeatureGroup(name="Faits (carreaux de 200 m)").add_to(m)
    url = url_for("api.sector_cells", csp=sector.csp_name, code=sector.code, **filters.query())
    GridCounts(layer, url).add_to(m)
    Legend(layer, "Faits par carreau de 200 m", grid_legend_entries()).add_to(m)


def _add_occurrence_tiles(m: folium.Map, sector: Sector, filters: Filters) -> None:
    """Each occurrence as a point, from the vector-tile endpoint, once zoomed in close (hidden at first)."""
    layer = folium.FeatureGroup(name="Faits un par un (zoom rapproché)", show=False).add_to(m)
    url = url_for("api.sector_tile", csp=sector.csp_name, code=sector.code, z=0, x=0, y=0, **filters.query())
    tiles = OccurrenceTiles(layer, url.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")).add_to(m)
    Legend(layer, "Faits un par un (catégorie)", [(colour, label) for colour, label in category_style().values()],
           note=f"Visibles à partir du zoom {tiles.min_zoom}.").add_to(m)


def problem_markers(filters: Filters) -> dict[str, Callable[[dict], str]]:
    """Per layer, the popup's "create a problem here" marker at a drawn cell or hull (layers.new_problem)."""
    codes = {c.label: c.code for c in categories()}

    def category(row: dict) -> str | None:
        return filters.category or row.get("category_code") or codes.get(row.get("category"))

    return {
        "gistar": lambda row: new_problem_marker(cell=(row["i"], row["j"]), category=category(row),
                                                 title="Point chaud"),
        "emerging": lambda row: new_problem_marker(cell=(row["i"], row["j"]), category=category(row),
                                                   title=EMERGING_STYLE[row["emerging_category"]][1]),
        "clusters": lambda row: new_problem_marker(hull=row["geometry"], category=category(row),
                                                   title="Agrégat de faits"),
    }


def problem_config(sector: Sector) -> dict:
    """The page's configuration of web/static/js/new_problem.js: the sector's endpoint and the categories."""
    return new_problem_config(url_for("problems.create_problem_page", csp=sector.csp_name, code=sector.code),
                              {c.code: c.label for c in categories()})


def _add_statistics(m: folium.Map, analysis: Analysis, forms: dict | None = None) -> None:
    forms = forms or {}
    if analysis.gistar is not None:
        layer = gistar_layer(analysis.gistar, form=forms.get("gistar"))
        layer.show = False
        layer.add_to(m)
        Legend(layer, "Points chauds (Gi*)", [GI_BIN_STYLE[b] for b in (3, 2, -2, -3)],
               note="Test exact, taux de fausses découvertes de 5 %.").add_to(m)
    if analysis.density is not None:
        layer = density_layer(analysis.density).add_to(m)
        Legend(layer, "Densité des faits (noyau quartique)", [DENSITY_SYMBOL]).add_to(m)
    if analysis.clusters is not None:
        layer = cluster_layer(analysis.clusters, form=forms.get("clusters")).add_to(m)
        Legend(layer, "Agrégats (DBSCAN)", _cluster_symbols(analysis.clusters), note=analysis.dbscan).add_to(m)
    if analysis.emerging is not None:
        # Above the cell counts, which are fetched (and so drawn) after the page's layers.
        layer = emerging_layer(analysis.emerging, EMERGING_WEEKS, pane="psqTrends", form=forms.get("emerging")).add_to(m)
        shown = dict.fromkeys(c for c in analysis.emerging.emerging_category if c in EMERGING_STYLE)
        Legend(layer, "Problèmes récurrents", [emerging_symbol(c) for c in shown] or
               [("#ffffff", "aucun problème récurrent significatif")],
               note=f"Classe lue dans le voisinage de chaque carreau, sur {EMERGING_WEEKS} semaines.").add_to(m)


def _cluster_symbols(clusters: gpd.GeoDataFrame) -> list[Symbol]:
    if "category" not in clusters:
        return [Symbol("#542788", "enveloppe d'un agrégat de faits", "outline", "4 3")]
    return [Symbol(colour, label, "outline", "4 3")
            for label, colour in dict(zip(clusters.category, clusters.colour)).items()] or [
        Symbol("#ffffff", "aucun agrégat")]


def sector_map(sector: Sector, problems: list[dict], analysis: Analysis, filters: Filters,
               zones: list[dict], editable: bool, creatable: bool = False) -> tuple[dict[str, str], dict | None]:
    """The Folium map of the page, rendered into the parts our template places (header, html, script).

    The patrol zones are a layer of their own; for a user who may edit them
    (``editable``) the map also has the drawing tools, and the second value is the
    configuration of web/static/js/zones.js (None otherwise). For a user who may create problems
    (``creatable``), the hot spot, recurring and cluster popups hold the "create a problem here" form.
    """
    engine = get_db()
    frame = sector.frame()
    m = page_map(tuple(frame.to_crs(4326).total_bounds))
    commune_layer(communes_around(engine, frame, margin_m=1500)).add_to(m)
    sector_layer(frame, name="Limite du secteur").add_to(m)
    _add_statistics(m, analysis, problem_markers(filters) if creatable else None)
    _add_grid(m, sector, filters)
    _add_occurrence_tiles(m, sector, filters)
    group = zone_group(zones).add_to(m)
    Legend(group, "Zones de patrouille", [ZONE_SYMBOL], position="bottomleft").add_to(m)
    editor = None
    if editable:
        draw_control(group).add_to(m)
        editor = editor_config(m, group, sector.csp_id, sector.code)
    _add_problems(m, problems)
    return render_parts(m), editor


def view_content(sector: Sector, filters: Filters, problems: list[dict], zones: list[dict], editable: bool,
                 creatable: bool = False) -> dict:
    """The statistics and the rendered map of the view, kept in PostgreSQL for every worker (geo.db.kept_views).

    Computing them (:func:`geo.analysis.sector_view.analyse`: Gi*, density, clusters,
    emerging; then the Folium map) costs a few hundred milliseconds, and many users
    open the same view of a sector: each view is computed once until the data change.
    The key holds what the content depends on besides the data: the filters, whether the
    user may edit zones and (added by :func:`web.kept.kept_view`) his scope. Content:
    ``map_parts`` (without the nonce), ``editor``, ``notes``, ``recurring``, ``steps`` (the
    complete weeks of the emerging analysis, in French), ``dbscan`` (its parameters, in French).
    """
    params = {"sector": sector.id, "filters": filters.query(), "editable": editable, "creatable": creatable}

    def compute() -> dict:
        analysis = sector_view.analyse(get_db(), sector, filters)  # Gi*, density, clusters, emerging
        map_parts, editor = sector_map(sector, problems, analysis, filters, zones, editable, creatable)
        return {"map_parts": map_parts, "editor": editor, "notes": analysis.notes,
                "recurring": recurring_summary(analysis.emerging), "steps": analysis.steps, "dbscan": analysis.dbscan}

    return kept_view("sector_map", params, compute, sector_id=sector.id)


@bp.route("/secteur/<csp>/<code>")
@permission_required("sector.view")
def sector_page(csp: str, code: str):
    """The page of one sector for the period and category of the query string."""
    filters = read_filters(request.args)
    sector = find_sector(csp, code, filters.last)
    problems = _problems(sector, filters)
    counts = _category_counts(sector, filters)
    engine = get_db()
    zones = pz.list_zones(engine, current_scope(), sector.csp_id, sector.code)
    editable = allowed("zone.edit", (sector.csp_id, sector.code))
    # Gi*, density, clusters, emerging: geo.analysis.sector_view.analyse, with the map kept by view_content.
    creatable = allowed("problem.create", (sector.csp_id, sector.code))
    view = view_content(sector, filters, problems, zones, editable, creatable)
    return render_template(
        "sector.html", sector=sector, filters=filters, problems=problems, counts=counts,
        total=sum(c["count"] for c in counts), notes=view["notes"], status_labels=STATUS_LABELS,
        styles=category_style(), categories=categories(), my_sectors=current_scope().sectors,
        zones=zones, editor=view["editor"], map_parts=with_request_nonce(view["map_parts"]),
        recurring=view["recurring"], steps=view["steps"], dbscan=view.get("dbscan", ""),
        zone_problems=pz.sector_problems(engine, sector.csp_id, sector.code) if editable else [],
        new_problem=problem_config(sector) if creatable else None)
