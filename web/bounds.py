"""Bounded input: what every request is checked for before a view reads it.

- the body's size: ``MAX_CONTENT_LENGTH`` (werkzeug answers 413 before reading more);
- a NUL character in the path, the query or a form field (PostgreSQL refuses it in text,
  which would surface as a 500): 400;
- an integer in the path beyond PostgreSQL's ``integer`` (a zone id of 2^31): 404, as an
  id that does not exist;
- a JSON body (:func:`json_object`): an object, at most ``MAX_JSON_DEPTH`` levels deep, no
  NUL nor lone surrogate in any string, no NaN nor Infinity (which Python reads but JSON has
  not: ``int(Infinity)`` was a 500), else 400 with one French sentence.
"""

from __future__ import annotations

import json

from flask import abort, current_app, request

#: PostgreSQL's integer (int4): the ids of the database.
MAX_ID = 2**31 - 1


def check_request() -> None:
    """Before every request (web/__init__.py): refuse what no view should ever read."""
    texts = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += [*request.form.keys(), *request.form.values()]
    if any("\x00" in text for text in texts):
        abort(400, description="La requête contient un caractère nul (\\0) : elle est refusée.")
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
            abort(404, description=f"Aucun objet ne porte le numéro {value}.")


def json_object() -> dict:
    """The request's JSON body, checked: an object of bounded depth whose strings PostgreSQL can store.

    Aborts with 400 and a French sentence otherwise (and 413 for a body over
    ``MAX_CONTENT_LENGTH``, from werkzeug).
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        abort(400, description="Le corps de la requête est vide : un objet JSON est attendu.")
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except _NotANumber as error:
        abort(400, description=f"Le JSON contient {error.args[0]}, qui n'est pas un nombre du JSON : donnez un "
                               "nombre fini.")
    except RecursionError:
        abort(400, description="Le JSON est imbriqué trop profondément.")
    except (ValueError, UnicodeDecodeError) as error:
        abort(400, description=f"Le corps de la requête n'est pas du JSON valide ({_where(error)}).")
    if not isinstance(data, dict):
        abort(400, description=f"Un objet JSON est attendu, pas {_kind(data)}.")
    _check_value(data, 1, current_app.config["MAX_JSON_DEPTH"])
    return data


class _NotANumber(ValueError):
    """NaN, Infinity or -Infinity in a body: Python's json reads them, RFC 8259 has no such number."""


def _no_constant(token: str):
    raise _NotANumber(token)


def _check_value(value, depth: int, limit: int) -> None:
    if depth > limit:
        abort(400, description=f"Le JSON est imbriqué trop profondément (au plus {limit} niveaux).")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_value(item, depth + 1, limit)
    elif isinstance(value, list):
        for item in value:
            _check_value(item, depth + 1, limit)
    elif isinstance(value, str):
        _check_text(value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        abort(400, description="Un texte du JSON contient un caractère nul (\\0) : il est refusé.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        abort(400, description="Un texte du JSON contient un caractère invalide (une moitié de paire UTF-16).")


def _kind(value) -> str:
    return {list: "une liste", str: "un texte", bool: "un booléen", type(None): "null"}.get(
        type(value), "un nombre")


def _where(error: Exception) -> str:
    return f"ligne {error.lineno}, colonne {error.colno}" if isinstance(error, json.JSONDecodeError) else "encodage"


__all__ = ["MAX_ID", "check_request", "json_object"]
