"""Audit requests, the audit page (cameras, hot cells, proposed sites) and the audit file (issue 16 items 2, 3).

- ``GET /audits``: the requests the user sees (a mayor: his town's; a référent: those assigned to him or of the
  towns he covers; admin: all) with their dates, delays and the late ones highlighted, and the form of a new
  request (the towns the user may ask for); ``POST /audits`` records it;
- ``GET /audits/<id>``: a request's page. For a video-protection request, on the police side (``study.run``:
  admin, référent), the map of the town with the cameras' wedges and the hot cells (those left uncovered
  standing out), the coverage figures and, when asked (``p`` new cameras, their range and field of view, a
  category, a period), the proposed sites and what each adds. The mayor sees his request's status, dates and
  report, not the coverage of the hot spots: that is police analysis of occurrences (DESIGN.md section 7);
- ``POST /audits/<id>/planifier``, ``/realiser``, ``/abandonner``, ``/attribuer`` (admin), ``/rapport`` (the
  report, multipart); ``GET /audits/<id>/rapport``: the report as an attachment;
- ``GET /audits/<id>/dossier`` and ``/dossier.pdf``: the audit file, printable, and its PDF (WeasyPrint, served
  by the same local fetcher as the GPO meeting file: nothing from the network).

A route parses its fields (a malformed one: 400 and one French sentence naming it), asks the access policy,
calls one function of geo.referents, renders or redirects.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from geo.errors import PsqError
from geo.problems.categories import categories, resolve
from geo.referents import audits as ar
from geo.referents import siting
from geo.settings import DAYS_ACCEPTED, local_today
from web.access import allowed, current_scope, permission_required
from web.db import get_db

bp = Blueprint("audits", __name__)

#: The body of a report's upload may exceed the app's MAX_CONTENT_LENGTH (2 MB): up to the largest report kept
#: and the form's other fields.
REPORT_BODY_BYTES = ar.MAX_REPORT_BYTES + 256 * 1024
#: The bounds of the proposal's form (those of geo.referents.siting): new cameras, their range (m) and field of
#: view (degrees); the defaults: a dome of 60 m.
P_RANGE = tuple(int(v) for v in siting.P_RANGE)
RANGE_M_RANGE = tuple(int(v) for v in siting.RANGE_M)
FOV_RANGE = tuple(int(v) for v in siting.FOV_RANGE)
DEFAULT_P, DEFAULT_RANGE_M, DEFAULT_FOV = 3, 60, 360
#: The proposal's fields, carried from the page to its audit file.
GRID_STEP_M = 50
PROPOSAL_FIELDS = ("p", "portee", "champ", "categorie", "du", "au")


class FormError(PsqError):
    """A form field missing or malformed (400, one French sentence naming the field)."""


@bp.url_value_preprocessor
def _report_body_limit(endpoint, values) -> None:
    """Before every other check of the request (which reads the form): a report's upload may be up to 10 MB."""
    if endpoint == "audits.upload_report":
        request.max_content_length = REPORT_BODY_BYTES


# -- parsing ---------------------------------------------------------------------------------------------
def _day(text: str | None, label: str, *, required: bool = True) -> dt.date | None:
    text = (text or "").strip()
    if not text and not required:
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise FormError(f"« {label} » : {text or 'vide'} n'est pas une date (AAAA-MM-JJ).") from None
    first, last = DAYS_ACCEPTED
    if not first <= value <= last:
        raise FormError(f"« {label} » : l'année {value.year} est hors des années {first.year} à {last.year}.")
    return value


def _whole(args, field: str, label: str, bounds: tuple[int, int], default: int) -> int:
    text = (args.get(field) or "").strip() or str(default)
    try:
        value = int(text)
    except ValueError:
        raise FormError(f"« {label} » : {text} n'est pas un nombre entier.") from None
    if not bounds[0] <= value <= bounds[1]:
        raise FormError(f"« {label} » : {value} est hors des bornes, de {bounds[0]} à {bounds[1]}.")
    return value


