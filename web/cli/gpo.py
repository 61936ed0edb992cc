"""``psq gpo``: create the GPOs and their partner organisations, and list them."""

from __future__ import annotations

import click


@click.group("gpo")
def gpo():
    """Manage the GPOs (groupes de partenariat opérationnel) and their partners."""
