"""Rate limits (Flask-Limiter), counted in PostgreSQL so that every gunicorn worker counts the same hits.

- Failed logins per client address (``LOGIN_ADDRESS_LIMIT``): only failures count (a
  success answers 302), so that a police station behind one address can log in all its
  staff in the morning while a guesser there is stopped. The limit per account is in
  geo.accounts.users (growing waits that never keep the owner out).
- JSON requests per user (``API_USER_LIMIT``), for the endpoints of ``/api/``.

The counters live in the table ``rate_limit`` (geo.db.rate_limits). If the database
does not answer, the limits let the request through (``RATELIMIT_SWALLOW_ERRORS``): the
request then meets the 503 of web/failures.py, which is the honest answer.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import ApplicationLimit, Limiter
from flask_login import current_user

import geo.db.rate_limits  # noqa: F401  (registers the storage scheme psq+postgresql with limits)
from web.db import get_engine

LOGIN_REFUSED = ("Trop d'échecs de connexion depuis votre adresse réseau : "
                 "réessayez dans quelques minutes.")
API_REFUSED = "Trop de requêtes pour votre compte : réessayez dans une minute."


def client_address() -> str:
    """The client's address as the server sees it (behind a proxy, set ProxyFix first)."""
    return request.remote_addr or "inconnue"


def user_key() -> str:
    """The logged-in user's id; the address of an anonymous client (refused by the login gate anyway)."""
    if current_user.is_authenticated:
        return f"user:{current_user.account.id}"
    return f"address:{client_address()}"


def is_json_endpoint() -> bool:
    """The JSON answers of ``/api/``: not the vector tiles, of which one view loads dozens at once."""
    return request.path.startswith("/api/") and not request.path.endswith(".mvt")


def failed_login(response) -> bool:
    """Whether a log-in answer counts against its address: anything but the redirect of a success."""
    return request.method == "POST" and response.status_code != 302


def login_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_LIMIT"]


def _api_limit() -> str:
    return current_app.config["API_USER_LIMIT"]


limiter = Limiter(
    key_func=user_key, strategy="fixed-window", headers_enabled=True,
    storage_uri="psq+postgresql://", storage_options={"engine": get_engine},
    application_limits=[ApplicationLimit(_api_limit, key_function=user_key, scope="api",
                                         exempt_when=lambda: not is_json_endpoint(), error_message=API_REFUSED)])


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