def proposal_params(args) -> dict | None:
    """The proposal's fields of the query string (None when ``p`` is not asked): checked, or FormError."""
    if "p" not in args:
        return None
    category_text = (args.get("categorie") or "").strip()
    category = resolve(category_text) if category_text else None
    if category_text and category is None:
        raise FormError(f"« catégorie » : catégorie inconnue « {category_text} ».")
    first, last = _day(args.get("du"), "du", required=False), _day(args.get("au"), "au", required=False)
    if first and last and first > last:
        raise FormError(f"« du » : la période commence le {first:%d/%m/%Y}, après sa fin le {last:%d/%m/%Y}.")
    if last and last >= local_today():
        raise FormError(f"« au » : la période se termine au plus tard hier, pas le {last:%d/%m/%Y}.")
    return {"p": _whole(args, "p", "nombre de caméras", P_RANGE, DEFAULT_P),
            "range_m": _whole(args, "portee", "portée", RANGE_M_RANGE, DEFAULT_RANGE_M),
            "fov": _whole(args, "champ", "champ de vision", FOV_RANGE, DEFAULT_FOV),
            "category": category, "first": first, "last": last, "grid_step": GRID_STEP_M}


def _request_or_404(request_id: int) -> ar.AuditRequest:
    """The request if the user may see it (``study.view``), else 404: the same answer whether it exists or not."""
    found = ar.get_request(get_db(), current_scope(), request_id) if allowed("study.view", request_id) else None
    if found is None:
        abort(404, description=f"Aucune demande d'audit n° {request_id} dans votre périmètre.")
    return found


def _require_run(request_id: int) -> ar.AuditRequest:
    found = _request_or_404(request_id)
    if not allowed("study.run", request_id):
        abort(403, description="Seul le référent sûreté planifie, réalise et rend compte d'une étude.")
    return found


def _file_context() -> dict:
    """What the page and its audit file both need: the category labels and the proposal's fields to carry over."""
    return {"category_labels": {c.code: c.label for c in categories()},
            "file_args": {k: request.args[k] for k in PROPOSAL_FIELDS if k in request.args}}


def _actor() -> int:
    return current_user.account.id


def _back(request_id: int, anchor: str = "") -> Response:
    return redirect(url_for("audits.audit_page", request_id=request_id) + anchor, code=303)


# -- pages -----------------------------------------------------------------------------------------------
@bp.route("/audits")
@permission_required("study.view")
def audit_list():
    scope, db = current_scope(), get_db()
    communes = ar.requestable_communes(db, scope) if allowed("study.request") else []
    return render_template("audits.html", requests=ar.list_requests(db, scope), today=local_today(),
                           communes=communes, kinds=ar.KINDS, late_after=ar.LATE_AFTER_DAYS,
                           max_need=ar.MAX_NEED, max_site=ar.MAX_SITE)


@bp.route("/audits", methods=["POST"])
@permission_required("study.request")
def create():
    commune = (request.form.get("commune") or "").strip()
    if not allowed("study.request", commune):
        abort(403, description=f"Vous ne pouvez pas demander d'étude pour la commune « {commune} ».")
    request_id = ar.create_request(get_db(), current_scope(), commune=commune,
                                   kind=(request.form.get("type") or "").strip(), need=request.form.get("besoin"),
                                   site=request.form.get("lieu"), actor_id=_actor())
    return _back(request_id)


@bp.route("/audits/<int:request_id>")
@permission_required("study.view")
def audit_page(request_id: int):
    found = _request_or_404(request_id)
    may_run = allowed("study.run", request_id)
    context = {"req": found, "today": local_today(), "may_run": may_run, "is_admin": current_scope().role == "admin",
               "referents": ar.referents(get_db()) if current_scope().role == "admin" else [],
               "categories": categories(), "args": request.args, "P_RANGE": P_RANGE, "RANGE_M_RANGE": RANGE_M_RANGE,
               "FOV_RANGE": FOV_RANGE, "defaults": {"p": DEFAULT_P, "portee": DEFAULT_RANGE_M, "champ": DEFAULT_FOV},
               "study": None, "late_after": ar.LATE_AFTER_DAYS, "grid_step": GRID_STEP_M,
               **_file_context()}
    if found.is_videoprotection and may_run:
        from geo.referents.audit_file import camera_study

        params = proposal_params(request.args)
        study = camera_study(get_db(), current_scope(), found.commune_insee, params)
        context.update(study=study, params=params, map_parts=study_map(study))
    return render_template("audit.html", **context)


def study_map(study) -> dict[str, str]:
    """The map of the page: the town's outline, the cameras' wedges, the hot cells and the proposed sites."""
    from geo.analysis.commune_figures import commune_outline
    from layers.camera_layers import camera_wedges_layer, hot_cells_layer, proposal_layer
    from layers.territory import commune_layer
    from web.map_parts import page_map, render_map

    outline = commune_outline(get_db(), study.commune_insee)
    m = page_map(_study_bounds(study, outline))
    commune_layer(outline, name="Limites de la commune").add_to(m)
    hot_cells_layer(study.coverage.hot_cells).add_to(m)
    camera_wedges_layer(study.coverage.cameras).add_to(m)
    if study.proposal is not None:
        proposal_layer(study.proposal).add_to(m)
    return render_map(m)


