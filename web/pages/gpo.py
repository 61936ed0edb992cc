"""The GPO pages: the list of one's GPOs, a GPO's page with its agenda, meetings and actions, and their forms.

- ``GET /gpo``: the GPOs of the user (a partner's landing page, with his organisation's actions and problems);
- ``GET /gpo/<id>``: members, next meeting, the ranked agenda with each factor (police side), the open and
  overdue actions, the meetings held, the last assessments;
- ``POST /gpo/<id>/reunions``: record a meeting; ``POST /gpo/<id>/actions``: decide an action;
- ``POST /actions/<id>/statut``: an action's new status (its GPO's chief, or its organisation's partner);
- ``POST /gpo/<id>/problemes/<pid>/statut``: a problem's new status, signed in its trail.

A route parses the form, asks the access policy, calls one function of geo.gpo, renders or redirects.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from geo.errors import PsqError
from geo.gpo import meetings as gm
from geo.gpo.groups import get_gpo, list_gpos, member_contacts
from geo.gpo.labels import ACTION_KINDS, ACTION_STATUSES
from geo.problems.status import LABELS as PROBLEM_STATUSES
from geo.problems.status import TRANSITIONS as PROBLEM_TRANSITIONS
from geo.settings import local_today
from web.access import allowed, current_scope, permission_required, require
from web.db import get_db

bp = Blueprint("gpo", __name__)


class FormError(PsqError):
    """A form field missing or malformed (400, one French sentence naming the field)."""


def _day(field: str, label: str) -> dt.date:
    text = (request.form.get(field) or "").strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FormError(f"« {label} » : {text or 'vide'} n'est pas une date (AAAA-MM-JJ).") from None


def _int(field: str, label: str, required: bool = True) -> int | None:
    text = (request.form.get(field) or "").strip()
    if not text and not required:
        return None
    try:
        return int(text)
    except ValueError:
        raise FormError(f"« {label} » : {text or 'vide'} n'est pas un numéro.") from None


def _ints(field: str, label: str) -> list[int]:
    try:
        return [int(v) for v in request.form.getlist(field)]
    except ValueError:
        raise FormError(f"« {label} » : un choix n'est pas un numéro.") from None


def _author() -> str:
    return current_user.label


def _gpo_or_404(gpo_id: int):
    require("gpo.view", gpo_id)
    gpo = get_gpo(get_db(), current_scope(), gpo_id)
    if gpo is None:  # the policy said yes: cannot happen but under a race; never a 500
        abort(404, description=f"Aucun GPO n° {gpo_id}.")
    return gpo


@bp.route("/gpo")
@permission_required("gpo.view")
def gpo_list():
    scope, db, today = current_scope(), get_db(), local_today()
    if scope.role == "partenaire" and scope.organisation_id is None:
        abort(403, description="Votre compte de partenaire n'est rattaché à aucune organisation : "
                               "demandez à un administrateur de l'y rattacher.")
    gpos = list_gpos(db, scope)
    mine = gm.actions(db, scope) if scope.role == "partenaire" else []
    problems = gm.partner_problems(db, scope)
    return render_template("gpo_list.html", gpos=gpos, today=today, actions=mine, problems=problems,
                           statuses=ACTION_STATUSES, problem_statuses=PROBLEM_STATUSES)


@bp.route("/gpo/<int:gpo_id>")
@permission_required("gpo.view")
def gpo_page(gpo_id: int):
    gpo = _gpo_or_404(gpo_id)
    scope, db, today = current_scope(), get_db(), local_today()
    context = {"gpo": gpo, "today": today, "next_on": gpo.next_meeting_on(today),
               "actions": gm.actions(db, scope, gpo_id=gpo_id), "meetings": gm.meetings(db, scope, gpo_id),
               "may_run": allowed("gpo.run", gpo_id), "kinds": ACTION_KINDS, "statuses": ACTION_STATUSES,
               "problem_statuses": PROBLEM_STATUSES, "problem_transitions": PROBLEM_TRANSITIONS,
               "agenda": None, "assessments": [], "contacts": member_contacts(db, gpo)}
    context["may_update"] = {a.id: allowed("action.update", a.id) for a in context["actions"]}
    if allowed("gpo.agenda", gpo_id):
        from geo.gpo.agenda import agenda
        from geo.gpo.assessment import last_assessments

        context["agenda"] = agenda(db, gpo, context["next_on"])
        context["assessments"] = last_assessments(db, gpo_id)
    return render_template("gpo.html", **context)


@bp.route("/gpo/<int:gpo_id>/reunions", methods=["POST"])
@permission_required("gpo.run")
def record_meeting(gpo_id: int):
    require("gpo.run", gpo_id)
    gpo = _gpo_or_404(gpo_id)
    held_on = _day("date", "date de la réunion")
    reviewed_ids = _ints("problemes", "problèmes examinés")
    lines = {}
    if reviewed_ids:
        from geo.gpo.agenda import agenda

        lines = {line.problem_id: line for line in agenda(get_db(), gpo, held_on).lines}
    reviewed = [{"problem_id": pid, **({"rank": lines[pid].rank, "score": lines[pid].score,
                                        "factors": lines[pid].as_dict()} if pid in lines else {}),
                 "decision": request.form.get(f"decision-{pid}")} for pid in reviewed_ids]
    gm.record_meeting(get_db(), current_scope(), gpo_id, held_on, attendees=_ints("presents", "présents"),
                      decisions=request.form.get("decisions"), reviewed=reviewed, user_id=current_user.account.id)
    return redirect(url_for("gpo.gpo_page", gpo_id=gpo_id) + "#reunions", code=303)


@bp.route("/gpo/<int:gpo_id>/actions", methods=["POST"])
@permission_required("gpo.run")
def add_action(gpo_id: int):
    require("gpo.run", gpo_id)
    gm.add_action(get_db(), current_scope(), gpo_id, kind=(request.form.get("type") or "").strip(),
                  organisation_id=_int("partenaire", "partenaire"), owner=request.form.get("responsable") or "",
                  due_on=_day("echeance", "échéance"), problem_id=_int("probleme", "problème", required=False),
                  meeting_id=_int("reunion", "réunion", required=False),
                  description=request.form.get("description"), author=_author())
    return redirect(url_for("gpo.gpo_page", gpo_id=gpo_id) + "#actions", code=303)


@bp.route("/actions/<int:action_id>/statut", methods=["POST"])
@permission_required("action.update")
def action_status(action_id: int):
    require("action.update", action_id)
    action = gm.change_action_status(get_db(), current_scope(), action_id, (request.form.get("statut") or "").strip(),
                                     author=_author())
    if current_scope().role == "partenaire":
        return redirect(url_for("gpo.gpo_list") + "#actions", code=303)
    return redirect(url_for("gpo.gpo_page", gpo_id=action.gpo_id) + "#actions", code=303)


@bp.route("/gpo/<int:gpo_id>/problemes/<int:problem_id>/statut", methods=["POST"])
@permission_required("gpo.run")
def problem_status(gpo_id: int, problem_id: int):
    require("gpo.run", gpo_id)
    gm.change_problem_status(get_db(), _gpo_or_404(gpo_id), problem_id, (request.form.get("statut") or "").strip(),
                             note=request.form.get("note"), author=_author())
    return redirect(url_for("gpo.gpo_page", gpo_id=gpo_id) + "#ordre-du-jour", code=303)


__all__ = ["bp"]
