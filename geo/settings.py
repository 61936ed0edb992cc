"""The constants every package of geo/ shares (DESIGN.md sections 4 and 5).

One place for what would otherwise be written again in each module: where the
project's files are, the storage projection, the local time zone, the grid and the
clustering defaults, the tolerances of the loaders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

#: The clone's root: sql/, data/, web/static/ are found from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
DATA_DIR = PROJECT_ROOT / "data"
#: The days any date given by a user must fall in (query parameters, zone validity): outside, dates
#: are typos, and PostgreSQL's date arithmetic would overflow at the ends of the calendar.
DAYS_ACCEPTED = (dt.date(1990, 1, 1), dt.date(2100, 12, 31))
#: The base map ``psq demo`` builds (geo.territory.basemap), used by the app when no other is named.
DEMO_BASE_MAP = PROJECT_ROOT / ".psq" / "demo" / "fond-de-carte.pmtiles"

#: The roles of the web app's accounts (DESIGN.md section 4); the access policy says what each may do.
ROLES = ("admin", "chef_secteur", "referent", "maire", "partenaire")
#: Every geometry is stored in Lambert-93 (metres), metropolitan France and Corsica.
SRID = 2154
#: Days are local days: periods, months and weeks are those of Paris.
LOCAL_TZ = "Europe/Paris"

#: Side of a grid cell in metres, cells anchored at the Lambert-93 origin (i = floor(x / size)).
CELL_SIZE_M = 200.0
#: ST_ClusterDBSCAN defaults: neighbourhood radius (metres) and smallest cluster.
DBSCAN_EPS_M = 100.0
DBSCAN_MIN_POINTS = 10
#: Two versions of a sector are the same when they have the same name and every point
#: of each boundary lies within this distance of the other (Hausdorff distance, metres).
#: Rounding lon/lat to 6 or 7 decimals moves a vertex by 10 cm or 1 cm, a reprojection by
#: millimetres; an area tolerance cannot tell that from a change (a 30 km outline moved
#: by half a centimetre changes the area by 150 m²), a distance can.
SAME_BOUNDARY_M = 0.5
#: How long an import waits for its locks (PostgreSQL's lock_timeout) when a stronger lock is held (a
#: migration, a manual LOCK TABLE): then it stops, nothing written, rather than wait in the lock queue.
IMPORT_LOCK_TIMEOUT = "5s"


def local_today() -> dt.date:
    """Today in France, whatever the server's clock zone.

    Every default "today" (a version's start, the last full month, the end of an analysis) is this
    one, so that a load at 00:30 in Paris and the page read after it agree on the day.
    """
    return dt.datetime.now(ZoneInfo(LOCAL_TZ)).date()


def last_days(days: int = 365, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The ``days`` complete days ending yesterday: the default period of every page and command by days.

    Today is not over, so it is never in a default period (its count would read as a drop).

    >>> last_days(today=dt.date(2026, 12, 2))
    (datetime.date(2025, 12, 2), datetime.date(2026, 12, 1))
    """
    last = (today or local_today()) - dt.timedelta(days=1)
    return last - dt.timedelta(days=days - 1), last


# -- the GPO agenda (geo.gpo.agenda) -------------------------------------------------------------------
import math  # noqa: E402  (the block's own imports: geo.errors imports nothing of geo)
import os  # noqa: E402

from geo.errors import PsqError  # noqa: E402


class SettingError(PsqError, ValueError):
    """A setting written wrongly (one sentence in French naming it)."""


#: The factors of a problem's priority, in the order the agenda shows them.
AGENDA_FACTORS = ("recurrence", "trend", "hotspot", "severity", "sensitive", "age", "partners")
#: Their default weights: a problem's score is the sum of weight x normalised factor (each in [0, 1]).
#: Recurrence weighs most (what happens now, where the problem is); the time open and the partners least.
AGENDA_WEIGHTS = {"recurrence": 3.0, "trend": 1.5, "hotspot": 2.0, "severity": 2.0, "sensitive": 1.0, "age": 0.5,
                  "partners": 0.5}
#: The occurrences of a problem: those of its category within this distance of its place (metres).
AGENDA_RECURRENCE_BUFFER_M = 150.0
#: The sensitive places near a problem: within this distance of its place (metres).
AGENDA_SENSITIVE_DISTANCE_M = 200.0


def agenda_weights(text: str | None = None, *, setting: str = "PSQ_AGENDA_WEIGHTS") -> dict[str, float]:
    """The agenda's weights: the defaults, overridden by ``text`` (default: the PSQ_AGENDA_WEIGHTS variable).

    ``text`` is ``factor=number`` pairs separated by commas; a factor not named keeps its default.
    An unknown factor, a number that is not one, or a negative weight is refused in one sentence
    naming ``setting``.

    >>> agenda_weights("recurrence=1, age=0")["recurrence"], agenda_weights("age=0")["age"], agenda_weights("")["trend"]
    (1.0, 0.0, 1.5)
    >>> agenda_weights("recurrance=1")
    Traceback (most recent call last):
    ...
    geo.settings.SettingError: PSQ_AGENDA_WEIGHTS : « recurrance » n'est pas un facteur (facteurs : recurrence, trend, hotspot, severity, sensitive, age, partners).
    """
    text = os.environ.get("PSQ_AGENDA_WEIGHTS", "") if text is None else text
    pairs = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep:
            raise SettingError(f"{setting} : « {part} » s'écrit facteur=nombre, par exemple recurrence=3.")
        pairs[key] = value
    return checked_weights(pairs, setting=setting)


def checked_weights(weights: dict, *, setting: str) -> dict[str, float]:
    """The default weights overridden by ``weights`` (factor -> number), checked as :func:`agenda_weights` says."""
    merged = dict(AGENDA_WEIGHTS)
    for key, value in weights.items():
        if key not in AGENDA_WEIGHTS:
            raise SettingError(f"{setting} : « {key} » n'est pas un facteur (facteurs : {', '.join(AGENDA_FACTORS)}).")
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < 0:
            raise SettingError(f"{setting} : le poids de {key} « {value} » n'est pas un nombre positif ou nul.")
        merged[key] = number
    return merged


# -- alerts to mayors (geo.alerts) ---------------------------------------------------------------------
import dataclasses  # noqa: E402


@dataclasses.dataclass(frozen=True)
class AlertSettings:
    """How alerts leave: the SMTP server, the sender, the optional webhook, the links' base and the digest hour."""

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    sender: str = "psq@localhost"
    webhook: str | None = None
    base_url: str = "http://127.0.0.1:5000"
    digest_hour: int = 7


def alert_settings(environ: dict | None = None) -> AlertSettings:
    """The alert settings read from the environment (``environ``: another mapping, for the tests).

    A port or an hour that is not one is refused in one sentence naming the variable.

    >>> alert_settings({"PSQ_SMTP_HOST": "mail.example.fr", "PSQ_SMTP_STARTTLS": "1"}).smtp_starttls
    True
    >>> alert_settings({}).digest_hour, alert_settings({}).smtp_host is None
    (7, True)
    >>> alert_settings({"PSQ_ALERT_DIGEST_HOUR": "25"})
    Traceback (most recent call last):
    ...
    geo.settings.SettingError: PSQ_ALERT_DIGEST_HOUR : « 25 » n'est pas une heure de 0 à 23.
    """
    env = os.environ if environ is None else environ
    get = lambda name: (env.get(name) or "").strip() or None  # noqa: E731
    return AlertSettings(
        smtp_host=get("PSQ_SMTP_HOST"),
        smtp_port=_integer(get("PSQ_SMTP_PORT"), "PSQ_SMTP_PORT", 25, 1, 65535, "un port de 1 à 65535"),
        smtp_user=get("PSQ_SMTP_USER"),
        smtp_password=env.get("PSQ_SMTP_PASSWORD") or None,
        smtp_starttls=(get("PSQ_SMTP_STARTTLS") or "0").lower() in ("1", "true", "yes", "oui"),
        sender=get("PSQ_ALERT_FROM") or AlertSettings.sender,
        webhook=get("PSQ_ALERT_WEBHOOK"),
        base_url=(get("PSQ_ALERT_BASE_URL") or AlertSettings.base_url).rstrip("/"),
        digest_hour=_integer(get("PSQ_ALERT_DIGEST_HOUR"), "PSQ_ALERT_DIGEST_HOUR", 7, 0, 23, "une heure de 0 à 23"),
    )


def _integer(text: str | None, setting: str, default: int, low: int, high: int, what: str) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SettingError(f"{setting} : « {text} » n'est pas {what}.")
    return value
