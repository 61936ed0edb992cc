"""``psq hotspots``: compute a hotspot analysis on a scope and period, and store the run."""

from __future__ import annotations

import click

from web.cli.common import Day, engine, user_errors


# -- hotspots -----------------------------------------------------------------
@click.command("hotspots")
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
@click.option("--from", "first", type=Day(), help="First day (default: 365 days, or "
              "104 weeks for emerging, before --to).")
@click.option("--to", "last", type=Day(), help="Last day, included (default yesterday).")
@click.option("--category", help="Only this category (code or French label).")
@user_errors
def hotspots_command(scope, method, cell, grid, band, step, lag, bandwidth, eps, min_points, first, last, category):
    """Compute hotspots on a scope and a period, store the run, print its id and summary."""
    from geo.analysis.runs import RunRequest, run_hotspots

    request = RunRequest(scope=scope, method=method, first=first,
                         last=last, category=category, cell=cell, grid=grid, band=band, step=step,
                         lag=lag, bandwidth=bandwidth, eps=eps, min_points=min_points)
    click.echo("\n".join(run_hotspots(engine(), request).lines()))
