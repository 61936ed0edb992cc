"""GPOs and their partner organisations: who sits where, which sectors, when the next meeting is.

A GPO is run for one sector (``kind='secteur'``) or for a theme over several sectors of a
CSP (``'thematique'``: a bus line, unaccompanied minors), optionally limited to some
categories. Its area on a day is the union of its sectors in force that day. Its rhythm
(every 15 days, i.e. every second week on the same weekday, or monthly on the same day
of the month) continues from its first meeting date and gives the next meeting's date.

Every read is clipped to the user's scope in SQL (:func:`visible_gpo_sql`), and the row-level
security of migration 0012 is the second lock.

Examples
--------
>>> next_meeting_on(dt.date(2026, 1, 6), "quinzaine", dt.date(2026, 1, 7))
datetime.date(2026, 1, 20)
>>> next_meeting_on(dt.date(2026, 1, 31), "mensuel", dt.date(2026, 2, 1))
datetime.date(2026, 2, 28)
>>> next_meeting_on(dt.date(2026, 3, 1), "mensuel", dt.date(2026, 1, 1))
datetime.date(2026, 3, 1)
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.analysis.scopes import area_on_day
from geo.db.unit_of_work import connection, transaction
from geo.errors import PsqError
from geo.gpo.labels import ORGANISATION_KINDS, RHYTHMS
from geo.problems.categories import categories as all_categories

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope


class GpoError(PsqError, ValueError):
    """A GPO, organisation or partner that cannot be written as asked (one sentence, in French)."""


@dataclasses.dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    kind: str

    @property
    def kind_label(self) -> str:
        return ORGANISATION_KINDS[self.kind]


@dataclasses.dataclass(frozen=True)
class Gpo:
    """A GPO as the pages show it: its sectors' codes, its members, its last and next meeting dates."""

    id: int
    csp_id: int
    csp_name: str
    name: str
    kind: str
    theme: str | None
    categories: tuple[str, ...] | None
    rhythm: str
    first_meeting_on: dt.date
    sector_codes: tuple[str, ...]
    members: tuple[Organisation, ...]
    last_meeting_on: dt.date | None

    @property
    def sector_keys(self) -> tuple[str, ...]:
        """``'csp_id:code'`` of its sectors, as the sector queries name them."""
        return tuple(f"{self.csp_id}:{code}" for code in self.sector_codes)

    @property
    def rhythm_label(self) -> str:
        return RHYTHMS[self.rhythm]

    def next_meeting_on(self, today: dt.date) -> dt.date:
        """The next date of the series on or after ``today``, and after the last meeting held."""
        after = today if self.last_meeting_on is None else max(today, self.last_meeting_on + dt.timedelta(days=1))
        return next_meeting_on(self.first_meeting_on, self.rhythm, after)


