"""A mayor's opt-in to the alerts of his town, per category, immediate or in the daily digest.

Only a mayor (role ``maire``, with his commune) subscribes: the alerts are about his
town. :func:`subscribe` replaces the whole set of his opt-ins at once (what the form of
``/alertes`` sends, and ``psq alerts subscribe``); :func:`subscriptions` reads it back.

Examples
--------
>>> from geo.accounts.users import create_user
>>> from geo.ingest.communes import load_communes
>>> _ = load_communes(engine, "90")
>>> mayor = create_user(engine, "maire@belfort.fr", "maire", "un mot de passe long", commune="90010").user
>>> subscribe(engine, mayor.id, {"incivilites": False, "rodeos": True})
{'incivilites': False, 'rodeos': True}
>>> subscriptions(engine, mayor.id)
{'incivilites': False, 'rodeos': True}
>>> subscribe(engine, mayor.id, {"licornes": False})
Traceback (most recent call last):
...
geo.alerts.subscriptions.SubscriptionError: Catégorie inconnue : licornes.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection, transaction
from geo.errors import PsqError


class SubscriptionError(PsqError, ValueError):
    """An opt-in refused: an unknown category, or an account that is not an active mayor's (one French sentence)."""


def subscribe(bind: Engine | Connection, user_id: int, categories: Mapping[str, bool]) -> dict[str, bool]:
    """Replace the opt-ins of the mayor ``user_id`` by ``categories`` (category code -> True: in the daily digest,
    False: one message per occurrence); an empty mapping ends every opt-in. Returns the opt-ins now in force.

    Raises :class:`SubscriptionError` (nothing changed) for an unknown category or an account that is not an
    active mayor's with a commune.
    """
    wanted = {str(code): bool(digest) for code, digest in categories.items()}
    with transaction(bind) as conn:
        _check_mayor(conn, user_id)
        known = set(conn.execute(sa.text("SELECT code FROM category")).scalars())
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise SubscriptionError(f"Catégorie inconnue : {', '.join(unknown)}.")
        conn.execute(sa.text("DELETE FROM alert_subscription WHERE user_id = :u AND NOT (category_code = ANY(:codes))"),
                     {"u": user_id, "codes": list(wanted)})
        if wanted:
            conn.execute(sa.text(
                "INSERT INTO alert_subscription (user_id, category_code, digest) "
                "SELECT :u, code, digest FROM unnest(CAST(:codes AS text[]), CAST(:digests AS boolean[])) "
                "AS w (code, digest) ON CONFLICT (user_id, category_code) DO UPDATE SET digest = excluded.digest "
                "WHERE alert_subscription.digest IS DISTINCT FROM excluded.digest"),
                {"u": user_id, "codes": list(wanted), "digests": list(wanted.values())})
        return subscriptions(conn, user_id)


def subscriptions(bind: Engine | Connection, user_id: int) -> dict[str, bool]:
    """The opt-ins of ``user_id``: category code -> digest (True) or immediate (False), by code."""
    with connection(bind) as conn:
        rows = conn.execute(sa.text("SELECT category_code, digest FROM alert_subscription WHERE user_id = :u "
                                    "ORDER BY category_code"), {"u": user_id})
        return {code: digest for code, digest in rows}


def category_choices(bind: Engine | Connection) -> list[tuple[str, str]]:
    """(code, French label) of every category one may subscribe to, by label."""
    with connection(bind) as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT code, label FROM category ORDER BY label, code"))]


def _check_mayor(conn: Connection, user_id: int) -> None:
    row = conn.execute(sa.text(
        "SELECT u.role, u.active, (SELECT min(insee) FROM user_commune c WHERE c.user_id = u.id) AS insee "
        "FROM app_user u WHERE u.id = :u"), {"u": user_id}).one_or_none()
    if row is None:
        raise SubscriptionError(f"Aucun compte n° {user_id}.", status=404)
    if row.role != "maire" or not row.active or row.insee is None:
        raise SubscriptionError("Les alertes sont réservées aux maires : ce compte n'est pas celui d'un maire "
                                "en fonction rattaché à sa commune.", status=403)


__all__ = ["SubscriptionError", "category_choices", "subscribe", "subscriptions"]
