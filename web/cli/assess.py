"""``psq assess``: the before/after assessment of an area (GE, NE, WDQ, TNE), as a table or JSON."""

from __future__ import annotations

import json

import click

from web.cli.common import Day, engine, user_errors


@click.command("assess")
@click.option("--area", "area_file", required=True, metavar="FILE",
              help="The response area R: polygons in a GeoJSON, GeoPackage or Shapefile, any CRS.")
@click.option("--date", "action_on", type=Day(), required=True, help="The action's date: the first day after.")
@click.option("--days", type=int, default=90, show_default=True, help="Days of each period, before and after (1-730).")
@click.option("--buffer", "buffer_m", type=float, default=200, show_default=True,
              help="Width in metres of the ring D around the area (0-5000; 0: no ring).")
@click.option("--control", "control_file", metavar="FILE",
              help="The control area C (polygons, any CRS); default: the sectors the area lies in, outside R and D.")
@click.option("--category", help="Count one category only (code, label or alias); default every category.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: Rb, Ra, Db, Da, Cb, Ca, GE, NE, WDQ, TNE (null where undefined), reading.")
@user_errors
def assess_command(area_file, action_on, days, buffer_m, control_file, category, as_json):
    """Assess an action: counts before and after in an area, its ring and a control area."""
    from geo.gpo.assessment import assess, read_area, to_json

    area = read_area(area_file)
    control = read_area(control_file) if control_file else None
    result = assess(engine(), area, action_on, days=days, buffer_m=buffer_m, control=control, category=category)
    if as_json:
        click.echo(json.dumps(to_json(result), ensure_ascii=False, indent=2))
        return
    click.echo(_table(result))


def _table(result) -> str:
    """The six counts, the four measures ("—" where undefined), the reading and the notes, in French."""
    from geo.formats import day, number

    c, m = result.counts, result.measures
    what = f"catégorie {result.category}" if result.category else "toutes catégories"
    lines = [f"Évaluation de l'action du {day(result.action_on)} : {result.days} jours avant "
             f"({day(result.before[0])} – {day(result.before[1])}) et après ({day(result.after[0])} – "
             f"{day(result.after[1])}), couronne de {number(result.buffer_m)} m, {what}",
             "", f"{'zone':<24}{'avant':>8}{'après':>8}"]
    for label, before, after in (("R  zone de l'action", c.rb, c.ra), ("D  couronne", c.db, c.da),
                                 ("C  zone témoin", c.cb, c.ca)):
        lines.append(f"{label:<24}{number(before):>8}{number(after):>8}")
    lines.append("")
    for label, value, digits in (("GE", m.ge, 0), ("NE", m.ne, 4), ("WDQ", m.wdq, 2), ("TNE", m.tne, 1)):
        lines.append(f"{label:<5}{'—' if value is None else number(value, digits)}")
    return "\n".join([*lines, "", m.reading, *result.notes])