def next_meeting_on(first: dt.date, rhythm: str, on_or_after: dt.date) -> dt.date:
    """The first date of the series (``first``, then every 14 days or every month) on or after ``on_or_after``."""
    if on_or_after <= first:
        return first
    if rhythm == "quinzaine":
        steps = -(-(on_or_after - first).days // 14)
        return first + dt.timedelta(days=14 * steps)
    if rhythm != "mensuel":
        raise GpoError(f"Rythme inconnu « {rhythm} » : {', '.join(RHYTHMS)}.")
    months = (on_or_after.year - first.year) * 12 + on_or_after.month - first.month
    for k in (months, months + 1):
        candidate = _add_months(first, k)
        if candidate >= on_or_after:
            return candidate
    raise AssertionError("unreachable")


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- reading, clipped to the scope -----------------------------------------------------------------
def visible_gpo_sql(alias: str = "g") -> str:
    """The SQL condition: GPO ``alias`` is in the scope bound as :role, :keys, :organisation, :commune."""
    return f"""(CAST(:role AS text) IN ('admin', 'referent')
        OR (CAST(:role AS text) = 'chef_secteur' AND EXISTS (
            SELECT 1 FROM gpo_sector gs WHERE gs.gpo_id = {alias}.id
            AND (gs.csp_id || ':' || gs.sector_code) = ANY (CAST(:keys AS text[]))))
        OR (CAST(:role AS text) = 'partenaire' AND EXISTS (
            SELECT 1 FROM gpo_member m WHERE m.gpo_id = {alias}.id AND m.organisation_id = :organisation))
        OR (CAST(:role AS text) = 'maire' AND EXISTS (
            SELECT 1 FROM gpo_sector gs JOIN sector s ON s.csp_id = gs.csp_id AND s.code = gs.sector_code
            JOIN sector_cell sc ON sc.sector_id = s.id
            JOIN commune_cell cc ON cc.i = sc.i AND cc.j = sc.j AND cc.insee = CAST(:commune AS text)
            WHERE gs.gpo_id = {alias}.id AND s.valid_during @> CURRENT_DATE)))"""


def scope_params(scope: UserScope) -> dict:
    """The bind parameters of :func:`visible_gpo_sql` for a scope."""
    return {"role": scope.role, "keys": list(scope.sector_keys), "organisation": scope.organisation_id,
            "commune": scope.commune_insee}


def list_gpos(bind: Engine | Connection, scope: UserScope, gpo_id: int | None = None) -> list[Gpo]:
    """The GPOs of the scope, by CSP and name (``gpo_id``: that one only, if visible)."""
    with connection(bind) as conn:
        rows = conn.execute(sa.text(f"""
            SELECT g.id, g.csp_id, c.name AS csp_name, g.name, g.kind, g.theme, g.categories, g.rhythm,
                   g.first_meeting_on,
                   ARRAY(SELECT gs.sector_code FROM gpo_sector gs WHERE gs.gpo_id = g.id ORDER BY 1) AS codes,
                   COALESCE((SELECT json_agg(json_build_array(o.id, o.name, o.kind) ORDER BY o.name)
                             FROM gpo_member m JOIN organisation o ON o.id = m.organisation_id
                             WHERE m.gpo_id = g.id), '[]') AS members,
                   (SELECT max(held_on) FROM meeting mt WHERE mt.gpo_id = g.id) AS last_meeting_on
            FROM gpo g JOIN csp c ON c.id = g.csp_id
            WHERE {visible_gpo_sql()} AND (CAST(:gpo_id AS integer) IS NULL OR g.id = :gpo_id)
            ORDER BY c.name, g.kind DESC, g.name"""), {**scope_params(scope), "gpo_id": gpo_id}).mappings().all()
    return [Gpo(r["id"], r["csp_id"], r["csp_name"], r["name"], r["kind"], r["theme"],
                tuple(r["categories"]) if r["categories"] is not None else None, r["rhythm"],
                r["first_meeting_on"], tuple(r["codes"]), tuple(Organisation(*m) for m in r["members"]),
                r["last_meeting_on"]) for r in rows]


def get_gpo(bind: Engine | Connection, scope: UserScope, gpo_id: int) -> Gpo | None:
    """The GPO ``gpo_id`` if the scope sees it, else None."""
    found = list_gpos(bind, scope, gpo_id)
    return found[0] if found else None


def gpo_area(bind: Engine | Connection, gpo: Gpo, day: dt.date) -> shapely.MultiPolygon:
    """The union of the GPO's sectors in force on ``day`` (EPSG:2154; empty if none is)."""
    return area_on_day(bind, day, keys=gpo.sector_keys)


@dataclasses.dataclass(frozen=True)
class Contact:
    organisation_id: int
    name: str
    function: str | None
    email: str | None
    phone: str | None


def member_contacts(bind: Engine | Connection, gpo: Gpo) -> dict[int, list[Contact]]:
    """The contacts of the GPO's member organisations, by organisation id (row-level security keeps them to the
    user's GPOs and his own organisation)."""
    found: dict[int, list[Contact]] = {}
    with connection(bind) as conn:
        for row in conn.execute(sa.text(
                "SELECT organisation_id, name, function, email, phone FROM organisation_contact "
                "WHERE organisation_id = ANY (:ids) ORDER BY name, id"), {"ids": [m.id for m in gpo.members]}):
            found.setdefault(row[0], []).append(Contact(*row))
    return found


def organisations(bind: Engine | Connection) -> list[Organisation]:
    """Every partner organisation, by name."""
    with connection(bind) as conn:
        return [Organisation(*r) for r in conn.execute(sa.text("SELECT id, name, kind FROM organisation ORDER BY name"))]


# -- writing (the command line and the demo) ---------------------------------------------------------
def add_organisation(bind: Engine | Connection, name: str, kind: str, *, commune: str | None = None,
                     contacts: Iterable[dict] = ()) -> int:
    """Create a partner organisation (``kind``: a key of ORGANISATION_KINDS) with its contacts; its id.

    ``contacts``: dicts with ``name`` and optionally ``function``, ``email``, ``phone``.
    """
    if kind not in ORGANISATION_KINDS:
        raise GpoError(f"Type d'organisation inconnu « {kind} » : {', '.join(ORGANISATION_KINDS)}.")
    with transaction(bind) as conn:
        if conn.execute(sa.text("SELECT 1 FROM organisation WHERE lower(name) = lower(:n)"), {"n": name}).first():
            raise GpoError(f"L'organisation « {name} » existe déjà.")
        if commune and not conn.execute(sa.text("SELECT 1 FROM commune WHERE insee = :c"), {"c": commune}).first():
            raise GpoError(f"Aucune commune n'a le code INSEE {commune}.")
        org_id = conn.execute(sa.text(
            "INSERT INTO organisation (name, kind, commune_insee) VALUES (:n, :k, :c) RETURNING id"),
            {"n": name.strip(), "k": kind, "c": commune}).scalar_one()
        for contact in contacts:
            conn.execute(sa.text(
                "INSERT INTO organisation_contact (organisation_id, name, function, email, phone) "
                "VALUES (:o, :name, :function, :email, :phone)"),
                {"o": org_id, "function": None, "email": None, "phone": None, **contact})
    return org_id


def add_gpo(bind: Engine | Connection, *, csp_id: int, name: str, sector_codes: Sequence[str], rhythm: str,
            first_meeting_on: dt.date, members: Sequence[int] = (), theme: str | None = None,
            categories: Sequence[str] | None = None) -> int:
    """Create a GPO over ``sector_codes`` of the CSP (one code: a sector's GPO; several: thematic); its id."""
    if rhythm not in RHYTHMS:
        raise GpoError(f"Rythme inconnu « {rhythm} » : {', '.join(RHYTHMS)}.")
    if not sector_codes:
        raise GpoError("Un GPO couvre au moins un secteur.")
    kind = "secteur" if len(sector_codes) == 1 and theme is None else "thematique"
    unknown = sorted(set(categories or ()) - {c.code for c in all_categories()})
    if unknown:
        raise GpoError(f"Catégorie inconnue : {', '.join(unknown)}.")
    with transaction(bind) as conn:
        known = set(conn.execute(sa.text("SELECT DISTINCT code FROM sector WHERE csp_id = :c"), {"c": csp_id}).scalars())
        unknown = [c for c in sector_codes if c not in known]
        if unknown:
            raise GpoError(f"Secteur inconnu dans cette circonscription : {', '.join(unknown)}.")
        gpo_id = conn.execute(sa.text(
            "INSERT INTO gpo (csp_id, name, kind, theme, categories, rhythm, first_meeting_on) "
            "VALUES (:c, :n, :k, :t, :cats, :r, :f) RETURNING id"),
            {"c": csp_id, "n": name, "k": kind, "t": theme, "cats": list(categories) if categories else None,
             "r": rhythm, "f": first_meeting_on}).scalar_one()
        conn.execute(sa.text("INSERT INTO gpo_sector (gpo_id, csp_id, sector_code) VALUES (:g, :c, :s)"),
                     [{"g": gpo_id, "c": csp_id, "s": code} for code in sector_codes])
        if members:
            conn.execute(sa.text("INSERT INTO gpo_member (gpo_id, organisation_id) VALUES (:g, :o)"),
                         [{"g": gpo_id, "o": org} for org in members])
    return gpo_id


__all__ = ["Contact", "Gpo", "GpoError", "Organisation", "add_gpo", "add_organisation", "get_gpo", "gpo_area", "list_gpos",
           "member_contacts", "next_meeting_on", "organisations", "scope_params", "visible_gpo_sql"]
