"""``psq report --gpo ID -o FILE.pdf``: the meeting file of a GPO as PDF, as the web app's ``/gpo/<id>/dossier.pdf``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from geo.errors import PsqError
from web.cli.common import Day, engine, user_errors


class ReportError(PsqError):
    """The PDF cannot be written where asked (one sentence)."""


@click.command("report")
@click.option("--gpo", "gpo_id", type=int, required=True, help="The GPO's id (psq gpo list shows them).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The PDF file to write.")
@click.option("--date", "meeting_on", type=Day(), help="The meeting's date (default: the GPO's next meeting).")
@user_errors
def report_command(gpo_id, output, meeting_on):
    """Write the meeting file of a GPO as PDF: agenda, map, actions, meetings, assessments."""
    from geo.accounts.users import UserScope
    from geo.errors import NotFound
    from geo.gpo.groups import get_gpo
    from geo.gpo.meeting_file import audit_export, meeting_file
    from web import create_app
    from web.pages.gpo_file import pdf_of

    check_writable(output)
    bind = engine()
    scope = UserScope("admin")
    if get_gpo(bind, scope, gpo_id) is None:
        raise NotFound(f"Aucun GPO n° {gpo_id} : psq gpo list donne leurs numéros.")
    file = meeting_file(bind, scope, gpo_id, meeting_on)
    with create_app().test_request_context():  # the page's template and the static files, without a server
        pdf = pdf_of(file)
    try:
        output.write_bytes(pdf)
    except OSError as error:
        raise ReportError(f"Cannot write {output}: {error.strerror}.") from None
    audit_export(bind, file)
    click.echo(f"{file.gpo.name}: meeting file of {file.meeting_on:%d/%m/%Y} written to {output} "
               f"({len(pdf) // 1024} KB).", err=True)


def check_writable(output: Path) -> None:
    """Refuse, before any work, a path that is a folder or whose folder is missing or read-only."""
    folder = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise ReportError(f"Cannot write {output}: it is a folder; give a file name such as gpo.pdf.")
    if not folder.is_dir():
        raise ReportError(f"Cannot write {output}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise ReportError(f"Cannot write {output}: permission denied.")
