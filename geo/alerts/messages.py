"""The text of an alert and of a daily digest, in French, and their JSON for the webhook.

What a message says is kept minimal (police data): the category's label, the commune,
the local day and hour, and links to the commune's page and to the opt-ins. Never the
occurrence's description, address or exact place.

Examples
--------
>>> import datetime as dt
>>> item = Item(7, "rodeos", "Rodéos et deux-roues", "90010", "Belfort",
...             dt.datetime(2026, 12, 3, 13, 5, tzinfo=dt.timezone.utc))
>>> long_moment(item.occurred_at)
'le 3 décembre 2026 à 14 h 05'
>>> alert_subject(item)
'[PSQ] Rodéos et deux-roues à Belfort le 3 décembre 2026 à 14 h 05'
>>> message_id("alert", 7, "alertes@psq.example.fr")
'<psq-alert-7@psq.example.fr>'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from geo.formats import LOCALE, number
from geo.settings import LOCAL_TZ, AlertSettings


@dataclasses.dataclass(frozen=True)
class Item:
    """One alert of a message: its outbox id, category, commune and time."""

    id: int
    category_code: str
    category_label: str
    commune_insee: str
    commune_name: str
    occurred_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Message:
    """A message to one user: its stable id, recipient, subject, text, and the alerts it carries."""

    message_id: str
    to: str
    subject: str
    text: str
    items: tuple[Item, ...]

    def email(self, sender: str) -> EmailMessage:
        """The message as an e-mail (UTF-8 plain text) from ``sender``."""
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = sender, self.to, self.subject
        mail["Message-ID"] = self.message_id
        mail["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-reply loops
        mail.set_content(self.text)
        return mail

    def json(self, base_url: str) -> bytes:
        """The message as the webhook's JSON body."""
        return json.dumps({
            "message_id": self.message_id, "to": self.to, "subject": self.subject, "text": self.text,
            "alerts": [{"id": i.id, "category": i.category_code, "category_label": i.category_label,
                        "commune_insee": i.commune_insee, "commune": i.commune_name,
                        "occurred_at": i.occurred_at.isoformat(), "link": commune_link(base_url, i.commune_insee)}
                       for i in self.items],
        }, ensure_ascii=False).encode()


def long_moment(value: dt.datetime) -> str:
    """« le 3 décembre 2026 à 14 h 05 »: a time as a French sentence writes it, in France's local time."""
    local = value.astimezone(ZoneInfo(LOCAL_TZ))
    return f"le {long_day(local.date())} à {local.hour} h {local.minute:02d}"


def long_day(value: dt.date) -> str:
    """« 3 décembre 2026 » (Babel's French month names)."""
    return format_date(value, "d MMMM y", locale=LOCALE)


def message_id(kind: str, key: int | str, sender: str) -> str:
    """The Message-ID of an alert or a digest: the same at each attempt, so that a message sent twice (a crash
    between the server's acceptance and our commit) is recognisable as one."""
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    return f"<psq-{kind}-{key}@{domain}>"


def commune_link(base_url: str, insee: str) -> str:
    return f"{base_url}/commune/{insee}"


def alert_subject(item: Item) -> str:
    return f"[PSQ] {item.category_label} à {item.commune_name} {long_moment(item.occurred_at)}"


def alert_message(item: Item, to: str, settings: AlertSettings) -> Message:
    """The message of one alert."""
    text = (f"Bonjour,\n\nUn fait de la catégorie « {item.category_label} » a été enregistré à {item.commune_name} "
            f"{long_moment(item.occurred_at)}.\n\n"
            f"Les faits de votre commune : {commune_link(settings.base_url, item.commune_insee)}\n\n"
            + _footer(settings))
    return Message(message_id("alert", item.id, settings.sender), to, alert_subject(item), text, (item,))


def digest_message(items: list[Item], to: str, user_id: int, day: dt.date, settings: AlertSettings) -> Message:
    """The daily digest of ``day``: every alert of ``items`` (oldest first) in one message."""
    items = sorted(items, key=lambda i: (i.occurred_at, i.id))
    communes = dict.fromkeys(i.commune_name for i in items)
    count = f"{number(len(items))} fait{'s' if len(items) > 1 else ''}"
    subject = f"[PSQ] Résumé du {long_day(day)} : {count} à {', '.join(communes)}"
    lines = [f"- {i.category_label} à {i.commune_name} {long_moment(i.occurred_at)}" for i in items]
    links = dict.fromkeys(commune_link(settings.base_url, i.commune_insee) for i in items)
    text = (f"Bonjour,\n\nDepuis le résumé précédent, {count} des catégories que vous suivez "
            f"{'ont' if len(items) > 1 else 'a'} été enregistré{'s' if len(items) > 1 else ''} :\n\n"
            + "\n".join(lines) + "\n\nLes faits de votre commune : " + ", ".join(links) + "\n\n" + _footer(settings))
    return Message(message_id("digest", f"{user_id}-{day.isoformat()}", settings.sender), to, subject, text,
                   tuple(items))


def _footer(settings: AlertSettings) -> str:
    return (f"Vous recevez ce message parce que vous êtes abonné à ces alertes ; pour les changer : "
            f"{settings.base_url}/alertes\n\n-- \nPolice de sécurité du quotidien (message automatique)\n")


__all__ = ["Item", "Message", "alert_message", "alert_subject", "commune_link", "digest_message", "long_day",
           "long_moment", "message_id"]
