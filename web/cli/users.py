"""``psq user``: create and list the accounts of the web app."""

from __future__ import annotations

import click

from geo.settings import ROLES
from web.cli.common import engine, user_errors

#: Refused accounts are errors of geo/ like any other (geo.errors.PsqError): one sentence, exit status 1.
account_errors = user_errors


def _engine():
    return engine()


@click.group("user")
def users():
    """Manage the accounts of the web app."""


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, metavar="ROLE",
              help=f"One of {', '.join(ROLES)}: admin and referent see everything, chef_secteur his sectors, "
                   "maire his commune.")
@click.option("--password", help="At least 12 characters (default: a random one, printed once).")
@click.option("--sector", "sectors", multiple=True, metavar="CODE",
              help="Code of a sector of a chef_secteur. Repeatable.")
@click.option("--csp", help="CSP of those sector codes (needed only when a code exists in several CSPs).")
@click.option("--commune", metavar="INSEE", help="INSEE code of a maire's commune.")
@click.option("--organisation", metavar="NAME", help="Organisation of a partenaire (a GPO's partner).")
@click.option("--referent", metavar="NAME", help="Record of a referent (psq load referents): his towns and audits.")
@click.option("--name", "display_name", help="Name shown in the app, e.g. \"Claire Martin\".")
@account_errors
def add_user(email, role, password, sectors, csp, commune, organisation, referent, display_name):
    """Create a user of the web app with his role and scope."""
    from geo.accounts.users import create_user

    new = create_user(_engine(), email, role, password, sectors=sectors, csp=csp, commune=commune,
                      organisation=organisation, referent=referent, display_name=display_name)
    user = new.user
    click.echo(f"User {user.email} created ({user.role}{_scope_text(user.scope)}).")
    if new.password:
        click.echo(f"Password: {new.password}")
        click.echo("It is shown only this once: give it to the user, who should keep it safe.", err=True)


@users.command("unthrottle")
@click.argument("email")
@account_errors
def unthrottle_user(email):
    """End the wait of an account after failed logins (for an owner logging in from a new browser)."""
    from geo.accounts.users import lift_throttle

    user = lift_throttle(_engine(), email)
    click.echo(f"{user.email} may log in again: the wait after failed logins is lifted.")


@users.command("list")
@account_errors
def list_users_command():
    """List the users with their role, scope and last login."""
    from geo.accounts.users import list_users

    accounts = list_users(_engine())
    if not accounts:
        click.echo("No user yet: create one with `psq user add EMAIL --role admin`.")
        return
    rows = [(a.email, a.role, a.display_name or "", _scope_text(a.scope).removeprefix(", ") or "-",
             "active" if a.active else "inactive",
             a.last_login_at.astimezone().strftime("%Y-%m-%d %H:%M") if a.last_login_at else "never")
            for a in accounts]
    header = ("email", "role", "name", "scope", "state", "last login")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _scope_text(scope) -> str:
    if scope.sectors:
        by_csp: dict[str, list[str]] = {}
        for ref in scope.sectors:
            by_csp.setdefault(ref.csp_name, []).append(ref.code)
        return ", " + "; ".join(f"{csp}: {' '.join(codes)}" for csp, codes in by_csp.items())
    if scope.commune_insee:
        return f", commune {scope.commune_insee}"
    return ""
