"""``psq gpo``: create the GPOs and their partner organisations, and list them."""

from __future__ import annotations

import click

from web.cli.common import Day, engine, user_errors


@click.group("gpo")
def gpo():
    """Manage the GPOs (groupes de partenariat opérationnel) and their partners."""


@gpo.command("partner")
@click.argument("name")
@click.option("--kind", required=True, metavar="KIND",
              help="mairie, police_municipale, bailleur_social, etablissement_scolaire, transporteur, association, "
                   "police_nationale or autre.")
@click.option("--commune", metavar="INSEE", help="The partner's commune (a town hall's, a school's).")
@click.option("--contact", "contacts", multiple=True, metavar="NAME",
              help="A contact person, written NAME or NAME;FUNCTION;EMAIL;PHONE. Repeatable.")
@user_errors
def add_partner(name, kind, commune, contacts):
    """Create a partner organisation (a GPO member) with its contacts."""
    from geo.gpo.groups import add_organisation

    people = []
    for text in contacts:
        parts = [p.strip() or None for p in text.split(";")] + [None] * 3
        people.append(dict(zip(("name", "function", "email", "phone"), parts[:4])))
    org_id = add_organisation(engine(), name, kind, commune=commune, contacts=people)
    click.echo(f"Organisation {org_id} created: {name} ({kind}, {len(people)} contact(s)).")


@gpo.command("add")
@click.argument("name")
@click.option("--csp", required=True, help="Name of the CSP, e.g. \"CSP Belfort\".")
@click.option("--sector", "sectors", multiple=True, required=True, metavar="CODE",
              help="A sector code of the CSP; one for a sector's GPO, several for a thematic one. Repeatable.")
@click.option("--rhythm", type=click.Choice(["quinzaine", "mensuel"]), required=True,
              help="Every 15 days (same weekday) or monthly (same day of the month).")
@click.option("--first-meeting", type=Day(), required=True, help="The first meeting's date: the series starts there.")
@click.option("--member", "members", multiple=True, metavar="NAME", help="A partner organisation's name. Repeatable.")
@click.option("--theme", help="The theme of a thematic GPO, e.g. \"Ligne de bus 3\".")
@click.option("--category", "categories", multiple=True, metavar="CODE",
              help="Limit a thematic GPO's agenda to these categories. Repeatable.")
@user_errors
def add_gpo_command(name, csp, sectors, rhythm, first_meeting, members, theme, categories):
    """Create a GPO over sectors of a CSP, with its members and rhythm."""
    import sqlalchemy as sa

    from geo.gpo.groups import GpoError, add_gpo

    bind = engine()
    with bind.connect() as conn:
        csp_id = conn.execute(sa.text("SELECT id FROM csp WHERE name = :n"), {"n": csp}).scalar()
        found = dict(conn.execute(sa.text("SELECT lower(name), id FROM organisation WHERE lower(name) = ANY (:n)"),
                                  {"n": [m.lower() for m in members]}).all())
    if csp_id is None:
        raise GpoError(f"Unknown CSP {csp!r}.")
    missing = [m for m in members if m.lower() not in found]
    if missing:
        raise GpoError(f"Unknown partner organisation {missing[0]!r}: create it with psq gpo partner.")
    gpo_id = add_gpo(bind, csp_id=csp_id, name=name, sector_codes=list(sectors), rhythm=rhythm,
                     first_meeting_on=first_meeting, members=[found[m.lower()] for m in members], theme=theme,
                     categories=list(categories) or None)
    click.echo(f"GPO {gpo_id} created: {name} ({', '.join(sectors)}, {rhythm}).")


@gpo.command("list")
@user_errors
def list_gpos_command():
    """List the GPOs with their sectors, members and next meeting date."""
    from geo.accounts.users import UserScope
    from geo.gpo.groups import list_gpos
    from geo.settings import local_today

    today = local_today()
    for g in list_gpos(engine(), UserScope("admin")):
        members = ", ".join(m.name for m in g.members) or "no member"
        click.echo(f"{g.id:>4}  {g.name}  [{g.csp_name}: {' '.join(g.sector_codes)}]  next {g.next_meeting_on(today)}"
                   f"  — {members}")
