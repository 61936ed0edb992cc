"""A GPO's meetings and actions: what was decided, by whom, for when, and where it stands.

A meeting records its date, the organisations present, the problems reviewed (each with
its agenda line as it stood: rank, score and factors) and its decisions. An action has a
kind (labels.ACTION_KINDS), the partner organisation that carries it, a named owner, a
due date and a status whose every change is dated and signed (``action_status_change``).
An open action (prévue, en cours) past its due date is overdue.

Every read and write is clipped to the user's scope in SQL (the GPO must be his,
:func:`geo.gpo.groups.get_gpo`; a partner reaches only his organisation's actions), and
the row-level security of migration 0012 is the second lock.

Examples
--------
>>> transition_error("prevue", "faite") is None, transition_error("faite", "prevue")
(True, "Une action faite ne peut passer qu'à : en cours.")
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection, transaction
from geo.errors import NotFound, PsqError
from geo.gpo.groups import Gpo, get_gpo, scope_params, visible_gpo_sql
from geo.gpo.labels import ACTION_KINDS, ACTION_STATUSES, OPEN_ACTION_STATUSES
from geo.problems import status as problem_lifecycle
from geo.settings import local_today

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope

#: status -> the statuses an action may go to (a done action may be reopened: en cours).
ACTION_TRANSITIONS = {
    "prevue": ("en_cours", "faite", "abandonnee"),
    "en_cours": ("faite", "abandonnee", "prevue"),
    "faite": ("en_cours",),
    "abandonnee": ("prevue",),
}

#: Longest text of a decision, description or owner (a meeting's minutes are not a book).
MAX_TEXT = 4000


class MeetingError(PsqError, ValueError):
    """A meeting or an action refused (one sentence in French, naming the field)."""


@dataclasses.dataclass(frozen=True)
class Action:
    id: int
    gpo_id: int
    gpo_name: str
    meeting_id: int | None
    problem_id: int | None
    problem_title: str | None
    kind: str
    description: str | None
    organisation_id: int
    organisation: str
    owner: str
    due_on: dt.date
    status: str
    done_on: dt.date | None

    @property
    def kind_label(self) -> str:
        return ACTION_KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return ACTION_STATUSES[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    def overdue_on(self, today: dt.date) -> bool:
        """Still open after its due date."""
        return self.is_open and self.due_on < today

    def next_statuses(self) -> tuple[str, ...]:
        return ACTION_TRANSITIONS[self.status]


@dataclasses.dataclass(frozen=True)
class ReviewedProblem:
    problem_id: int
    title: str
    rank: int | None
    score: float | None
    factors: dict
    decision: str | None


@dataclasses.dataclass(frozen=True)
class Meeting:
    id: int
    gpo_id: int
    held_on: dt.date
    decisions: str | None
    attendees: tuple[str, ...]
    reviewed: tuple[ReviewedProblem, ...]


def transition_error(current: str, new: str) -> str | None:
    """Why an action may not go from ``current`` to ``new`` (French), or None."""
    if new not in ACTION_STATUSES:
        return f"Statut d'action inconnu « {new} » : {', '.join(ACTION_STATUSES)}."
    if new == current or new in ACTION_TRANSITIONS[current]:
        return None
    allowed = ", ".join(ACTION_STATUSES[s].lower() for s in ACTION_TRANSITIONS[current])
    return f"Une action {ACTION_STATUSES[current].lower()} ne peut passer qu'à : {allowed}."


def _text(value: str | None, field: str, required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise MeetingError(f"Le champ « {field} » est obligatoire.")
    if len(value) > MAX_TEXT:
        raise MeetingError(f"Le champ « {field} » dépasse {MAX_TEXT} caractères.")
    return value or None


def _gpo_in_scope(conn: Connection, scope: UserScope, gpo_id: int) -> Gpo:
    gpo = get_gpo(conn, scope, gpo_id)
    if gpo is None:
        raise NotFound(f"Aucun GPO n° {gpo_id} dans votre périmètre.")
    return gpo


def _check_members(conn: Connection, gpo: Gpo, organisation_ids: Sequence[int], field: str) -> None:
    members = {m.id for m in gpo.members}
    strangers = [o for o in organisation_ids if o not in members]
    if strangers:
        raise MeetingError(f"« {field} » : l'organisation n° {strangers[0]} ne siège pas au GPO {gpo.name}.")


def check_gpo_problems(conn: Connection, gpo: Gpo, problem_ids: Sequence[int]) -> None:
    """Each problem is one the user sees (row-level security) and lies in one of the GPO's sectors."""
    if not problem_ids:
        return
    found = set(conn.execute(sa.text("""
        SELECT p.id FROM problem p JOIN sector s ON s.id = p.sector_id
        WHERE p.id = ANY (:ids) AND (s.csp_id || ':' || s.code) = ANY (:keys)"""),
        {"ids": list(problem_ids), "keys": list(gpo.sector_keys)}).scalars())
    missing = [p for p in problem_ids if p not in found]
    if missing:
        raise MeetingError(f"Le problème n° {missing[0]} n'est pas un problème du GPO {gpo.name}.")


