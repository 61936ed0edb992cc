"""The menu of every page: what the logged-in user may open, read from the access policy.

Each entry is asked of :func:`web.access.allowed` (the one policy of geo/accounts/policy.py),
so the menu never shows a page that would answer 403, and shows every page the user may
open: the CSPs and their overview, his sectors and their patrol zones (the briefings are
listed on the zones page), the communes he may see, his GPOs and their figures.
"""

from __future__ import annotations

import dataclasses

from flask import url_for
from flask_login import current_user

from geo.accounts.users import visible_communes
from geo.analysis.scopes import sector_names_on_day
from geo.gpo.groups import list_gpos
from geo.settings import local_today
from geo.territory.lookup import list_csps
from web.access import allowed, current_scope
from web.db import get_db


@dataclasses.dataclass(frozen=True)
class Group:
    """A heading of the menu and its links (label, URL)."""

    title: str
    links: tuple[tuple[str, str], ...]


def menu() -> list[Group]:
    """The menu of the current user (empty for an anonymous request)."""
    if not current_user.is_authenticated:
        return []
    scope, db = current_scope(), get_db()
    groups = []
    csps = [c["name"] for c in list_csps(db) if allowed("csp.view", c["name"])] if allowed("csp.view") else []
    general = [("Accueil", url_for("pages.index"))]
    if csps:
        general.append(("Vue d'ensemble", url_for("overview.overview_page")))
    general += [(f"Carte de la {name}", url_for("pages.csp_map", name=name)) for name in csps]
    groups.append(Group("Territoire", tuple(general)))
    if allowed("sector.view"):
        keys = None if scope.sees_everything else scope.sector_keys
        sectors = sector_names_on_day(db, local_today(), keys=keys)  # names only: the menu is on every page
        groups.append(Group("Secteurs", tuple(
            (f"{s.code} · {s.name}", url_for("sector_pages.sector_page", csp=s.csp_name, code=s.code))
            for s in sectors)))
        editable = [s for s in sectors if allowed("zone.edit", (s.csp_id, s.code))]
        if editable:
            groups.append(Group("Zones de patrouille", tuple(
                (s.code, url_for("zones.zones_page", csp=s.csp_name, code=s.code)) for s in editable)))
    if allowed("commune.view"):
        communes = visible_communes(db, scope)
        if communes:
            groups.append(Group("Communes", tuple(
                (name, url_for("mayor.commune_page", insee=insee)) for insee, name in communes)))
    if allowed("gpo.view") and not (scope.role == "partenaire" and scope.organisation_id is None):
        gpos = list_gpos(db, scope)
        links = [("Mes GPO" if scope.role == "partenaire" else "Tous les GPO", url_for("gpo.gpo_list"))]
        links += [(g.name, url_for("gpo.gpo_page", gpo_id=g.id)) for g in gpos]
        if allowed("figures.view"):
            links.append(("Chiffres des GPO", url_for("figures.figures_page")))
        groups.append(Group("GPO", tuple(links)))
    prevention = []
    if allowed("referents.view"):
        prevention.append(("Couverture des référents", url_for("referents.coverage_page")))
    if allowed("conventions.view"):
        prevention.append(("Conventions et CSI", url_for("referents.conventions_page")))
    if allowed("study.view"):
        prevention.append(("Demandes d'audit", url_for("audits.audit_list")))
    if allowed("cameras.view"):
        prevention.append(("Caméras", url_for("cameras.cameras_page")))
    if prevention:
        groups.append(Group("Prévention situationnelle", tuple(prevention)))
    if allowed("alerts.view"):
        groups.append(Group("Alertes", (("Alertes", url_for("alerts.alerts_page")),)))
    if allowed("audit.view"):
        groups.append(Group("Administration", (("Journal d'audit", url_for("journal.journal_page")),)))
    return groups


def inject_menu() -> dict:
    """The template context of every page: ``menu``."""
    return {"menu": menu}


__all__ = ["Group", "inject_menu", "menu"]
