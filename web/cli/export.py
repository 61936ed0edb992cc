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


def _prevention_command(what: str, summary: str):
    """``psq export referents|cameras|conventions``: one command each, the same options as ``export sectors``."""

    @export.command(what, help=summary)
    @click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "csv"]), default="geojson",
                  show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="File to write (default stdout).")
    @user_errors
    def command(fmt, output):
        from geo.export.referents import export_prevention

        try:
            count, content = export_prevention(engine(), what, fmt, output)
        except ValueError as exc:  # gpkg to stdout
            raise click.UsageError(str(exc)) from None
        if content is not None:
            sys.stdout.buffer.write(content)
        else:
            click.echo(f"{count} {what} written to {output}.", err=True)

    return command


export_referents_command = _prevention_command(
    "referents", "Export the référents sûreté: their base, kind, service, communes and inhabitants.")
export_cameras_command = _prevention_command(
    "cameras", "Export the cameras: position, bearing, field of view, range, status, owner, commune.")
export_conventions_command = _prevention_command(
    "conventions", "Export the conventions de participation citoyenne and the CSI (column type), with their dates.")


@export.command("basemap")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The PMTiles archive to write (replaced whole, never half-written).")
@click.option("--as-of", type=Day(), help="Draw the sectors valid on this day (default today).")
@click.option("--max-zoom", type=click.IntRange(10, 16), default=14, show_default=True,
              help="Deepest zoom stored; the maps over-zoom beyond it.")
@user_errors
def export_basemap_command(output, as_of, max_zoom):
    """Build the local base map (communes, sectors and their names) as a PMTiles archive; name it with
    PSQ_BASE_MAP."""
    from geo.territory.basemap import territory_basemap

    for line in territory_basemap(engine(), output, as_of, max_zoom=max_zoom).lines():
        click.echo(line, err=True)


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
