"""Who may see what: the checks every page and endpoint makes on the server.

The rules live in :mod:`geo.accounts.users` (``UserScope``); this module applies them to
the user of the request. Views call:

- ``permission_required(action)`` as a decorator: the role check of the access policy
  (geo/accounts/policy.py, one table of role x action);
- ``current_scope()`` for the role and the sectors or commune of the user;
- ``can_see_commune(insee)`` / ``can_see_sector(csp_id, code)`` to filter;
- ``require_commune(insee)`` / ``require_csp(name)`` / ``require_sector(csp_id, code)``,
  which abort with 403 (a French page, or JSON under ``/api/``).

``login_gate`` runs before every request (web/__init__.py): every endpoint but
``auth.*`` and ``static`` needs a logged-in user, and it guards the pages of
web/pages/territory.py that do not check for themselves yet.
"""

from __future__ import annotations

import functools

from flask import abort, current_app, jsonify, redirect, render_template, render_template_string, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from geo.accounts.policy import ACTIONS, permission_allowed
from geo.accounts.users import UserScope
from geo.errors import PsqError
from web.db import apply_scope, get_db

ROLE_LABELS = {
    "admin": "administrateur",
    "chef_secteur": "chef de secteur",
    "referent": "référent sûreté",
    "maire": "maire",
    "partenaire": "partenaire",
}


FORBIDDEN_PAGE = """{% extends "base.html" %}
{% block title %}Accès refusé{% endblock %}
{% block main %}
<div class="message">
  <h1>Accès refusé</h1>
  <p>{{ description }}</p>
  <p><a href="{{ home }}">Retour à votre page d'accueil</a></p>
</div>
{% endblock %}"""


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def current_scope() -> UserScope:
    """The scope of the logged-in user (an anonymous request gets the login redirect or a 401)."""
    if not current_user.is_authenticated:
        abort(current_app.login_manager.unauthorized())
    return current_user.scope


def home_url(scope: UserScope) -> str:
    """The page a user lands on: a chief his first sector, a mayor his commune, a référent the coverage map of
    the référents, the others the index."""
    if scope.role == "chef_secteur" and scope.sectors:
        first = scope.sectors[0]
        return url_for("sector_pages.sector_page", csp=first.csp_name, code=first.code)
    if scope.role == "maire" and scope.commune_insee:
        return "/commune/" + scope.commune_insee
    if scope.role == "partenaire" and scope.organisation_id is not None:
        return url_for("gpo.gpo_list")
    if scope.role == "referent":
        return url_for("referents.coverage_page")
    return url_for("pages.index")


def permission_required(action: str):
    """Decorator: the view takes ``action`` of the access policy; a role that may not gets 403.

    The resource (sector, CSP, commune) is checked by the view with :func:`require`. The
    action is kept on the view (``psq_action``), so that the URL-map test walks the policy.

    >>> permission_required("fly")
    Traceback (most recent call last):
    ...
    ValueError: Unknown action: fly.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown action: {action}.")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            scope = current_scope()
            if not permission_allowed(scope, action):
                abort(403, description=f"Cette page n'est pas ouverte au rôle {ROLE_LABELS[scope.role]}.")
            return view(*args, **kwargs)

        wrapped.psq_action = action
        return wrapped

    return decorator


#: The refusal of each kind of resource, in French ({} is the resource's name).
REFUSALS = {
    "sector": "Vous n'avez pas accès au secteur {}.",
    "zone": "Vous n'avez pas accès au secteur {}.",
    "problem": "Vous ne pouvez pas créer de problème dans le secteur {}.",
    "commune": "Vous n'avez pas accès aux données de la commune {}.",
    "csp": "Vous n'avez pas accès à la circonscription « {} ».",
    "audit": "Le journal d'audit est réservé aux administrateurs.",
    "gpo": "Vous n'avez pas accès au GPO n° {}.",
    "action": "Vous ne pouvez pas modifier l'action n° {}.",
}


def allowed(action: str, resource=None) -> bool:
    """The access policy asked for the user of the request."""
    return permission_allowed(current_scope(), action, resource, bind=get_db())


def require(action: str, resource, name: str | None = None) -> None:
    """403 (a French page, or JSON under /api/) unless the user may take ``action`` on ``resource``."""
    if not allowed(action, resource):
        abort(403, description=REFUSALS[action.partition(".")[0]].format(name or resource))


def can_see_commune(insee: str) -> bool:
    return allowed("commune.view", insee)


def can_see_sector(csp_id: int, code: str) -> bool:
    return allowed("sector.view", (csp_id, code))


def require_commune(insee: str) -> None:
    require("commune.view", insee)


def require_sector(csp_id: int, code: str, action: str = "sector.view") -> None:
    require(action, (csp_id, code), code)


def require_csp(name: str) -> None:
    scope = current_scope()
    if not permission_allowed(scope, "csp.view"):
        abort(403, description="La carte d'une circonscription est réservée aux administrateurs, aux référents "
                               "sûreté et aux chefs de secteur de la circonscription.")
    require("csp.view", name)


def login_gate():
    """Before every request: log in first (but to log in). Each view checks its own scope."""
    endpoint = request.endpoint or ""
    if endpoint == "static":
        return None
    if current_user.is_authenticated:  # the second lock: the database shows only his scope's rows
        apply_scope(current_user.scope, current_user.account.id)
    if endpoint.startswith("auth."):
        if not current_user.is_authenticated and request.method == "POST":
            apply_scope(None)  # no scope, but the client's address for the audit of the log-in's writes
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    scope = current_user.scope
    if endpoint == "pages.index" and home_url(scope) != url_for("pages.index"):
        return redirect(home_url(scope))
    return None


def refused(error: PsqError):
    """Any error of geo/ a user caused, in one place: its French sentence and its status, as JSON under /api/
    or as the French error page."""
    if is_api_request():
        return jsonify(error=error.user_message), error.status
    if error.status == 403:
        return forbidden(Forbidden(description=error.user_message))
    return render_template("error.html", code=error.status, message=error.user_message), error.status


def forbidden(error):
    """The 403 answer: JSON under /api/, else a page in French."""
    if is_api_request():
        return jsonify(error=error.description), 403
    home = home_url(current_user.scope) if current_user.is_authenticated else url_for("auth.login")
    return render_template_string(FORBIDDEN_PAGE, description=error.description, home=home), 403


__all__ = [
    "REFUSALS", "ROLE_LABELS", "allowed", "can_see_commune", "can_see_sector", "current_scope", "forbidden",
    "home_url", "is_api_request", "login_gate", "login_required", "permission_required", "refused", "require",
    "require_commune", "require_csp", "require_sector",
]
