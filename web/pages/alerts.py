"""A mayor's alerts: the notifications sent for his town and his opt-in per category (issue 16 item 5).

- ``GET /alertes``: the alerts of the logged-in mayor (admin: every mayor's), newest first, with their
  delivery state, and the form of his opt-ins;
- ``POST /alertes/abonnements``: his opt-ins, a checkbox per category and for each « immédiate » (one
  message per occurrence) or « résumé quotidien » (the daily digest). A category or a choice that is not
  one of the form's answers 400 with one French sentence, and nothing is changed.

The alerts are listed by geo.alerts.outbox (clipped in SQL to the user, and by row-level security).
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from geo.alerts.outbox import list_alerts
from geo.alerts.subscriptions import category_choices, subscribe, subscriptions
from geo.errors import Forbidden, PsqError
from web.access import current_scope, permission_required
from web.db import get_db

bp = Blueprint("alerts", __name__)

#: The answers of the form's choice of delivery: value -> digest.
MODES = {"immediate": False, "resume": True}


class FormError(PsqError):
    """A form field that is not one of its answers (400, one French sentence)."""


@bp.route("/alertes")
@permission_required("alerts.view")
def alerts_page():
    scope, db, user_id = current_scope(), get_db(), current_user.account.id
    mine = subscriptions(db, user_id) if scope.role == "maire" else {}
    return render_template("alerts.html", alerts=list_alerts(db, scope, user_id), choices=category_choices(db),
                           subscribed=mine, is_mayor=scope.role == "maire")


@bp.route("/alertes/abonnements", methods=["POST"])
@permission_required("alerts.view")
def save_subscriptions():
    if current_scope().role != "maire":
        raise Forbidden("Les abonnements aux alertes sont ceux des maires : un administrateur les règle avec "
                        "« psq alerts subscribe ».")
    db = get_db()
    known = {code for code, _ in category_choices(db)}
    chosen = request.form.getlist("categorie")
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise FormError(f"« {unknown[0][:60]} » n'est pas une catégorie.")
    wanted = {}
    for code in chosen:
        mode = request.form.get(f"mode-{code}", "immediate")
        if mode not in MODES:
            raise FormError(f"« {mode[:60]} » n'est pas un mode d'envoi (immédiate ou résumé quotidien).")
        wanted[code] = MODES[mode]
    subscribe(db, current_user.account.id, wanted)
    return redirect(url_for("alerts.alerts_page") + "#abonnements", code=303)
