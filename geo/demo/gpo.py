"""The demo's GPOs: one per Belfort sector, its partners, two past meetings with their actions, an assessment.

Built from the demo's own problems, so that the next meeting's agenda is the planted places':

- the sensitive places of the agenda are where the demo's problems say they are (the schools that raised
  one, the transport problems' stops, the social landlord's estates);

- the partner organisations are those that raised the demo's problems (a town hall, the social
  landlord, the municipal police, schools), plus the national police; each problem is tied to
  its organisation, and the demo partner account to the social landlord;
- each sector in force has its GPO (monthly), whose members are the organisations of its
  problems; it met six months and four weeks before the demo's last day, reviewed its top problems,
  and decided two actions on them: one still open past its due date (overdue), one done;
- the done action is on the open problem of the sector whose place fell the most after the first
  meeting (beyond chance where one did), and its assessment (geo.gpo.assessment) is stored.

Rebuilt on each run (the demo's GPOs are deleted first, with their meetings and actions), so a
second run leaves the same rows.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.accounts.users import UserScope
from geo.db.unit_of_work import transaction
from geo.gpo import meetings as gm
from geo.gpo.agenda import agenda
from geo.gpo.areas import assessable_area
from geo.gpo.assessment import assess, save_assessment
from geo.gpo.groups import add_gpo, get_gpo

CSP_NAME = "CSP Belfort"
#: The demo's GPOs are named after their sector: "GPO <code>".
GPO_PREFIX = "GPO "
NATIONAL_POLICE = "Police nationale – CSP Belfort"
#: The organisation of the demo's partner account (partenaire@demo.psq.fr).
PARTNER_ACCOUNT = ("partenaire@demo.psq.fr", "Territoire Habitat (bailleur social)")
ADMIN = UserScope("admin")
#: The first meeting was this many days before the demo's last day, and its action is assessed over as many
#: days before and after: half a year, long enough for the planted decline of BEL-CENTRE's station forecourt
#: (the synthetic data plant no effect of an action; elsewhere the assessment says what the data show).
ASSESSED_DAYS = 182

_KINDS = ((r"^mairie", "mairie"), (r"police municipale", "police_municipale"), (r"bailleur|habitat", "bailleur_social"),
          (r"école|collège|lycée", "etablissement_scolaire"), (r"transport|bus|optymo", "transporteur"))


def organisation_kind(name: str) -> str:
    """The kind of a demo partner, from its name.

    >>> organisation_kind("Mairie de Belfort"), organisation_kind("Lycée du secteur (proviseur)")
    ('mairie', 'etablissement_scolaire')
    """
    lowered = name.lower()
    return next((kind for pattern, kind in _KINDS if re.search(pattern, lowered)), "association")


def clear_demo_gpos(conn) -> None:
    """Delete the demo's GPOs with their meetings, actions and assessments (before its problems are replaced)."""
    conn.execute(sa.text("DELETE FROM gpo WHERE name LIKE :prefix AND csp_id = (SELECT id FROM csp WHERE name = :csp)"),
                 {"prefix": GPO_PREFIX + "%", "csp": CSP_NAME})


def load_demo_gpos(engine: Engine, end: dt.date) -> list[str]:
    """Build the demo's GPOs for synthetic data ending on ``end``; the report's lines."""
    with transaction(engine) as conn:
        clear_demo_gpos(conn)
        organisations = _organisations(conn)
        places = _sensitive_places(conn)
        _link_partner_account(conn, organisations)
        csp_id = conn.execute(sa.text("SELECT id FROM csp WHERE name = :n"), {"n": CSP_NAME}).scalar_one()
        sectors = conn.execute(sa.text(
            "SELECT DISTINCT s.code FROM sector s WHERE s.csp_id = :c AND s.valid_during @> CAST(:d AS date) "
            "ORDER BY 1"), {"c": csp_id, "d": end}).scalars().all()
        totals = [_sector_gpo(conn, csp_id, code, organisations, end) for code in sectors]
        _transport_gpo(conn, csp_id, organisations, end)
    meetings = sum(t[0] for t in totals)
    actions = sum(t[1] for t in totals)
    return [f"GPOs: {len(sectors)} (one per sector) and a thematic one, {len(organisations)} partner organisations, "
            f"{meetings} past meetings, {actions} actions; {places} sensitive places."]


