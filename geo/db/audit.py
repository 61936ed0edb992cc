"""The audit log: one row per write, export and login attempt (who, when, what, from where).

``audit_log`` is append-only (migration 0004: a trigger refuses UPDATE and DELETE; the
app's role may only insert, migration 0011). Every statement writing a table of data adds
a ``write.*`` row by a trigger of its own (migration 0011); :func:`audit` adds the rows
that say what was meant (``user.create``, ``patrol_zone.create``, ``export.sectors``,
``db.dump``...), in the caller's transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection
from geo.errors import PsqError
from geo.settings import DAYS_ACCEPTED, LOCAL_TZ

#: Rows of the audit log shown per page.
PAGE_ROWS = 100
#: The longest text accepted in a filter (an address, an action, a target).
MAX_FILTER_CHARS = 200


def audit(conn: Connection, action: str, *, user_id: int | None = None, target: str | None = None,
          details: dict | None = None, ip: str | None = None) -> None:
    """Append one row to ``audit_log`` in the caller's transaction.

    ``action`` is a dotted verb (``user.create``, ``login.success``...), ``target``
    what it acted on (an email, ``problem:12``...), ``details`` anything JSON can hold
    (never a password).

    Examples
    --------
    >>> with engine.begin() as conn:
    ...     audit(conn, "export.sectors", target="csp:CSP Belfort", details={"format": "gpkg"}, ip="127.0.0.1")
    >>> with engine.connect() as conn:
    ...     conn.execute(sa.text("SELECT action, target, details FROM audit_log")).one()
    ('export.sectors', 'csp:CSP Belfort', {'format': 'gpkg'})
    """
    conn.execute(sa.text("INSERT INTO audit_log (user_id, action, target, details, ip) "
                         "VALUES (:u, :a, :t, CAST(:d AS jsonb), :ip)"),
                 {"u": user_id, "a": action, "t": target, "d": json.dumps(details or {}, default=str), "ip": ip})


class AuditQueryError(PsqError, ValueError):
    """A filter of the audit log given wrongly; the message is one French sentence naming it."""


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """What to read of the audit log: every field optional, all given ones must hold.

    ``action``: an action or its beginning (``login.``, ``write.``, ``export.``);
    ``user``: part of the e-mail of who did it; ``target``: part of what it acted on;
    ``ip``: the client's address, exactly; ``first``/``last``: local days, both included;
    ``before``: only rows older than this id (the next page).
    """

    action: str | None = None
    user: str | None = None
    target: str | None = None
    ip: str | None = None
    first: dt.date | None = None
    last: dt.date | None = None
    before: int | None = None

    @classmethod
    def parse(cls, args: dict) -> AuditFilter:
        """From the query string of the admin page (``action``, ``utilisateur``, ``cible``, ``ip``, ``du``,
        ``au``, ``avant``); a wrong value is refused in one sentence.

        >>> AuditFilter.parse({"action": "login.", "du": "2026-12-01", "avant": "40"})
        AuditFilter(action='login.', user=None, target=None, ip=None, first=datetime.date(2026, 12, 1), last=None, before=40)
        >>> AuditFilter.parse({"du": "2026-13-01"})
        Traceback (most recent call last):
        ...
        geo.db.audit.AuditQueryError: La date « du » = « 2026-13-01 » n'est pas une date valide (format attendu : AAAA-MM-JJ).
        """
        texts = {name: _text(args.get(key), key) for name, key in (
            ("action", "action"), ("user", "utilisateur"), ("target", "cible"), ("ip", "ip"))}
        return cls(**texts, first=_day(args.get("du"), "du"), last=_day(args.get("au"), "au"),
                   before=_row_id(args.get("avant")))


def _text(value: str | None, name: str) -> str | None:
    value = (value or "").strip()
    if len(value) > MAX_FILTER_CHARS:
        raise AuditQueryError(f"Le filtre « {name} » dépasse {MAX_FILTER_CHARS} caractères.")
    return value or None


def _day(value: str | None, name: str) -> dt.date | None:
    if not (value or "").strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise AuditQueryError(f"La date « {name} » = « {value} » n'est pas une date valide "
                              "(format attendu : AAAA-MM-JJ).") from None
    if not DAYS_ACCEPTED[0] <= day <= DAYS_ACCEPTED[1]:
        raise AuditQueryError(f"La date « {name} » est hors des années {DAYS_ACCEPTED[0].year} "
                              f"à {DAYS_ACCEPTED[1].year}.")
    return day


def _row_id(value: str | None) -> int | None:
    if not (value or "").strip():
        return None
    if not value.strip().isdigit() or int(value) > 2 ** 62:
        raise AuditQueryError(f"« avant » = « {value} » n'est pas un numéro de ligne du journal.")
    return int(value)


_READ = sa.text("""
    SELECT a.id, a.at, a.action, a.target, a.details, a.ip, u.email AS user_email
    FROM audit_log a LEFT JOIN app_user u ON u.id = a.user_id
    WHERE (CAST(:action AS text) IS NULL OR a.action LIKE replace(replace(:action, '%', '\\%'), '_', '\\_') || '%')
      AND (CAST(:user AS text) IS NULL OR strpos(u.email, lower(:user)) > 0)
      AND (CAST(:target AS text) IS NULL OR strpos(lower(a.target), lower(:target)) > 0)
      AND (CAST(:ip AS text) IS NULL OR a.ip = :ip)
      AND (CAST(:since AS timestamptz) IS NULL OR a.at >= :since)
      AND (CAST(:until AS timestamptz) IS NULL OR a.at < :until)
      AND (CAST(:before AS bigint) IS NULL OR a.id < :before)
    ORDER BY a.id DESC
    LIMIT :limit""")


def read_audit_log(bind: Engine | Connection, where: AuditFilter = AuditFilter(), limit: int = PAGE_ROWS) -> list[dict]:
    """The rows of the audit log that ``where`` selects, newest first, with the e-mail of who acted.

    Through the app's role, only an admin's scope reads any row (row-level security).

    Examples
    --------
    >>> with engine.begin() as conn:
    ...     audit(conn, "login.failure", target="x@example.fr", ip="10.0.0.7")
    ...     audit(conn, "export.sectors", target="stdout")
    >>> [r["action"] for r in read_audit_log(engine, AuditFilter(action="login."))]
    ['login.failure']
    >>> [r["action"] for r in read_audit_log(engine, AuditFilter(ip="10.0.0.7"))]
    ['login.failure']
    """
    zone = ZoneInfo(LOCAL_TZ)
    since = dt.datetime.combine(where.first, dt.time(), zone) if where.first else None
    until = dt.datetime.combine(where.last + dt.timedelta(days=1), dt.time(), zone) if where.last else None
    with connection(bind) as conn:
        rows = conn.execute(_READ, {"action": where.action, "user": where.user, "target": where.target,
                                    "ip": where.ip, "since": since, "until": until, "before": where.before,
                                    "limit": limit}).mappings().all()
    return [dict(r) for r in rows]


__all__ = ["PAGE_ROWS", "AuditFilter", "AuditQueryError", "audit", "read_audit_log"]
