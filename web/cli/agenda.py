"""``psq agenda``: the ranked agenda of a GPO's next meeting. Filled by the agenda work."""

from __future__ import annotations

import click


@click.command("agenda")
def agenda_command():
    """Print the ranked agenda of a GPO's next meeting with each factor."""
    raise click.ClickException("not yet")