def _organisations(conn) -> dict[str, int]:
    names = conn.execute(sa.text("SELECT DISTINCT partner FROM problem WHERE partner IS NOT NULL")).scalars().all()
    ids = {}
    for name in sorted({*names, NATIONAL_POLICE}):
        ids[name] = conn.execute(sa.text(
            "INSERT INTO organisation (name, kind) VALUES (:n, :k) "
            "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind RETURNING id"),
            {"n": name, "k": "police_nationale" if name == NATIONAL_POLICE else organisation_kind(name)}).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO organisation_contact (organisation_id, name, function, email)
        SELECT o.id, 'Référent GPO', 'Contact de ' || o.name, 'gpo-' || o.id || '@demo.psq.fr' FROM organisation o
        WHERE o.id = ANY (:ids) AND NOT EXISTS (SELECT 1 FROM organisation_contact c WHERE c.organisation_id = o.id)"""),
        {"ids": list(ids.values())})
    conn.execute(sa.text("UPDATE problem p SET organisation_id = o.id FROM organisation o "
                         "WHERE o.name = p.partner AND p.organisation_id IS DISTINCT FROM o.id"))
    return ids


def _sensitive_places(conn) -> int:
    """The schools, transport stops and social housing the demo's problems are about, as sensitive places (source
    ``demo``): a school where a school raised a problem, a stop where the problem is about transport, a housing
    estate where the social landlord raised one. How many."""
    conn.execute(sa.text("DELETE FROM sensitive_place WHERE source = 'demo'"))
    return conn.execute(sa.text("""
        INSERT INTO sensitive_place (kind, name, source, external_id, geom)
        SELECT kind, name, 'demo', 'demo-' || kind || '-' || id, ST_PointOnSurface(geom) FROM (
            SELECT p.id, p.geom, p.partner AS name,
                   CASE WHEN o.kind = 'etablissement_scolaire' THEN 'school'
                        WHEN p.category_code = 'transports' THEN 'transport'
                        WHEN o.kind = 'bailleur_social' THEN 'housing' END AS kind
            FROM problem p LEFT JOIN organisation o ON o.id = p.organisation_id) k
        WHERE kind IS NOT NULL""")).rowcount


def _link_partner_account(conn, organisations: dict[str, int]) -> None:
    email, name = PARTNER_ACCOUNT
    if name in organisations:
        conn.execute(sa.text(
            "INSERT INTO user_organisation (user_id, organisation_id) SELECT id, :o FROM app_user WHERE email = :e "
            "ON CONFLICT (user_id) DO UPDATE SET organisation_id = excluded.organisation_id"),
            {"o": organisations[name], "e": email})


def _sector_gpo(conn, csp_id: int, code: str, organisations: dict[str, int], end: dt.date) -> tuple[int, int]:
    """The GPO of one sector, its two past meetings and its two actions; (meetings, actions)."""
    members = conn.execute(sa.text("""
        SELECT DISTINCT p.organisation_id FROM problem p JOIN sector s ON s.id = p.sector_id
        WHERE s.csp_id = :c AND s.code = :code AND p.organisation_id IS NOT NULL"""),
        {"c": csp_id, "code": code}).scalars().all()
    first_meeting = end - dt.timedelta(days=ASSESSED_DAYS - 1)
    gpo_id = add_gpo(conn, csp_id=csp_id, name=GPO_PREFIX + code, sector_codes=[code], rhythm="mensuel",
                     first_meeting_on=first_meeting, members=sorted({*members, organisations[NATIONAL_POLICE]}))
    gpo = get_gpo(conn, ADMIN, gpo_id)
    held = [first_meeting, end - dt.timedelta(days=28)]
    top = agenda(conn, gpo, held[0]).lines[:5]
    meeting_ids = []
    for day in held:
        lines = agenda(conn, gpo, day).lines[:5] if day != held[0] else top
        meeting_ids.append(gm.record_meeting(
            conn, ADMIN, gpo_id, day, attendees=[m.id for m in gpo.members], today=end,
            decisions="Point sur les problèmes prioritaires ; actions décidées ci-dessous.",
            reviewed=[{"problem_id": line.problem_id, "rank": line.rank, "score": line.score,
                       "factors": line.as_dict()} for line in lines]))
    if not top:
        return len(held), 0
    police = organisations[NATIONAL_POLICE]
    overdue = gm.add_action(conn, ADMIN, gpo_id, kind="controle_parties_communes",
                            organisation_id=_holder(conn, top[0].problem_id, gpo, police), owner="Responsable de site",
                            due_on=end - dt.timedelta(days=10), problem_id=top[0].problem_id,
                            meeting_id=meeting_ids[1], description="Contrôle des caves et des halls, avec le bailleur.",
                            author="Démo")
    gm.change_action_status(conn, ADMIN, overdue, "en_cours", author="Démo", today=end - dt.timedelta(days=20))
    fallen, result = _most_fallen(conn, gpo, [line.problem_id for line in agenda(conn, gpo, end).lines], held[0])
    done = gm.add_action(conn, ADMIN, gpo_id, kind="densification_patrouilles", organisation_id=police,
                         owner="Cheffe de secteur", due_on=held[0] + dt.timedelta(days=14), problem_id=fallen.id,
                         meeting_id=meeting_ids[0], description="Patrouilles pédestres en fin de journée.",
                         author="Démo")
    gm.change_action_status(conn, ADMIN, done, "faite", author="Démo", today=held[0] + dt.timedelta(days=12))
    save_assessment(conn, result, gpo_id=gpo_id, problem_id=fallen.id, action_id=done, label=fallen.label)
    return len(held), 2


def _transport_gpo(conn, csp_id: int, organisations: dict[str, int], end: dt.date) -> None:
    """A thematic GPO over the sectors the bus network's problems lie in, limited to their category."""
    rows = conn.execute(sa.text("""
        SELECT DISTINCT s.code, p.organisation_id FROM problem p JOIN sector s ON s.id = p.sector_id
        WHERE p.category_code = 'transports' AND s.csp_id = :c"""), {"c": csp_id}).all()
    if not rows:
        return
    add_gpo(conn, csp_id=csp_id, name=GPO_PREFIX + "Transports – réseau de bus", rhythm="mensuel",
            sector_codes=sorted({r[0] for r in rows}), theme="Réseau de bus", categories=["transports"],
            first_meeting_on=end - dt.timedelta(days=20),
            members=sorted({r[1] for r in rows if r[1] is not None} | {organisations[NATIONAL_POLICE]}))


def _holder(conn, problem_id: int, gpo, default: int) -> int:
    """The organisation that raised the problem, if it sits in the GPO; else ``default``."""
    raised = conn.execute(sa.text("SELECT organisation_id FROM problem WHERE id = :id"), {"id": problem_id}).scalar()
    return raised if raised in {m.id for m in gpo.members} else default


def _most_fallen(conn, gpo, problem_ids: list[int], action_on: dt.date):
    """Of the GPO's open problems, the one whose place fell the most after ``action_on`` (a fall beyond chance
    first: geo.gpo.assessment), with its assessment over ASSESSED_DAYS on each side."""
    best = None
    for problem_id in problem_ids:
        area = assessable_area(conn, gpo, "problem", problem_id)
        result = assess(conn, area.geometry, action_on, days=ASSESSED_DAYS, buffer_m=200,
                        category=area.category_code)
        key = (result.measures.fall, result.measures.ge, -problem_id)
        if best is None or key > best[0]:
            best = (key, area, result)
    return best[1], best[2]


__all__ = ["clear_demo_gpos", "load_demo_gpos", "organisation_kind"]
