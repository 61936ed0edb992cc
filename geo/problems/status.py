"""The lifecycle of a problem: signalé -> priorisé -> en traitement -> résolu, or réouvert.

Every change is dated and kept in ``problem_status_change``, so a GPO can say when a
problem was raised, taken up and solved.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.errors import PsqError
from geo.problems.categories import normalize

LABELS = {
    "signale": "Signalé",
    "priorise": "Priorisé",
    "en_traitement": "En traitement",
    "resolu": "Résolu",
    "reouvert": "Réouvert",
}

# A problem may also be found solved before any action (signalé or priorisé -> résolu).
TRANSITIONS = {
    "signale": {"priorise", "resolu"},
    "priorise": {"en_traitement", "resolu"},
    "en_traitement": {"resolu", "priorise"},
    "resolu": {"reouvert"},
    "reouvert": {"priorise", "en_traitement", "resolu"},
}


class StatusError(PsqError, ValueError):
    """A status that does not exist, or a change the lifecycle does not allow."""


def resolve_status(text: str | None) -> str | None:
    """The status code for a code or French label; None when unknown.

    >>> resolve_status("En traitement"), resolve_status("résolu"), resolve_status("fini")
    ('en_traitement', 'resolu', None)
    """
    if text is None:
        return None
    wanted = normalize(text).replace(" ", "_")
    return wanted if wanted in LABELS else None


def transition_error(current: str, new: str) -> str | None:
    """Why the lifecycle refuses current -> new, or None when it allows it.

    >>> transition_error("signale", "priorise") is None
    True
    >>> transition_error("resolu", "en_traitement")
    "status cannot go from 'resolu' to 'en_traitement' (from 'resolu' only to: reouvert)"
    """
    if current == new or new in TRANSITIONS[current]:
        return None
    return (f"status cannot go from '{current}' to '{new}' "
            f"(from '{current}' only to: {', '.join(sorted(TRANSITIONS[current]))})")


def change_status(conn: Connection, problem_id: int, new: str, *, when: dt.datetime | None = None,
                  note: str | None = None, author: str | None = None) -> None:
    """Move a problem to a new status and record the dated change.

    Raises StatusError when the lifecycle does not allow it.
    """
    if new not in LABELS:
        raise StatusError(f"unknown status '{new}'; statuses are {', '.join(LABELS)}.")
    current = conn.execute(sa.text("SELECT status FROM problem WHERE id = :id FOR UPDATE"),
                           {"id": problem_id}).scalar_one()
    reason = transition_error(current, new)
    if reason:
        raise StatusError(f"Problem {problem_id}: {reason}.")
    if current == new:
        return
    when = when or dt.datetime.now(dt.timezone.utc)
    conn.execute(sa.text("UPDATE problem SET status = :new, status_changed_at = :when WHERE id = :id"),
                 {"new": new, "when": when, "id": problem_id})
    conn.execute(sa.text(
        "INSERT INTO problem_status_change (problem_id, from_status, to_status, changed_at, note, author) "
        "VALUES (:id, :old, :new, :when, :note, :author)"),
        {"id": problem_id, "old": current, "new": new, "when": when, "note": note, "author": author})
