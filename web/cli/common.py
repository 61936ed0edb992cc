"""What every command of ``psq`` shares: the database engine and the turning of user errors into sentences.

The command modules import geo/ inside their commands, not at the top: ``psq --help``
answers without loading geopandas, SciPy or the database driver.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys

import click

from geo.errors import PsqError


class Day(click.ParamType):
    """A day written ``YYYY-MM-DD``, refused in one sentence of ours (not click's "does not match the format").

    >>> Day().convert("2026-03-31", None, None)
    datetime.date(2026, 3, 31)
    >>> Day().convert("2026-02-30", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 2026-02-30 is not a day of the calendar: write YYYY-MM-DD, for example 2026-03-31.
    """

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value} is not a day of the calendar: write YYYY-MM-DD, for example 2026-03-31.", param, ctx)


def user_errors(command):
    """Turn the errors a user can fix into messages, not tracebacks."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PsqError as exc:  # any error of geo/ a user can fix (geo/errors.py)
            problems = getattr(exc, "problems", None) or [str(exc)]
            if getattr(exc, "headline_first", False):
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
    """The database engine of a command, its connections named after it (``psq load occurrences``):
    the audit log's trigger records that name as the way each write came."""
    from geo.db import engine as database  # imported when a command runs: `psq --help` stays quick

    context = click.get_current_context(silent=True)
    name = context.command_path if context else "psq"
    return database.create_engine(connect_args={"application_name": name[:63]})
