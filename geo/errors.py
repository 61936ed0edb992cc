"""The one base of every error a user can cause: what went wrong, for whom, in French.

Each error of geo/ that a user can fix (a bad file, a refused zone, a period written
wrongly, an account refused...) derives from :class:`PsqError`. It carries the HTTP
status the web layer answers with and a French sentence for the user
(``user_message``); ``str(error)`` is what the command line prints, which may be the
same sentence or, for the loaders and the engine, English. The web layer turns any
:class:`PsqError` into a French page or JSON in one place (web/__init__.py).

Examples
--------
>>> error = PsqError("La zone est trop grande.", status=400)
>>> error.status, error.user_message, str(error)
(400, 'La zone est trop grande.', 'La zone est trop grande.')
>>> NotFound("Aucune zone n° 7.").status
404
>>> PsqError("no occurrence in the study area", user_message="Aucun fait dans le secteur.").user_message
'Aucun fait dans le secteur.'
"""

from __future__ import annotations


class PsqError(Exception):
    """An error the user can fix; ``status`` is the HTTP status, ``user_message`` the French sentence."""

    status = 400

    def __init__(self, message: str = "", *, status: int | None = None, user_message: str | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status
        self._user_message = user_message

    @property
    def user_message(self) -> str:
        """The sentence shown to a user of the web app (French)."""
        return self._user_message or str(self)


class Forbidden(PsqError):
    """The user may not do this (HTTP 403)."""

    status = 403


class NotFound(PsqError):
    """No such thing, or not one the user may see (HTTP 404: the same answer in both cases)."""

    status = 404


__all__ = ["Forbidden", "NotFound", "PsqError"]
