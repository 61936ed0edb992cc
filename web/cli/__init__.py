"""The ``psq`` command line: a click group, one module per command group.

Commands that need the database use ``DATABASE_URL`` when set, otherwise the
project's embedded cluster, started on demand. Every user error is printed as one
sentence per fault on stderr, with exit status 1, and changes nothing.
"""

from __future__ import annotations

import click

from web.cli import agenda, assess, database, export, gpo, hotspots, load, report, serve, users


@click.group("psq", context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Sector maps and hotspots for the police de sécurité du quotidien."""


for command in (database.db, load.load, hotspots.hotspots_command, export.export, serve.demo, serve.serve, users.users,
                agenda.agenda_command, assess.assess_command, report.report_command, gpo.gpo):
    main.add_command(command)