def _study_bounds(study, outline) -> tuple[float, float, float, float]:
    """Lon/lat bounds of what the study shows (hot cells, wedges, proposed sites) with 150 m around, else the town."""
    import geopandas as gpd
    import shapely

    from geo.settings import SRID

    shapes = [c.square() for c in study.coverage.hot_cells] + list(study.coverage.wedges)
    shapes += [s.wedge() for s in study.sites]
    if not shapes:
        return tuple(outline.to_crs(4326).total_bounds)
    box = shapely.box(*gpd.GeoSeries(shapes, crs=SRID).total_bounds).buffer(150)
    return tuple(gpd.GeoSeries([box], crs=SRID).to_crs(4326).total_bounds)


@bp.route("/audits/<int:request_id>/planifier", methods=["POST"])
@permission_required("study.run")
def plan(request_id: int):
    _require_run(request_id)
    ar.plan(get_db(), current_scope(), request_id, _day(request.form.get("date"), "date planifiée"), actor_id=_actor())
    return _back(request_id)


@bp.route("/audits/<int:request_id>/realiser", methods=["POST"])
@permission_required("study.run")
def close(request_id: int):
    _require_run(request_id)
    ar.close(get_db(), current_scope(), request_id, _day(request.form.get("date"), "date de réalisation"),
             actor_id=_actor())
    return _back(request_id)


@bp.route("/audits/<int:request_id>/abandonner", methods=["POST"])
@permission_required("study.run")
def abandon(request_id: int):
    _require_run(request_id)
    ar.abandon(get_db(), current_scope(), request_id, actor_id=_actor())
    return _back(request_id)


@bp.route("/audits/<int:request_id>/attribuer", methods=["POST"])
@permission_required("study.run")
def assign(request_id: int):
    _require_run(request_id)
    text = (request.form.get("referent") or "").strip()
    if not text.isdigit() or int(text) > 2**31 - 1:
        raise FormError(f"« référent » : {text or 'vide'} n'est pas un numéro de référent.")
    ar.assign(get_db(), current_scope(), request_id, int(text), actor_id=_actor())
    return _back(request_id)


@bp.route("/audits/<int:request_id>/rapport", methods=["POST"])
@permission_required("study.run")
def upload_report(request_id: int):
    _require_run(request_id)
    upload = request.files.get("rapport")
    if upload is None or not upload.filename:
        raise FormError("« rapport » : choisissez un fichier (PDF, ODT ou DOCX).")
    content = upload.stream.read(ar.MAX_REPORT_BYTES + 1)
    ar.attach_report(get_db(), current_scope(), request_id, upload.filename, content, upload.mimetype,
                     actor_id=_actor())
    return _back(request_id, "#rapport")


@bp.route("/audits/<int:request_id>/rapport")
@permission_required("study.view")
def download_report(request_id: int):
    _request_or_404(request_id)
    report = ar.report_file(get_db(), current_scope(), request_id, actor_id=_actor(), ip=request.remote_addr)
    return Response(report.content, mimetype=report.content_type, headers={
        "Content-Disposition": f'attachment; filename="{report.filename}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


@bp.route("/audits/<int:request_id>/dossier")
@permission_required("study.run")
def audit_file_page(request_id: int):
    from geo.referents.audit_file import audit_file

    _require_run(request_id)
    file = audit_file(get_db(), current_scope(), request_id, proposal_params(request.args))
    return render_template("audit_file.html", file=file, pdf=False, **_file_context())


@bp.route("/audits/<int:request_id>/dossier.pdf")
@permission_required("study.run")
def audit_file_pdf(request_id: int):
    from geo.referents.audit_file import audit_export, audit_file
    from web.pages.gpo_file import html_to_pdf

    _require_run(request_id)
    file = audit_file(get_db(), current_scope(), request_id, proposal_params(request.args))
    audit_export(get_db(), file, user_id=_actor(), ip=request.remote_addr)
    pdf = html_to_pdf(render_template("audit_file.html", file=file, pdf=True, **_file_context()))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})


__all__ = ["FormError", "bp", "proposal_params"]
