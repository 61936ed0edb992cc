"""The outbox of the alerts to mayors: one row per (occurrence, mayor), written by the import that recorded it.

:func:`enqueue_for_batch` runs inside the import's transaction (``write_occurrences``):
the alerts exist if and only if the occurrences do, whatever happens to the import
afterwards (a rollback takes both). The worker (geo/alerts/worker.py) delivers the
pending rows; a row, not a job of the queue, is what says an alert is due, so a job
lost or a worker killed loses nothing (its periodic sweep finds the row again).

Only news is alerted: an occurrence older than ``MAX_AGE`` when it is imported (a
year of history loaded at once, the demo's synthetic data) gives no alert.

:func:`list_alerts` is what ``/alertes`` and ``psq alerts list`` show, clipped in SQL to
the user (a mayor: his own rows; admin: every row); the row-level security of
migration 0013 says the same a second time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection
from geo.formats import moment, number

if TYPE_CHECKING:  # geo.accounts reads geo.gpo, which reads geo.ingest, which writes the outbox: no import circle
    from geo.accounts.users import UserScope

#: An occurrence older than this when imported is history, not news: no alert.
MAX_AGE = dt.timedelta(days=7)
#: The longest last error kept on a row (the page and the command line show it).
ERROR_LENGTH = 300

_ENQUEUE = sa.text("""
    INSERT INTO alert_outbox (user_id, occurrence_id, commune_insee, category_code, occurred_at, digest)
    SELECT u.id, o.id, o.commune_insee, o.category_code, o.occurred_at, s.digest
    FROM occurrence o
    JOIN user_commune uc ON uc.insee = o.commune_insee
    JOIN app_user u ON u.id = uc.user_id AND u.role = 'maire' AND u.active
    JOIN alert_subscription s ON s.user_id = u.id AND s.category_code = o.category_code
    WHERE o.import_id = :batch AND o.occurred_at >= now() - CAST(:max_age AS interval)
    ON CONFLICT (occurrence_id, user_id) DO NOTHING""")


def enqueue_for_batch(conn: Connection, batch_id: int) -> int:
    """Write an outbox row for each new occurrence of import ``batch_id`` and each active mayor of its commune
    subscribed to its category; returns how many. Call it in the import's transaction, after the occurrences.

    One set-based statement whatever the batch's size; an occurrence already alerted to a mayor is not again.
    """
    return conn.execute(_ENQUEUE, {"batch": batch_id, "max_age": f"{int(MAX_AGE.total_seconds())} seconds"}).rowcount


@dataclasses.dataclass(frozen=True)
class AlertRow:
    """An alert as the page lists it: what, where, when (local), to whom, and how its delivery went."""

    id: int
    user_email: str
    category_code: str
    category_label: str
    commune_insee: str
    commune_name: str
    occurred_at: dt.datetime
    digest: bool
    status: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None

    @property
    def when(self) -> str:
        """The occurrence's local date and time, ``jj/mm/aaaa hh:mm:ss``."""
        return moment(self.occurred_at)

    @property
    def status_text(self) -> str:
        """The delivery in French: « envoyée le … » or « en attente (n essais, dernière erreur : …) »."""
        return status_text(self.status, self.attempts, self.last_error, self.sent_at)


def status_text(status: str, attempts: int, last_error: str | None, sent_at: dt.datetime | None) -> str:
    """A delivery's state in French.

    >>> status_text("pending", 0, None, None)
    'en attente'
    >>> status_text("pending", 2, "451 try later", None)
    'en attente (2 essais, dernière erreur : 451 try later)'
    >>> status_text("sent", 1, None, dt.datetime(2026, 12, 3, 13, 5, tzinfo=dt.timezone.utc))
    'envoyée le 03/12/2026 14:05:00'
    """
    if status == "sent":
        return f"envoyée le {moment(sent_at)}"
    if not attempts:
        return "en attente"
    tries = f"{number(attempts)} essai{'s' if attempts > 1 else ''}"
    return f"en attente ({tries}" + (f", dernière erreur : {last_error})" if last_error else ")")


_LIST = """
    SELECT a.id, u.email AS user_email, a.category_code, coalesce(c.label, a.category_code) AS category_label,
           a.commune_insee, coalesce(m.name, a.commune_insee) AS commune_name, a.occurred_at, a.digest, a.status,
           a.attempts, a.last_error, a.created_at, a.sent_at
    FROM alert_outbox a
    JOIN app_user u ON u.id = a.user_id
    LEFT JOIN category c ON c.code = a.category_code
    LEFT JOIN commune m ON m.insee = a.commune_insee
    WHERE (CAST(:everyone AS boolean) OR a.user_id = :user_id)
      AND (NOT CAST(:pending AS boolean) OR a.status = 'pending')
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT :limit"""


def list_alerts(bind: Engine | Connection, scope: UserScope, user_id: int | None, *, pending: bool = False,
                limit: int = 200) -> list[AlertRow]:
    """The alerts ``scope`` may see, newest occurrence first: a mayor his own (``user_id``), admin every one,
    anyone else none. ``pending``: only those not sent yet."""
    if scope.role not in ("admin", "maire") or (scope.role == "maire" and user_id is None):
        return []
    params = {"everyone": scope.role == "admin", "user_id": user_id, "pending": pending, "limit": limit}
    with connection(bind) as conn:
        return [AlertRow(**r) for r in conn.execute(sa.text(_LIST), params).mappings()]


__all__ = ["ERROR_LENGTH", "MAX_AGE", "AlertRow", "enqueue_for_batch", "list_alerts", "status_text"]
