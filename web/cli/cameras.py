"""``psq cameras coverage`` and ``psq cameras propose``; ``psq load cameras`` (issue 16 item 3)."""

from __future__ import annotations

import click

#: Commands added to ``psq load`` (web/cli/__init__.py): ``psq load cameras``.
LOAD_COMMANDS: list = []


@click.group("cameras")
def cameras():
    """Video-protection cameras: coverage of the occurrences, new sites (MCLP)."""
