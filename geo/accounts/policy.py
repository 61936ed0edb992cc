"""Who may do what: one table of role x action, and one rule per kind of resource.

Every page, JSON endpoint and command that acts for a user asks
:func:`permission_allowed` (the model is datasette's ``permission_allowed(actor,
action, resource)``). The table says which roles may take an action at all; the
resource (a sector, a CSP, a commune) is then checked against the user's scope. The
database's row-level security (migration 0006) is the second lock behind it.

Examples
--------
>>> from geo.accounts.users import SectorRef, UserScope
>>> chief = UserScope("chef_secteur", sectors=(SectorRef(1, "CSP Belfort", "BEL-CENTRE"),))
>>> permission_allowed(chief, "zone.edit", (1, "BEL-CENTRE")), permission_allowed(chief, "zone.edit", (1, "BEL-RESID"))
(True, False)
>>> permission_allowed(UserScope("referent"), "zone.edit", (1, "BEL-CENTRE"))
False
>>> permission_allowed(UserScope("partenaire"), "territory.view", "CSP Belfort")
True
>>> permission_allowed(chief, "fly")
Traceback (most recent call last):
...
ValueError: Unknown action: fly.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from geo.accounts.users import ROLES, UserScope, can_see_commune

#: action -> the roles that may take it (then the resource must be in their scope).
ACTIONS: dict[str, tuple[str, ...]] = {
    # The list of CSPs and a CSP's territory (sectors, communes, population; no occurrence).
    "territory.view": ROLES,
    # A CSP's map and overview with occurrence figures: a chief, his CSPs only.
    "csp.view": ("admin", "referent", "chef_secteur"),
    # A sector's page, its cells and tiles: a chief, his sectors only.
    "sector.view": ("admin", "referent", "chef_secteur"),
    # Drawing, editing, exporting and briefing patrol zones: a chief, in his sectors.
    "zone.edit": ("admin", "chef_secteur"),
    # A commune's aggregated page: its mayor, a chief whose sectors cover it, admin and référent.
    "commune.view": ("admin", "referent", "chef_secteur", "maire"),
    # The audit log (every write, export and login attempt): admins only.
    "audit.view": ("admin",),
    # A GPO's page (members, meetings, actions the user sees): its sectors' chief, its members (partners), the
    # mayors of the towns it covers, admin and référent. Resource: the GPO's id.
    "gpo.view": ("admin", "referent", "chef_secteur", "maire", "partenaire"),
    # A GPO's ranked agenda, its meeting file and its assessments: the police side.
    "gpo.agenda": ("admin", "referent", "chef_secteur"),
    # Running a GPO: recording its meetings and actions, assessing, creating problems: its sectors' chief.
    "gpo.run": ("admin", "chef_secteur"),
    # Creating a problem from the sector map (a hot spot cell, a recurring cell, a cluster's hull): in his sectors.
    "problem.create": ("admin", "chef_secteur"),
    # Changing an action's status: the GPO's chief, or the partner whose organisation holds it. Resource: its id.
    "action.update": ("admin", "chef_secteur", "partenaire"),
    # The figures of the GPOs (meetings held, problems raised, resolved, open), rolled up over the scope.
    "figures.view": ("admin", "referent", "chef_secteur", "maire"),
    # The référents' coverage map (who covers which town, their load, distances): the police side.
    "referents.view": ("admin", "referent", "chef_secteur"),
    # An audit request (a town's request for a security study) and its report: the référent it is assigned to or
    # who covers the town, the town's mayor, admin. Resource: the request's id.
    "study.view": ("admin", "referent", "maire"),
    # Asking for a study: the town's mayor, or the référent who covers it (a request forwarded by the DDSP).
    # Resource: the town's INSEE code.
    "study.request": ("admin", "referent", "maire"),
    # Assigning, planning, closing a study, attaching its report, proposing camera sites: the référent. Resource: id.
    "study.run": ("admin", "referent"),
    # The cameras of a town (wedges, coverage of its hot spots): resource the town's INSEE code.
    "cameras.view": ("admin", "referent", "chef_secteur", "maire"),
    # The conventions de participation citoyenne and security contracts of a town: resource its INSEE code.
    "conventions.view": ("admin", "referent", "chef_secteur", "maire"),
    # The alerts sent to a mayor for his town and his opt-in per category: the mayor himself (admin: all).
    "alerts.view": ("admin", "maire"),
}


def permission_allowed(scope: UserScope, action: str, resource=None, *,
                       bind: Engine | Connection | None = None) -> bool:
    """Whether the user of ``scope`` may take ``action`` on ``resource``.

    Resources: ``(csp_id, code)`` for ``sector.*``, ``zone.*`` and ``problem.*``, a CSP's name for
    ``csp.*`` (``territory.view``: every CSP), an INSEE code for ``commune.*``, ``cameras.*``,
    ``conventions.*``, ``alerts.*`` and ``study.request`` (give ``bind``: a chief's communes are those his
    sectors cover; a référent with a record asks for the towns he covers), a request's id for the other
    ``study.*`` (give ``bind``), a GPO's id for ``gpo.*`` and an
    action's id for ``action.*`` (give ``bind``: a GPO's sectors and members are in the database). Without a resource: whether
    the role may take the action at all.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown action: {action}.")
    if scope.role not in ACTIONS[action]:
        return False
    if resource is None or action == "territory.view":
        return True
    kind = action.partition(".")[0]
    if kind in ("sector", "zone", "problem"):
        csp_id, code = resource
        return scope.can_see_sector(csp_id, code)
    if kind == "csp":
        return scope.can_see_csp(resource)
    if kind in ("gpo", "action"):
        if bind is None:
            raise ValueError(f"{kind}.* needs the database (bind) to know the GPO's sectors and members.")
        from geo.gpo.groups import get_gpo  # geo.gpo reads the accounts: imported here, not at the top
        from geo.gpo.meetings import can_update_action

        if kind == "gpo":
            return get_gpo(bind, scope, int(resource)) is not None
        return can_update_action(bind, scope, int(resource))
    if kind in ("commune", "cameras", "conventions", "alerts") or action == "study.request":
        if bind is None:
            raise ValueError(f"{action} needs the database (bind) to know a chief's communes.")
        if action in ("study.request",) and scope.role == "referent":
            from geo.referents.assignments import covers  # geo.referents reads the accounts

            return covers(bind, scope, resource)
        return can_see_commune(bind, scope, resource)
    if kind == "study":
        if bind is None:
            raise ValueError("study.* needs the database (bind) to know the request's town and référent.")
        from geo.referents.audits import can_see_request

        return can_see_request(bind, scope, int(resource))
    if kind == "referents":
        return True
    raise ValueError(f"No rule for the resources of {action}.")


__all__ = ["ACTIONS", "permission_allowed"]
