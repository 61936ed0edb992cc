"""Sending one alert, or one user's daily digest, by e-mail (SMTP) or to the webhook; never twice.

Each delivery is one transaction: the outbox row(s) are locked ``FOR UPDATE SKIP
LOCKED`` (a second worker on the same row skips it rather than wait and send again),
their status is read again under the lock (``pending``, or nothing to do), the message
is handed to the server, and the rows are marked sent before the commit. A failure
adds one to ``attempts``, keeps a short ``last_error``, commits that, and raises
:class:`DeliveryFailed`: the job library (geo/alerts/worker.py) retries it later.

The one window left is a crash between the server's acceptance and the commit: the
message would go again at the next attempt. It carries a Message-ID derived from the
alert's id (``<psq-alert-ID@domain>``, ``<psq-digest-USER-DAY@domain>``) and the
webhook's JSON the same ``message_id`` (and ``Idempotency-Key`` header), so that the
second copy is recognisable as the same message.

The channel: with ``PSQ_ALERT_WEBHOOK`` set, a JSON POST to that URL *instead of* the
e-mail (an SMS gateway or a messaging service takes the delivery over; one channel,
so that an alert is either delivered or retried, never half sent); otherwise an
e-mail through ``PSQ_SMTP_HOST``.

An alert goes only to an active mayor of its commune: if the account was closed or
moved since the import, the row stays pending, with the reason, and is not retried.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import urllib.request
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.alerts.messages import Item, Message, alert_message, digest_message
from geo.alerts.outbox import ERROR_LENGTH
from geo.errors import PsqError
from geo.settings import LOCAL_TZ, AlertSettings, alert_settings

#: How long a connection to the SMTP server or the webhook may take (seconds).
TIMEOUT_S = 30
#: Whether the recipient is still an active mayor of the alert's commune (the sweep tests the same).
RECIPIENT_OK = ("u.active AND u.role = 'maire' AND EXISTS (SELECT 1 FROM user_commune uc "
                "WHERE uc.user_id = u.id AND uc.insee = a.commune_insee)")
NOT_A_MAYOR = "le destinataire n'est plus maire de cette commune (compte fermé ou changé) : alerte non envoyée"

_LOCKED = f"""
    SELECT a.id, a.status, a.category_code, coalesce(c.label, a.category_code) AS category_label, a.commune_insee,
           coalesce(m.name, a.commune_insee) AS commune_name, a.occurred_at, u.email, {RECIPIENT_OK} AS recipient_ok
    FROM alert_outbox a
    JOIN app_user u ON u.id = a.user_id
    LEFT JOIN category c ON c.code = a.category_code
    LEFT JOIN commune m ON m.insee = a.commune_insee
    WHERE {{where}}
    ORDER BY a.id
    FOR UPDATE OF a SKIP LOCKED"""


class DeliveryFailed(PsqError):
    """A message the server or the webhook did not take; the outbox row keeps the reason, the job is retried."""


def digest_cutoff(day: dt.date, hour: int) -> dt.datetime:
    """The instant of the digest of ``day``: ``hour`` o'clock local time. It gathers the rows created before it.

    >>> digest_cutoff(dt.date(2026, 12, 3), 7).isoformat()
    '2026-12-03T07:00:00+01:00'
    """
    return dt.datetime.combine(day, dt.time(hour), ZoneInfo(LOCAL_TZ))


def deliver_alert(engine: Engine, alert_id: int, settings: AlertSettings | None = None) -> bool:
    """Send the immediate alert ``alert_id`` if it is still pending; True when it was sent now.

    False: nothing to do (already sent, unknown, a digest row, locked by another delivery right now, or its
    recipient no longer the commune's mayor). Raises :class:`DeliveryFailed` after recording the failure.
    """
    settings = settings or alert_settings()
    with engine.begin() as conn:
        rows = conn.execute(sa.text(_LOCKED.format(where="a.id = :id AND NOT a.digest")), {"id": alert_id}).all()
        rows = _deliverable(conn, [r for r in rows if r.status == "pending"])
        if not rows:
            return False
        row = rows[0]
        failure = _send(conn, alert_message(_item(row), row.email, settings), settings)
    if failure:  # raised once the failure is committed
        raise failure
    return True


def send_digest(engine: Engine, user_id: int, day: dt.date, settings: AlertSettings | None = None) -> int:
    """Send ``user_id``'s digest of ``day``: his pending digest alerts recorded before that day's digest hour, in one
    message. Returns how many alerts it carried (0: nothing to send). Raises :class:`DeliveryFailed`."""
    settings = settings or alert_settings()
    cutoff = digest_cutoff(day, settings.digest_hour)
    with engine.begin() as conn:
        rows = conn.execute(sa.text(_LOCKED.format(
            where="a.user_id = :user AND a.digest AND a.status = 'pending' AND a.created_at < :cutoff")),
            {"user": user_id, "cutoff": cutoff}).all()
        rows = _deliverable(conn, rows)
        if not rows:
            return 0
        message = digest_message([_item(r) for r in rows], rows[0].email, user_id, day, settings)
        failure = _send(conn, message, settings)
    if failure:
        raise failure
    return len(rows)


def _item(row) -> Item:
    return Item(row.id, row.category_code, row.category_label, row.commune_insee, row.commune_name, row.occurred_at)


def _deliverable(conn: Connection, rows: list) -> list:
    """The rows whose recipient may still read them; the others keep the reason (and are not retried)."""
    refused = [r.id for r in rows if not r.recipient_ok]
    if refused:
        conn.execute(sa.text("UPDATE alert_outbox SET last_error = :e WHERE id = ANY(:ids)"),
                     {"e": NOT_A_MAYOR, "ids": refused})
    return [r for r in rows if r.recipient_ok]


def _send(conn: Connection, message: Message, settings: AlertSettings) -> DeliveryFailed | None:
    """Hand ``message`` over and mark its rows sent; on a failure record it on the rows and return the error for the
    caller to raise after the commit (raising here would roll the record back)."""
    ids = [i.id for i in message.items]
    try:
        if settings.webhook:
            post_webhook(message, settings)
        else:
            send_mail(message, settings)
    except Exception as error:  # whatever failed, the rows must say so and the job must be retried
        reason = describe(error)
        conn.execute(sa.text("UPDATE alert_outbox SET attempts = attempts + 1, last_error = :e WHERE id = ANY(:ids)"),
                     {"e": reason, "ids": ids})
        failure = DeliveryFailed(f"{message.message_id}: {reason}")
        failure.__cause__ = error
        return failure
    conn.execute(sa.text("UPDATE alert_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, "
                         "last_error = NULL WHERE id = ANY(:ids)"), {"ids": ids})
    return None


def send_mail(message: Message, settings: AlertSettings) -> None:
    """Send ``message`` through the SMTP server of the settings (STARTTLS and login if configured)."""
    if not settings.smtp_host:
        raise DeliveryFailed("aucun canal d'envoi : définissez PSQ_SMTP_HOST (ou PSQ_ALERT_WEBHOOK)")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message.email(settings.sender))


def post_webhook(message: Message, settings: AlertSettings) -> None:
    """POST ``message`` as JSON to the webhook; any answer but 2xx is a failure."""
    request = urllib.request.Request(settings.webhook, data=message.json(settings.base_url), method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.message_id,
        "User-Agent": "psq-alerts"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # raises HTTPError on 4xx and 5xx
        answer.read()


def describe(error: BaseException) -> str:
    """A failure in one short line: an SMTP reply as ``451 try later``, anything else as its class and message.

    >>> describe(smtplib.SMTPDataError(451, b"try later"))
    '451 try later'
    >>> describe(ConnectionRefusedError(111, "Connection refused"))
    'ConnectionRefusedError: [Errno 111] Connection refused'
    """
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        line = f"{error.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        line = "; ".join(f"{to}: {code} {text.decode(errors='replace')}"
                         for to, (code, text) in error.recipients.items())
    elif isinstance(error, DeliveryFailed):
        line = str(error)
    else:
        line = f"{type(error).__name__}: {error}"
    line = " ".join(line.split())
    return line if len(line) <= ERROR_LENGTH else line[:ERROR_LENGTH - 1] + "…"


__all__ = ["DeliveryFailed", "deliver_alert", "describe", "digest_cutoff", "post_webhook", "send_digest", "send_mail"]
