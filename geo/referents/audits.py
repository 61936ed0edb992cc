"""Audit requests: a town's request for a security study, its référent, its dates and its report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope

#: Who sees a request, in SQL (request alias ``a``): admin; the référent it is assigned to or who covers the town;
#: the town's mayor. The same rule as the row-level security of migration 0013.
VISIBLE_REQUEST_SQL = """(
    :role = 'admin'
    OR (:role = 'referent' AND (a.referent_id = :referent
        OR a.commune_insee IN (SELECT rc.commune_insee FROM referent_commune rc WHERE rc.referent_id = :referent)))
    OR (:role = 'maire' AND a.commune_insee = :commune))"""


def scope_params(scope: UserScope) -> dict:
    """The parameters of :data:`VISIBLE_REQUEST_SQL`."""
    return {"role": scope.role, "referent": scope.referent_id if scope.role == "referent" else None,
            "commune": scope.commune_insee if scope.role == "maire" else None}


def can_see_request(bind: Engine | Connection, scope: UserScope, request_id: int) -> bool:
    """Whether the user may open the audit request ``request_id`` (False when it does not exist)."""
    with connection(bind) as conn:
        return conn.execute(sa.text(f"SELECT 1 FROM audit_request a WHERE a.id = :id AND {VISIBLE_REQUEST_SQL}"),
                            {"id": request_id, **scope_params(scope)}).first() is not None
