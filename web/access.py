"""Who may see what: the checks every page and endpoint makes on the server.

The rules live in :mod:`geo.accounts.users` (``UserScope``); this module applies them to
the user of the request. Views call:

- ``login_required`` (Flask-Login's) or ``roles_required("admin", ...)`` as decorators;
- ``current_scope()`` for the role and the sectors or commune of the user;
- ``can_see_commune(insee)`` / ``can_see_sector(csp_id, code)`` to filter;
- ``require_commune(insee)`` / ``require_csp(name)`` / ``require_sector(csp_id, code)``,
  which abort with 403 (a French page, or JSON under ``/api/``).

``login_gate`` runs before every request (web/__init__.py): every endpoint but
``auth.*`` and ``static`` needs a logged-in user, and it guards the pages of
web/pages/territory.py that do not check for themselves yet.
"""

from __future__ import annotations

import dataclasses
import functools

from flask import abort, current_app, jsonify, redirect, render_template, render_template_string, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from geo.accounts import users as accounts
from geo.accounts.users import ROLES, UserScope
from geo.errors import PsqError
from web.db import get_engine

ROLE_LABELS = {
    "admin": "administrateur",
    "chef_secteur": "chef de secteur",
    "referent": "référent sûreté",
    "maire": "maire",
    "partenaire": "partenaire",
}

#: Who may open the map of a CSP (a chief: only the CSP of his sectors).
CSP_ROLES = ("admin", "referent", "chef_secteur")

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
    """The page a user lands on: a chief his first sector, a mayor his commune, the others the index."""
    if scope.role == "chef_secteur" and scope.sectors:
        first = scope.sectors[0]
        return url_for("sector_pages.sector_page", csp=first.csp_name, code=first.code)
    if scope.role == "maire" and scope.commune_insee:
        return "/commune/" + scope.commune_insee
    return url_for("pages.index")


def roles_required(*roles: str):
    """Decorator: the view is for these roles only (others get 403, anonymous users the login page).

    >>> roles_required("admin", "chef")
    Traceback (most recent call last):
    ...
    ValueError: Unknown role in roles_required: chef.
    """
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"Unknown role in roles_required: {', '.join(unknown) or '(none given)'}.")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            scope = current_scope()
            if scope.role not in roles:
                abort(403, description=f"Cette page n'est pas ouverte au rôle {ROLE_LABELS[scope.role]}.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_see_commune(insee: str) -> bool:
    return accounts.can_see_commune(get_engine(), current_scope(), insee)


def can_see_sector(csp_id: int, code: str) -> bool:
    return current_scope().can_see_sector(csp_id, code)


def require_commune(insee: str) -> None:
    if not can_see_commune(insee):
        abort(403, description=f"Vous n'avez pas accès aux données de la commune {insee}.")


def require_sector(csp_id: int, code: str) -> None:
    if not can_see_sector(csp_id, code):
        abort(403, description=f"Vous n'avez pas accès au secteur {code}.")


def require_csp(name: str) -> None:
    scope = current_scope()
    if scope.role not in CSP_ROLES:
        abort(403, description="La carte d'une circonscription est réservée aux administrateurs, aux référents "
                               "sûreté et aux chefs de secteur de la circonscription.")
    if not scope.can_see_csp(name):
        abort(403, description=f"Vous n'avez pas accès à la circonscription « {name} ».")


def login_gate():
    """Before every request: log in first (but to log in). Each view checks its own scope."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.startswith("auth."):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    scope = current_user.scope
    if endpoint == "pages.index" and scope.role in ("chef_secteur", "maire"):
        return redirect(home_url(scope))
    return None


def refused(error: PsqError):
    """Any error of geo/ a user caused, in one place: its French sentence and its status, as JSON under /api/
    or as the French error page."""
    if is_api_request():
        return jsonify(error=error.user_message), error.status
    if error.status == 403:
        return forbidden(Forbidden(description=error.user_message))
    return render_template("error.html", error=_Shown(error.status, error.user_message)), error.status


@dataclasses.dataclass(frozen=True)
class _Shown:
    code: int
    description: str


def forbidden(error):
    """The 403 answer: JSON under /api/, else a page in French."""
    if is_api_request():
        return jsonify(error=error.description), 403
    home = home_url(current_user.scope) if current_user.is_authenticated else url_for("auth.login")
    return render_template_string(FORBIDDEN_PAGE, description=error.description, home=home), 403


__all__ = [
    "CSP_ROLES", "ROLE_LABELS", "can_see_commune", "can_see_sector", "current_scope", "forbidden", "home_url",
    "is_api_request", "login_gate", "login_required", "require_commune", "require_csp", "require_sector",
    "roles_required",
]