def partner_problems(bind: Engine | Connection, scope: UserScope) -> list[dict]:
    """A partner's problems: raised by his organisation, or holding one of its actions (newest first)."""
    if scope.role != "partenaire" or scope.organisation_id is None:
        return []
    with connection(bind) as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT p.id, p.title, p.category_code, p.status, p.reported_on FROM problem p "
            "WHERE p.organisation_id = :o OR p.id IN (SELECT problem_id FROM gpo_action WHERE organisation_id = :o) "
            "ORDER BY p.reported_on DESC, p.id"), {"o": scope.organisation_id}).mappings()]


def change_problem_status(bind: Engine | Connection, gpo: Gpo, problem_id: int, new: str, *,
                          note: str | None = None, author: str | None = None) -> None:
    """Move a problem of the GPO to ``new``, signed in its status trail; refused in French otherwise."""
    note = _text(note, "note")
    with transaction(bind) as conn:
        check_gpo_problems(conn, gpo, [problem_id])
        labels = problem_lifecycle.LABELS
        if new not in labels:
            raise MeetingError(f"Statut de problème inconnu « {new} » : {', '.join(labels.values())}.")
        current = conn.execute(sa.text("SELECT status FROM problem WHERE id = :id"), {"id": problem_id}).scalar_one()
        if problem_lifecycle.transition_error(current, new):
            raise MeetingError(f"Le problème n° {problem_id} ne peut passer de « {labels[current]} » "
                               f"à « {labels[new]} ».")
        problem_lifecycle.change_status(conn, problem_id, new, note=note, author=author)


# -- meetings ------------------------------------------------------------------------------------
def record_meeting(bind: Engine | Connection, scope: UserScope, gpo_id: int, held_on: dt.date, *,
                   attendees: Sequence[int] = (), decisions: str | None = None,
                   reviewed: Sequence[dict] = (), user_id: int | None = None, today: dt.date | None = None) -> int:
    """Record a meeting held on ``held_on`` (not in the future); its id.

    ``reviewed``: dicts with ``problem_id`` and optionally ``rank``, ``score``, ``factors``
    (the agenda line, kept as it stood) and ``decision``. Raises MeetingError (400) or
    NotFound (404, a GPO outside the scope); nothing is written then.
    """
    today = today or local_today()
    if held_on > today:
        raise MeetingError(f"Date de réunion {held_on:%d/%m/%Y} : une réunion se consigne le jour même ou après.")
    decisions = _text(decisions, "décisions")
    with transaction(bind) as conn:
        gpo = _gpo_in_scope(conn, scope, gpo_id)
        _check_members(conn, gpo, attendees, "présents")
        check_gpo_problems(conn, gpo, [r["problem_id"] for r in reviewed])
        if conn.execute(sa.text("SELECT 1 FROM meeting WHERE gpo_id = :g AND held_on = :d"),
                        {"g": gpo_id, "d": held_on}).first():
            raise MeetingError(f"Le GPO {gpo.name} a déjà une réunion le {held_on:%d/%m/%Y}.", status=409)
        meeting_id = conn.execute(sa.text(
            "INSERT INTO meeting (gpo_id, held_on, decisions, recorded_by) VALUES (:g, :d, :t, :u) RETURNING id"),
            {"g": gpo_id, "d": held_on, "t": decisions, "u": user_id}).scalar_one()
        if attendees:
            conn.execute(sa.text("INSERT INTO meeting_attendee (meeting_id, organisation_id) VALUES (:m, :o)"),
                         [{"m": meeting_id, "o": o} for o in dict.fromkeys(attendees)])
        if reviewed:
            conn.execute(sa.text(
                "INSERT INTO meeting_problem (meeting_id, problem_id, rank, score, factors, decision) "
                "VALUES (:m, :p, :rank, :score, CAST(:factors AS jsonb), :decision)"),
                [{"m": meeting_id, "p": r["problem_id"], "rank": r.get("rank"), "score": r.get("score"),
                  "factors": json.dumps(r.get("factors") or {}), "decision": _text(r.get("decision"), "décision")}
                 for r in reviewed])
    return meeting_id


