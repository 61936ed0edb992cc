"""``psq alerts``: the alert worker and the mayors' subscriptions (issue 16 item 5)."""

from __future__ import annotations

import click


@click.group("alerts")
def alerts():
    """Alerts to mayors: delivery worker, subscriptions."""
