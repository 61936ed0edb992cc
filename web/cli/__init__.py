"""The ``psq`` command line: a click group, one module per command group.

Commands that need the database use ``DATABASE_URL`` when set, otherwise the
project's embedded cluster, started on demand. Every user error is printed as one
sentence per fault on stderr, with exit status 1, and changes nothing.
"""

from __future__ import annotations

import click

from web.cli import (
    agenda,
    alerts,
    assess,
    cameras,
    database,
    export,
    gpo,
    hotspots,
    load,
    referents,
    report,
    serve,
    users,
)


@click.group("psq", context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Sector maps and hotspots for the police de sécurité du quotidien."""


for command in (database.db, load.load, hotspots.hotspots_command, export.export, serve.demo, serve.serve, users.users,
                agenda.agenda_command, assess.assess_command, report.report_command, gpo.gpo, cameras.cameras,
                alerts.alerts):
    main.add_command(command)
# `psq load referents`, `psq load conventions`, `psq load cameras`: loaders of their own modules.
for command in (*referents.LOAD_COMMANDS, *cameras.LOAD_COMMANDS):
    load.load.add_command(command)