def meetings(bind: Engine | Connection, scope: UserScope, gpo_id: int) -> list[Meeting]:
    """The meetings of a GPO of the scope, the latest first (empty for a GPO outside it)."""
    with connection(bind) as conn:
        if get_gpo(conn, scope, gpo_id) is None:
            return []
        rows = conn.execute(sa.text("""
            SELECT m.id, m.gpo_id, m.held_on, m.decisions,
                   ARRAY(SELECT o.name FROM meeting_attendee a JOIN organisation o ON o.id = a.organisation_id
                         WHERE a.meeting_id = m.id ORDER BY o.name) AS attendees,
                   COALESCE((SELECT json_agg(json_build_array(mp.problem_id, p.title, mp.rank, mp.score, mp.factors,
                                                              mp.decision) ORDER BY mp.rank NULLS LAST, mp.problem_id)
                             FROM meeting_problem mp JOIN problem p ON p.id = mp.problem_id
                             WHERE mp.meeting_id = m.id), '[]') AS reviewed
            FROM meeting m WHERE m.gpo_id = :g ORDER BY m.held_on DESC"""), {"g": gpo_id}).mappings().all()
    return [Meeting(r["id"], r["gpo_id"], r["held_on"], r["decisions"], tuple(r["attendees"]),
                    tuple(ReviewedProblem(*p) for p in r["reviewed"])) for r in rows]


# -- actions -------------------------------------------------------------------------------------
def add_action(bind: Engine | Connection, scope: UserScope, gpo_id: int, *, kind: str, organisation_id: int,
               owner: str, due_on: dt.date, problem_id: int | None = None, meeting_id: int | None = None,
               description: str | None = None, author: str | None = None) -> int:
    """Decide an action of a GPO of the scope; its id. Its first status is ``prevue``."""
    if kind not in ACTION_KINDS:
        raise MeetingError(f"Type d'action inconnu « {kind} » : {', '.join(ACTION_KINDS.values())}.")
    owner = _text(owner, "responsable", required=True)
    description = _text(description, "description")
    with transaction(bind) as conn:
        gpo = _gpo_in_scope(conn, scope, gpo_id)
        _check_members(conn, gpo, [organisation_id], "partenaire")
        if problem_id is not None:
            check_gpo_problems(conn, gpo, [problem_id])
        if meeting_id is not None and not conn.execute(
                sa.text("SELECT 1 FROM meeting WHERE id = :m AND gpo_id = :g"), {"m": meeting_id, "g": gpo_id}).first():
            raise MeetingError(f"La réunion n° {meeting_id} n'est pas une réunion du GPO {gpo.name}.")
        action_id = conn.execute(sa.text("""
            INSERT INTO gpo_action (gpo_id, meeting_id, problem_id, kind, description, organisation_id, owner, due_on)
            VALUES (:g, :m, :p, :k, :d, :o, :owner, :due) RETURNING id"""),
            {"g": gpo_id, "m": meeting_id, "p": problem_id, "k": kind, "d": description, "o": organisation_id,
             "owner": owner, "due": due_on}).scalar_one()
        conn.execute(sa.text("INSERT INTO action_status_change (action_id, from_status, to_status, author) "
                             "VALUES (:a, NULL, 'prevue', :author)"), {"a": action_id, "author": author})
    return action_id


def _action_scope_sql() -> str:
    """The SQL condition: action ``a`` (of GPO ``g``) is in the scope bound as by groups.scope_params."""
    return f"""(CASE WHEN CAST(:role AS text) = 'partenaire' THEN a.organisation_id = :organisation
                     ELSE {visible_gpo_sql("g")} END)"""


