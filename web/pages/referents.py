"""The référents' coverage map, the conventions and security contracts (issue 16 items 1 and 4).

- ``GET /referents``: the communes coloured by their référent sûreté (those nobody covers in red), each
  référent's base, and beside the map a table of every référent's load (communes, inhabitants, open audit
  requests, distances from his base to the town halls) and the list of uncovered communes. A référent
  lands here; his own row and communes are highlighted. Police side: admin, référent, chief.
- ``GET /conventions``: the conventions de participation citoyenne (in force, renewal due soon, ended)
  and the contrats de sécurité intégrée of the communes the user sees, on a map and in two tables.
  The role is checked here; the rows are clipped to the scope in SQL (geo.referents.conventions) and by
  the row-level security of the request's connection.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from geo.referents.conventions import (
    CONTRACT_NOTICE_DAYS,
    RENEWAL_NOTICE_DAYS,
    STATES,
    commune_shapes,
    list_contracts,
    list_conventions,
    scope_communes,
)
from geo.referents.referents import coverage_shapes, known_communes, referent_coverage
from geo.settings import local_today
from layers.referent_layers import (
    bases_layer,
    contract_layer,
    convention_layer,
    convention_legend,
    coverage_layer,
    coverage_legend,
    km,
    referent_colours,
)
from layers.territory import commune_layer
from web.access import current_scope, permission_required
from web.db import get_db
from web.map_parts import page_map, render_map

bp = Blueprint("referents", __name__)


@bp.route("/referents")
@permission_required("referents.view")
def coverage_page():
    scope, db = current_scope(), get_db()
    coverage = referent_coverage(db, scope)
    own = scope.referent_id if scope.role == "referent" else None
    colours = referent_colours([r.id for r in coverage.referents])
    shapes = coverage_shapes(db)
    map_parts = None
    if not shapes.empty:
        m = page_map(tuple(shapes.to_crs(4326).total_bounds))
        layer = coverage_layer(shapes, colours, own)
        layer.add_to(m)
        bases_layer(coverage.referents, colours, own).add_to(m)
        coverage_legend(layer, coverage.referents, colours, own).add_to(m)
        map_parts = render_map(m)
    return render_template("referents.html", coverage=coverage, colours=colours, own=own,
                           mine=coverage.of(own), map_parts=map_parts, km=km,
                           counts_audits=scope.role in ("admin", "referent"))


@bp.route("/conventions")
@permission_required("conventions.view")
def conventions_page():
    scope, db, today = current_scope(), get_db(), local_today()
    conventions = list_conventions(db, scope, today)
    contracts = list_contracts(db, scope, today)
    area = scope_communes(db, scope)
    codes = {c.commune_insee for c in conventions} | {i for k in contracts for i, _ in k.communes}
    if area is None:  # admin, référent: the whole territory as background
        area = sorted(known_communes(db))
    shapes = commune_shapes(db, sorted(codes | set(area)))
    map_parts = None
    if not shapes.empty:
        m = page_map(tuple(shapes[shapes.insee.isin(area or list(codes))].to_crs(4326).total_bounds))
        commune_layer(shapes, name="Communes").add_to(m)
        layer = convention_layer(shapes, conventions)
        layer.add_to(m)
        contract_layer(shapes, contracts).add_to(m)
        convention_legend(layer, STATES).add_to(m)
        map_parts = render_map(m)
    return render_template("conventions.html", conventions=conventions, contracts=contracts, map_parts=map_parts,
                           today=today, renewal_days=RENEWAL_NOTICE_DAYS, contract_days=CONTRACT_NOTICE_DAYS)
