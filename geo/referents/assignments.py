"""Who covers which town: the table ``referent_commune`` (one référent per commune).

Read by the access policy (``study.request``), the audit requests and the coverage map alike.

Examples
--------
>>> from geo.accounts.users import UserScope
>>> covers(engine, UserScope("admin"), "90010"), covers(engine, UserScope("referent"), "90010")
(True, False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope


def covered_communes(bind: Engine | Connection, referent_id: int | None) -> list[str]:
    """INSEE codes of the towns a référent covers (none for no record)."""
    if referent_id is None:
        return []
    with connection(bind) as conn:
        return list(conn.execute(sa.text(
            "SELECT commune_insee FROM referent_commune WHERE referent_id = :r ORDER BY commune_insee"),
            {"r": referent_id}).scalars())


def covers(bind: Engine | Connection, scope: UserScope, insee: str) -> bool:
    """Whether the user acts for that town as its référent: admin always; a référent, the towns of his record."""
    if scope.role == "admin":
        return True
    return scope.role == "referent" and insee in covered_communes(bind, scope.referent_id)


__all__ = ["covered_communes", "covers"]
