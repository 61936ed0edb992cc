"""``psq load referents``, ``psq load conventions`` and ``psq load contracts`` (issue 16 items 1 and 4),
added to the ``load`` group (web/cli/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import click

from web.cli.common import engine, user_errors

_FILE = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
_ENCODING = click.option("--encoding", help="Encoding of the CSV file (default: UTF-8, else Windows-1252, detected).")


@click.command("referents")
@_FILE
@_ENCODING
@user_errors
def load_referents_command(file, encoding):
    """Load the référents and correspondants sûreté, their base and the communes each covers (CSV)."""
    from geo.referents.referents import load_referents

    click.echo("\n".join(load_referents(engine(), file, encoding=encoding).lines()))


@click.command("conventions")
@_FILE
@_ENCODING
@user_errors
def load_conventions_command(file, encoding):
    """Load the conventions de participation citoyenne: commune, signature day, duration, volunteers (CSV)."""
    from geo.referents.conventions import load_conventions

    click.echo("\n".join(load_conventions(engine(), file, encoding=encoding).lines()))


@click.command("contracts")
@_FILE
@_ENCODING
@user_errors
def load_contracts_command(file, encoding):
    """Load the contrats de sécurité intégrée: communes or EPCI, signature, duration, engagements (CSV)."""
    from geo.referents.conventions import load_contracts

    click.echo("\n".join(load_contracts(engine(), file, encoding=encoding).lines()))


LOAD_COMMANDS: list = [load_referents_command, load_conventions_command, load_contracts_command]
