"""The ``psq`` command line: a click group, one module per command group.

Commands that need the database use ``DATABASE_URL`` when set, otherwise the
project's embedded cluster, started on demand. Every user error is printed as one
sentence per fault on stderr, with exit status 1, and changes nothing.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from web.cli import database, export, hotspots, load, serve, users


def _create_app():
    from web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """Sector maps and hotspots for the police de sécurité du quotidien."""


for command in (database.db, load.load, hotspots.hotspots_command, export.export, serve.demo, serve.serve, users.users):
    main.add_command(command)
