"""Fixtures of the alert tests: a real SMTP server (aiosmtpd) that refuses then accepts, two mayors, imports."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import email.policy
import socket
from email.message import Message

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from geo.accounts.users import create_user
from geo.alerts.subscriptions import subscribe
from geo.ingest.occurrences import load_occurrences

SENDER = "alertes@psq.example.fr"


class Handler:
    """Refuses the first ``refuse`` messages with 451, keeps the others; ``delay``: seconds before answering."""

    def __init__(self):
        self.refuse = 0
        self.delay = 0.0
        self.received: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse > 0:
            self.refuse -= 1
            return "451 try later"
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), mail))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    """A local SMTP server the alert settings point at; yields its handler."""
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    for name, value in {"PSQ_SMTP_HOST": "127.0.0.1", "PSQ_SMTP_PORT": str(controller.port),
                        "PSQ_ALERT_FROM": SENDER, "PSQ_ALERT_BASE_URL": "https://psq.example.fr"}.items():
        monkeypatch.setenv(name, value)
    for name in ("PSQ_ALERT_WEBHOOK", "PSQ_SMTP_USER", "PSQ_SMTP_PASSWORD", "PSQ_SMTP_STARTTLS",
                 "PSQ_ALERT_DIGEST_HOUR"):
        monkeypatch.delenv(name, raising=False)
    yield handler
    controller.stop()


@pytest.fixture
def job_queue(engine):
    """procrastinate's tables emptied (the per-test TRUNCATE knows only the models' tables)."""

    def clear():
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
                                 "procrastinate_workers RESTART IDENTITY CASCADE"))

    clear()
    yield
    clear()


@dataclasses.dataclass
class Mayors:
    """Belfort's mayor and another town's, both alerted of ``rodeos``."""

    belfort: int
    other: int
    other_insee: str
    other_name: str


BELFORT_MAYOR = "maire.belfort@psq.test"
OTHER_MAYOR = "maire.autre@psq.test"


@pytest.fixture
def mayors(engine, territory) -> Mayors:
    with engine.connect() as conn:
        insee, name = conn.execute(sa.text(
            "SELECT insee, name FROM commune WHERE insee LIKE '90%' AND insee <> '90010' ORDER BY insee LIMIT 1")).one()
    belfort = create_user(engine, BELFORT_MAYOR, "maire", "mot de passe de test", commune="90010").user.id
    other = create_user(engine, OTHER_MAYOR, "maire", "mot de passe de test", commune=insee).user.id
    subscribe(engine, belfort, {"rodeos": False})
    subscribe(engine, other, {"rodeos": False})
    return Mayors(belfort, other, insee, name)


def point_in(engine, insee: str) -> tuple[float, float]:
    """(lat, lon) of a point inside a commune."""
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(
            "SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM commune "
            "WHERE insee = :i) q"), {"i": insee}).one())


def recent(hours: float = 2) -> str:
    """A local time ``hours`` ago, as an occurrence file writes it (Europe/Paris)."""
    from zoneinfo import ZoneInfo

    return (dt.datetime.now(ZoneInfo("Europe/Paris")) - dt.timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def write_csv(engine, path, rows: list[tuple[str, str, str, str]]):
    """An occurrence file of (id, category, commune INSEE, local time) rows, each at a point of its commune."""
    lines = ["id,category,lat,lon,occurred_at,description"]
    for ident, category, insee, when in rows:
        lat, lon = point_in(engine, insee)
        lines.append(f"{ident},{category},{lat:.6f},{lon:.6f},{when},Jean Dupont vu au 12 rue des Secrets")
    path.write_text("\n".join(lines) + "\n")
    return path


def import_rows(engine, tmp_path, rows, name="faits.csv"):
    return load_occurrences(engine, write_csv(engine, tmp_path / name, rows), source="main courante")


def outbox(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM alert_outbox ORDER BY id")).all()