def actions(bind: Engine | Connection, scope: UserScope, *, gpo_id: int | None = None, problem_id: int | None = None,
            open_only: bool = False) -> list[Action]:
    """The actions the scope sees (a partner: his organisation's), by due date."""
    with connection(bind) as conn:
        rows = conn.execute(sa.text(f"""
            SELECT a.id, a.gpo_id, g.name AS gpo_name, a.meeting_id, a.problem_id, p.title, a.kind, a.description,
                   a.organisation_id, o.name AS organisation, a.owner, a.due_on, a.status, a.done_on
            FROM gpo_action a JOIN gpo g ON g.id = a.gpo_id JOIN organisation o ON o.id = a.organisation_id
            LEFT JOIN problem p ON p.id = a.problem_id
            WHERE {_action_scope_sql()}
              AND (CAST(:gpo_id AS integer) IS NULL OR a.gpo_id = :gpo_id)
              AND (CAST(:problem_id AS integer) IS NULL OR a.problem_id = :problem_id)
              AND (NOT CAST(:open_only AS boolean) OR a.status = ANY (:open))
            ORDER BY a.due_on, a.id"""),
            {**scope_params(scope), "gpo_id": gpo_id, "problem_id": problem_id, "open_only": open_only,
             "open": list(OPEN_ACTION_STATUSES)}).all()
    return [Action(*r) for r in rows]


def can_update_action(bind: Engine | Connection, scope: UserScope, action_id: int) -> bool:
    """Whether the scope may change this action's status: admin; the chief of its GPO; its organisation's partner."""
    if scope.role not in ("admin", "chef_secteur", "partenaire"):
        return False
    return any(a.id == action_id for a in _one_action(bind, scope, action_id))


def _one_action(bind, scope, action_id) -> list[Action]:
    with connection(bind) as conn:
        rows = conn.execute(sa.text(f"""
            SELECT a.id, a.gpo_id, g.name, a.meeting_id, a.problem_id, p.title, a.kind, a.description,
                   a.organisation_id, o.name, a.owner, a.due_on, a.status, a.done_on
            FROM gpo_action a JOIN gpo g ON g.id = a.gpo_id JOIN organisation o ON o.id = a.organisation_id
            LEFT JOIN problem p ON p.id = a.problem_id
            WHERE a.id = :id AND {_action_scope_sql()}"""), {**scope_params(scope), "id": action_id}).all()
    return [Action(*r) for r in rows]


def change_action_status(bind: Engine | Connection, scope: UserScope, action_id: int, new: str, *,
                         author: str | None = None, today: dt.date | None = None) -> Action:
    """Move an action to ``new`` and record the dated, signed change; the action as it is now.

    A done action gets today's date as ``done_on``; reopened, it loses it. Raises NotFound for
    an action outside the scope, MeetingError for a change the lifecycle refuses.
    """
    today = today or local_today()
    with transaction(bind) as conn:
        found = _one_action(conn, scope, action_id)
        if not found or not can_update_action(conn, scope, action_id):
            raise NotFound(f"Aucune action n° {action_id} dans votre périmètre.")
        current = conn.execute(sa.text("SELECT status FROM gpo_action WHERE id = :id FOR UPDATE"),
                               {"id": action_id}).scalar_one()
        reason = transition_error(current, new)
        if reason:
            raise MeetingError(reason)
        if new != current:
            conn.execute(sa.text("UPDATE gpo_action SET status = :s, done_on = :done WHERE id = :id"),
                         {"s": new, "done": today if new == "faite" else None, "id": action_id})
            conn.execute(sa.text("INSERT INTO action_status_change (action_id, from_status, to_status, author) "
                                 "VALUES (:a, :f, :t, :author)"),
                         {"a": action_id, "f": current, "t": new, "author": author})
        return _one_action(conn, scope, action_id)[0]


def action_trail(bind: Engine | Connection, scope: UserScope, action_id: int) -> list[tuple[dt.datetime, str | None,
                                                                                             str, str | None]]:
    """(when, from, to, who) of each status change of an action of the scope, oldest first."""
    if not _one_action(bind, scope, action_id):
        return []
    with connection(bind) as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT changed_at, from_status, to_status, author FROM action_status_change WHERE action_id = :a "
            "ORDER BY changed_at, id"), {"a": action_id})]


__all__ = ["ACTION_TRANSITIONS", "Action", "Meeting", "MeetingError", "ReviewedProblem", "action_trail", "actions",
           "add_action", "can_update_action", "change_action_status", "change_problem_status", "check_gpo_problems",
           "meetings", "partner_problems", "record_meeting", "transition_error"]
