"""The demo's prevention side: référents and their towns, cameras, conventions, contracts, an audit request,
and a mayor who gets alerts.

Every record is fictitious (data/demo/README.md). Three steps of ``psq demo``:

- :func:`load_demo_referents` (before the accounts): the référents and correspondants of
  ``data/demo/referents-90.csv``, eight towns east of Belfort covered by nobody;
- :func:`link_demo_accounts` (with the accounts, before the synthetic occurrences): the demo
  référent's account tied to the record of the DDSP's référent (who covers Belfort), and the demo
  mayor of Belfort opted in to the alerts of two categories, rodéos one by one and stupéfiants in
  the daily digest; the synthetic import then writes his alerts for the last days' occurrences,
  as any import does (geo/alerts/outbox.py);
- :func:`load_demo_prevention` (last): the cameras of Belfort's centre, the conventions and the
  contracts, and Belfort's request for a video-protection study, assigned to its référent and not
  yet planned (planning it is the référent's first step in the demo).

Each step can run again: the loaders update, the request is made once.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.accounts.users import UserScope
from geo.alerts.subscriptions import subscribe
from geo.db.unit_of_work import transaction
from geo.referents.audits import create_request
from geo.referents.cameras import load_cameras
from geo.referents.conventions import load_contracts, load_conventions
from geo.referents.referents import load_referents
from geo.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "data" / "demo"
REFERENTS_FILE = DATA / "referents-90.csv"
CAMERAS_FILE = DATA / "cameras-belfort.csv"
CONVENTIONS_FILE = DATA / "conventions-90.csv"
CONTRACTS_FILE = DATA / "contracts-90.csv"
CAMERAS_SOURCE = "demo"
DEMO_REFERENT = ("referent@demo.psq.fr", "Commandant Laurent Morel")
DEMO_MAYOR = "maire.belfort@demo.psq.fr"
#: The demo mayor's opt-ins: category -> in the daily digest.
DEMO_ALERTS = {"rodeos": False, "stupefiants": True}
REQUEST = {"commune": "90010", "kind": "videoprotection_voie_publique",
           "site": "Square du centre-ville, parvis de la gare et rue commerçante du marché",
           "need": "Rassemblements et consommation d'alcool sur la voie publique autour du square et de la gare, "
                   "signalés au GPO : la ville veut savoir ce que couvrent ses caméras et où en ajouter."}
#: How long before the demo's last day Belfort asked.
REQUEST_AGE = dt.timedelta(days=24)


def load_demo_referents(engine: Engine) -> list[str]:
    """The demo's référents and correspondants sûreté, and the towns each covers."""
    return load_referents(engine, REFERENTS_FILE).lines()


def link_demo_accounts(engine: Engine) -> list[str]:
    """The demo référent's record, and the demo mayor's opt-ins to alerts."""
    email, name = DEMO_REFERENT
    with transaction(engine) as conn:
        conn.execute(sa.text(
            "INSERT INTO user_referent (user_id, referent_id) SELECT u.id, r.id FROM app_user u, referent r "
            "WHERE u.email = :e AND r.name = :n "
            "ON CONFLICT (user_id) DO UPDATE SET referent_id = excluded.referent_id"), {"e": email, "n": name})
        mayor = conn.execute(sa.text("SELECT id FROM app_user WHERE email = :e"), {"e": DEMO_MAYOR}).scalar_one()
        subscribe(conn, mayor, DEMO_ALERTS)
    return [f"  {email} is the record of {name}; {DEMO_MAYOR} gets the alerts of "
            + ", ".join(f"{code} ({'daily digest' if digest else 'one by one'})" for code, digest in DEMO_ALERTS.items())]


def load_demo_prevention(engine: Engine, end: dt.date) -> list[str]:
    """The cameras, conventions, contracts and Belfort's request for a video-protection study."""
    lines = load_cameras(engine, CAMERAS_FILE, source=CAMERAS_SOURCE).lines()
    lines += load_conventions(engine, CONVENTIONS_FILE).lines()
    lines += load_contracts(engine, CONTRACTS_FILE).lines()
    with transaction(engine) as conn:
        asked = conn.execute(sa.text("SELECT id FROM audit_request WHERE commune_insee = :c AND kind = :k"),
                             {"c": REQUEST["commune"], "k": REQUEST["kind"]}).scalar()
        if asked is None:
            asked = create_request(conn, UserScope("admin"), requested_on=end - REQUEST_AGE, today=end, **REQUEST)
    return lines + [f"Audit request n° {asked}: Belfort, video-protection of public space (assigned, not planned)."]


__all__ = ["link_demo_accounts", "load_demo_prevention", "load_demo_referents"]
