"""``psq report``: the meeting file of a GPO as PDF. Filled by the meeting-file work."""

from __future__ import annotations

import click


@click.command("report")
def report_command():
    """Write the meeting file of a GPO as PDF."""
    raise click.ClickException("not yet")
