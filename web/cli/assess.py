"""``psq assess``: the before/after assessment of an area (GE, NE, WDQ, TNE). Filled by the assessment work."""

from __future__ import annotations

import click


@click.command("assess")
def assess_command():
    """Assess an action: counts before and after in an area, its ring and a control area."""
    raise click.ClickException("not yet")
