"""Views computed once and kept in PostgreSQL for every web worker, until the data they show change.

A *view* is what a page computes from the data for one set of parameters (the sector
page's statistics and map for a sector, a period, a category and a user's scope).
:func:`kept` returns the stored content of a view, or computes it, stores it and
returns it. The key is the SHA-256 of the view's kind, its parameters and the current
``data_version`` counters (migration 0007): any write to occurrences, problems, zones or
the territory changes the counters, so a view computed before it is never found again;
the next computation of a view of the same sector or commune deletes the stale ones, and
keeps at most ``KEPT_PER_PLACE`` of each kind.

Contents are JSON (strings, numbers, lists, dicts), never pickles: a row read back can
hold nothing but data. ``kept_view`` is under row-level security: a row is read and
written only under the scope it was computed under (migration 0007), and it is
attributed to a sector version or a commune, which the pruning and the foreign keys use.

Examples
--------
>>> from geo.db.unit_of_work import set_scope
>>> with engine.begin() as conn:
...     sector = conn.execute(sa.text(
...         "INSERT INTO csp (name) VALUES ('CSP Exemple') RETURNING id")).scalar()
...     sector = conn.execute(sa.text(
...         "INSERT INTO sector (csp_id, code, name, geom, valid_from) VALUES (:csp, 'S1', 'Un', "
...         "ST_Multi(ST_MakeEnvelope(0, 0, 10, 10, 2154)), '2024-01-01') RETURNING id"), {"csp": sector}).scalar()
>>> calls = []
>>> def compute():
...     calls.append(1)
...     return {"total": 3}
>>> with engine.begin() as conn:
...     set_scope(conn, "admin")
...     kept(conn, "example", {"sector": sector}, compute, sector_id=sector)
...     kept(conn, "example", {"sector": sector}, compute, sector_id=sector)
{'total': 3}
{'total': 3}
>>> len(calls)
1
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import transaction

#: Views kept per sector or commune and kind, newest first; older ones are deleted (a user choosing many
#: periods must not fill the disk).
KEPT_PER_PLACE = 32

_FIND = sa.text("SELECT content FROM kept_view WHERE key = :key")
_VERSIONS = sa.text("SELECT coalesce(jsonb_object_agg(name, version), '{}') FROM data_version")
_KEEP = sa.text("""
    INSERT INTO kept_view (key, kind, sector_id, commune_insee, versions, content)
    VALUES (:key, :kind, :sector_id, :commune, CAST(:versions AS jsonb), CAST(:content AS jsonb))
    ON CONFLICT (key) DO NOTHING
""")
# The views of the same place and kind computed under other data versions, and those beyond the newest
# KEPT_PER_PLACE. SKIP LOCKED: a row another request is deleting is left to it (no wait, no deadlock).
_PRUNE = sa.text("""
    WITH place AS (
        SELECT key, versions, row_number() OVER (ORDER BY kept_at DESC, key) AS rank
        FROM kept_view WHERE kind = :kind AND (sector_id = :sector_id OR commune_insee = :commune)
    )
    DELETE FROM kept_view WHERE key IN (
        SELECT k.key FROM kept_view k JOIN place USING (key)
        WHERE k.key <> :key AND (place.versions <> CAST(:versions AS jsonb) OR place.rank > :keep)
        FOR UPDATE OF k SKIP LOCKED)
""")


def view_key(kind: str, view: Mapping, versions: Mapping) -> str:
    """The key of a view: SHA-256 of its kind, its parameters and the data versions, as canonical JSON.

    >>> view_key("sector_map", {"sector": 1}, {"zones": 2}) == view_key("sector_map", {"sector": 1}, {"zones": 2})
    True
    >>> view_key("sector_map", {"sector": 1}, {"zones": 2}) == view_key("sector_map", {"sector": 1}, {"zones": 3})
    False
    """
    text = json.dumps({"kind": kind, "view": view, "versions": versions}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def kept(bind: Engine | Connection, kind: str, view: Mapping, compute: Callable[[], dict], *,
         sector_id: int | None = None, commune: str | None = None) -> dict:
    """The content of a view: the kept one if the data have not changed since, else ``compute()``, kept.

    Parameters
    ----------
    bind
        The request's connection (its scope set): what it cannot see, it cannot read or keep.
    kind
        What the view is (``"sector_map"``...).
    view
        Everything the content depends on besides the data: parameters, the user's scope,
        the settings that change the output. JSON-serialisable (dates as ISO text).
    compute
        Builds the content, a JSON-serialisable dict, when no kept one matches.
    sector_id, commune
        What the view is attributed to (exactly one): its stale versions are pruned by it, and
        deleting the sector version or the commune deletes it.
    """
    if (sector_id is None) == (commune is None):
        raise ValueError("A kept view is attributed to exactly one sector version or one commune.")
    with transaction(bind) as conn:
        versions = conn.execute(_VERSIONS).scalar()
        key = view_key(kind, view, versions)
        found = conn.execute(_FIND, {"key": key}).scalar()
    if found is not None:
        return found
    content = compute()
    row = {"kind": kind, "sector_id": sector_id, "commune": commune, "key": key, "versions": json.dumps(versions)}
    with transaction(bind) as conn:
        conn.execute(_KEEP, {**row, "content": json.dumps(content)})
        conn.execute(_PRUNE, {**row, "keep": KEPT_PER_PLACE})
    return content


__all__ = ["KEPT_PER_PLACE", "kept", "view_key"]
