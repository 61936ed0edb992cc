"""``psq cameras coverage`` and ``psq cameras propose``; ``psq load cameras`` (issue 16 item 3).

The commands act as an administrator (the command line sees every camera and occurrence):
the scope is ``UserScope("admin")``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from web.cli.common import Day, engine, user_errors


@click.command("cameras")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", help="Name of the data's origin (default: the file name); re-imports update per source.")
@user_errors
def load_cameras_command(file, source):
    """Load video-protection cameras (CSV id, lat, lon, bearing, fov, range, status, owner; or GeoJSON points)."""
    from geo.referents.cameras import load_cameras

    click.echo("\n".join(load_cameras(engine(), file, source=source).lines()))


#: Commands added to ``psq load`` (web/cli/__init__.py): ``psq load cameras``.
LOAD_COMMANDS: list = [load_cameras_command]


@click.group("cameras")
def cameras():
    """Video-protection cameras: coverage of the occurrences, new sites (MCLP)."""


def _selection_options(command):
    """--commune, --category, --from, --to, --json: what both commands select."""
    for option in reversed([
        click.option("--commune", required=True, metavar="INSEE", help="INSEE code of the commune, e.g. 90010."),
        click.option("--category", "categories", multiple=True,
                     help="Count this category only (code, label or alias); repeatable; default every category."),
        click.option("--from", "first", type=Day(), help="First day of the period (default: 365 days before --to)."),
        click.option("--to", "last", type=Day(), help="Last day of the period (default: yesterday)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines."),
    ]):
        command = option(command)
    return command


def _admin():
    from geo.accounts.users import UserScope

    return UserScope("admin")


def _share(value) -> str:
    return "no occurrence, no share" if value is None else f"{value:.1%}"


@cameras.command("coverage")
@_selection_options
@user_errors
def coverage_command(commune, categories, first, last, as_json):
    """The share of a commune's occurrences inside the existing cameras' wedges, and its uncovered hot cells."""
    from geo.referents.cameras import coverage

    result = coverage(engine(), _admin(), commune, categories=categories, first=first, last=last)
    uncovered = [{"i": c.i, "j": c.j, "occurrences": c.occurrences, "covered": c.covered}
                 for c in result.uncovered_hot_cells]
    if as_json:
        click.echo(json.dumps({"occurrences": result.occurrences, "covered": result.covered, "share": result.share,
                               "uncovered_hot_cells": uncovered}, indent=2))
        return
    click.echo(f"Commune {commune}, {result.first} to {result.last}: {result.occurrences} occurrences, "
               f"{result.covered} inside the wedges of {len(result.cameras)} existing cameras "
               f"({_share(result.share)}).")
    click.echo(f"Hot cells (Gi*, 200 m): {len(result.hot_cells)}, {len(uncovered)} left uncovered"
               + (f" ({result.note})." if result.note else "."))
    for c in uncovered:
        click.echo(f"  cell {c['i']},{c['j']}: {c['covered']} of {c['occurrences']} occurrences covered")


@cameras.command("propose")
@_selection_options
@click.option("--p", "p", type=int, required=True, help="How many new cameras to propose (1-20).")
@click.option("--candidates", "candidates_file", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV of candidate sites (id, lat, lon); default a 50 m grid over the commune.")
@click.option("--range", "range_m", type=float, default=60, show_default=True,
              help="Range of each new camera in metres (5-300).")
@click.option("--fov", type=float, default=360, show_default=True,
              help="Field of view of each new camera in degrees (1-360; under 360: 8 orientations per site).")
@user_errors
def propose_command(commune, categories, first, last, as_json, p, candidates_file, range_m, fov):
    """Propose new camera sites covering the most uncovered occurrences (maximal covering location problem)."""
    from geo.referents.siting import check_parameters, propose_sites, read_candidates

    check_parameters(p, range_m, fov)
    candidates = read_candidates(candidates_file) if candidates_file else None
    result = propose_sites(engine(), _admin(), commune, p, candidates=candidates, range_m=range_m, fov=fov,
                           categories=categories, first=first, last=last)
    if as_json:
        sites = [{"id": s.id, "lat": round(s.lat, 6), "lon": round(s.lon, 6), "bearing": s.bearing,
                  "gain": s.gain} for s in result.sites]
        click.echo(json.dumps({"chosen": result.chosen, "covered": result.covered, "share": result.share,
                               "gains": result.gains, "already_covered": result.already_covered,
                               "occurrences": result.occurrences, "exact": result.exact, "pool": result.pool,
                               "sites": sites}, indent=2))
        return
    click.echo(f"Commune {commune}, {result.first} to {result.last}: {result.occurrences} occurrences, "
               f"{result.already_covered} already covered by {len(result.existing)} existing cameras; "
               f"{result.candidates} candidate cameras.")
    for n, s in enumerate(result.sites, start=1):
        aim = "dome" if fov >= 360 else f"bearing {s.bearing:g}"
        click.echo(f"  {n}. {s.id} at lat {s.lat:.6f}, lon {s.lon:.6f} ({aim}): +{s.gain} occurrences")
    if not result.sites:
        click.echo("  No new site would cover any uncovered occurrence.")
    click.echo(f"Covered with the new cameras: {result.covered} ({_share(result.share)}).")
    if result.sites:
        click.echo("The choice is proved optimal over every candidate." if result.exact else
                   f"The choice is optimal over the {result.pool} candidates that alone cover the most, of "
                   f"{result.candidates}; over every candidate it is not proved.")
