"""Every answer that is not the page asked for: one French sentence, as JSON under ``/api/`` or as a page.

- a refusal of werkzeug (400, 404, 405, 413...): its description if one of ours gave it,
  else the French sentence of its status (werkzeug's own are in English);
- the database unreachable (stopped, restarting, the network cut): 503 with
  ``Retry-After``, and the app recovers by itself when it is back (the pool pings every
  connection before use, web/db.py);
- anything else: 500 with a reference, the request id that the log line of its traceback
  carries (``X-Request-Id`` on every answer).

The 503 and 500 pages are drawn without the menu or the user's name, which would ask the
database again (web/templates/failure.html).
"""

from __future__ import annotations

import uuid

from flask import current_app, g, jsonify, render_template
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from web.access import is_api_request

#: French sentence of each status werkzeug may raise with its English default text.
SENTENCES = {
    400: "Requête incorrecte.",
    404: "Page introuvable.",
    405: "Cette adresse ne répond pas à cette méthode.",
    408: "La requête a pris trop de temps.",
    411: "La requête doit donner sa longueur.",
    413: "La requête est trop volumineuse.",
    414: "L'adresse demandée est trop longue.",
    415: "Type de contenu non pris en charge.",
    416: "Plage d'octets impossible.",
    429: "Trop de requêtes : réessayez dans un moment.",
    431: "Les en-têtes de la requête sont trop volumineux.",
}
UNAVAILABLE = ("La base de données ne répond pas pour le moment : réessayez dans une minute. "
               "Le service reprend de lui-même dès qu'elle revient.")
RETRY_AFTER_S = 30


def start_request() -> None:
    """Before every request: its id, for the log and the ``X-Request-Id`` header."""
    g.request_id = uuid.uuid4().hex[:12]


def tag_response(response):
    """After every request: its id on the answer."""
    response.headers["X-Request-Id"] = getattr(g, "request_id", "")
    return response


def _answer(status: int, sentence: str, page: str = "error.html", **headers):
    if is_api_request():
        response = jsonify(error=sentence)
    elif page == "failure.html":  # no context processor: Flask-Login's would load the user from the database
        response = current_app.make_response(
            current_app.jinja_env.get_template(page).render(code=status, message=sentence))
    else:
        response = current_app.make_response(render_template(page, code=status, message=sentence))
    response.status_code = status
    response.headers.update(headers)
    return response


def http_error(error: HTTPException):
    """A refusal of werkzeug or of our views (``abort(400, description=...)``), in French."""
    default = type(error).description
    sentence = error.description if error.description and error.description != default else None
    return _answer(error.code or 500, sentence or SENTENCES.get(error.code, "Requête refusée."))


def database_unavailable(error: Exception):
    """503: the database does not answer; logged once per request, without a traceback."""
    current_app.logger.warning("request %s: database unavailable (%s)", getattr(g, "request_id", "?"),
                               type(error.orig if hasattr(error, "orig") else error).__name__)
    return _answer(503, UNAVAILABLE, "failure.html", **{"Retry-After": str(RETRY_AFTER_S)})


def internal_error(error: Exception):
    """500: our fault. The traceback goes to the log with the request id, the user gets the id only."""
    if isinstance(error, HTTPException):
        return http_error(error)
    reference = getattr(g, "request_id", "?")
    current_app.logger.exception("request %s failed", reference)
    return _answer(500, f"Erreur interne du service (référence {reference}) : elle est enregistrée. "
                        "Réessayez ; si elle revient, donnez cette référence à l'administrateur.", "failure.html")


def init_app(app) -> None:
    """Register the request id and the handlers on ``app``."""
    app.before_request(start_request)
    app.after_request(tag_response)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
    app.register_error_handler(Exception, internal_error)


__all__ = ["RETRY_AFTER_S", "SENTENCES", "UNAVAILABLE", "init_app"]
