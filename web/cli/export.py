"""``psq export``: sectors and hotspot runs to files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from web.cli.common import Day, engine, user_errors


# -- export ------------------------------------------------------------------
@click.group()
def export():
    """Export data to files."""


@export.command("sectors")
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "csv"]), default="geojson", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout).")
@click.option("--as-of", type=Day(), help="The sectors valid on this day (default today).")
@click.option("--csp", help="Only the sectors of this CSP.")
@user_errors
def export_sectors_command(fmt, output, as_of, csp):
    """Export the sectors valid on a day, in a format `psq load sectors` reads."""
    from geo.export.sectors import export_sectors

    try:
        count, content = export_sectors(engine(), fmt, output, as_of, csp)
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
    from geo.analysis.hotspots import HotspotInputError
    from geo.export.hotspots import export_hotspots

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
