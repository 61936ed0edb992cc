"""``psq agenda --gpo ID``: the ranked agenda of a GPO's next meeting, each factor with its share of the score."""

from __future__ import annotations

import json

import click

from web.cli.common import Day, engine, user_errors

#: The table's columns, in French as in the meeting (the factors' labels between the category and the score).
COLUMNS = ("rang", "problème", "catégorie", "récurrence", "tendance", "point chaud", "gravité", "lieux sensibles",
           "ancienneté", "partenaires", "score")


@click.command("agenda")
@click.option("--gpo", "gpo_id", type=int, required=True, help="The GPO's id (psq gpo list shows them).")
@click.option("--date", "meeting_on", type=Day(), help="The meeting's date (default: the GPO's next meeting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the GPO, the date, the weights, the lines, the notes.")
@user_errors
def agenda_command(gpo_id, meeting_on, as_json):
    """Print the ranked agenda of a GPO's next meeting with each factor."""
    from geo.accounts.users import UserScope
    from geo.errors import NotFound
    from geo.gpo.agenda import agenda
    from geo.gpo.groups import get_gpo

    bind = engine()
    gpo = get_gpo(bind, UserScope("admin"), gpo_id)
    if gpo is None:
        raise NotFound(f"Aucun GPO n° {gpo_id} : psq gpo list donne leurs numéros.")
    result = agenda(bind, gpo, meeting_on)
    if as_json:
        click.echo(json.dumps(_as_json(result), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.gpo_name} : ordre du jour du {result.meeting_on:%d/%m/%Y}")
    for note in result.notes:
        click.echo(note)
    if not result.lines:
        click.echo("Aucun problème ouvert dans le périmètre du GPO.")
        return
    click.echo(_table(result))


def _as_json(result) -> dict:
    lines = [{"problem_id": line.problem_id, "title": line.title, "category": line.category_code,
              "status": line.status, "reported_on": line.reported_on.isoformat(), "open_actions": line.open_actions,
              "overdue_actions": line.overdue_actions, **line.as_dict()} for line in result.lines]
    return {"gpo": {"id": result.gpo_id, "name": result.gpo_name}, "date": result.meeting_on.isoformat(),
            "weights": result.weights, "lines": lines, "notes": list(result.notes)}


def _table(result) -> str:
    """The lines in aligned columns, under the French header."""
    from geo.formats import number
    from geo.gpo.agenda import share_text

    rows = [(str(line.rank), line.title, line.category_label,
             *(f"{f.value} · {share_text(f.share)}" for f in line.factors), number(line.score, 2))
            for line in result.lines]
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in [COLUMNS, *rows])
