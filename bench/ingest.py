"""Ingest benchmark: a million occurrences from CSV into PostGIS, attributed.

Measured side by side in one run, on a database of its own (``psq_bench``) holding
the Belfort demo territory:

- ``copy``: the raw COPY of the CSV into an unlogged table of text columns (the floor);
- ``ours``: ``load_occurrences`` on the same file: read, every row checked, COPY,
  attribution to sector (by date), commune, CSP and EPCI, indexes up to date;
- ``orm``: row-by-row ORM inserts with a sector and a commune lookup per row, on a
  sample, extrapolated (the naive way).

Run: ``.venv/bin/python -m bench.ingest [--rows N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely import Point
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo.db import engine as database
from geo.db.migrations import migrate
from geo.db.models import Occurrence
from geo.ingest.communes import load_communes
from geo.ingest.occurrences import load_occurrences
from geo.ingest.sectors import load_sectors
from geo.problems.categories import categories

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "psq_bench"
ORM_SAMPLE = 2000


def fresh_database() -> sa.engine.Engine:
    server = make_url(database.database_url())
    conninfo = dict(host=server.host, port=server.port, user=server.username, password=server.password,
                    dbname="postgres")
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    engine = database.create_engine(server.set(database=BENCH_DB).render_as_string(hide_password=False))
    migrate(engine)
    load_communes(engine, "90")
    load_sectors(engine, ROOT / "data" / "boundaries" / "sectors-csp-belfort.geojson", valid_from=dt.date(2020, 1, 1))
    return engine


def generate_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Points spread over the CSP's extent (and a little beyond), over two years."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(983_000, 1_000_000, rows)
    y = rng.uniform(6_722_000, 6_740_000, rows)
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x, y)
    start = pd.Timestamp("2023-01-01T00:00")
    when = start + pd.to_timedelta(rng.integers(0, 2 * 365 * 24 * 60, rows), unit="min")
    codes = np.array([c.code for c in categories()])
    pd.DataFrame({
        "id": np.char.add("b", np.arange(rows).astype(str)),
        "category": codes[rng.integers(0, len(codes), rows)],
        "lat": np.round(lat, 6), "lon": np.round(lon, 6),
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
        "description": "Signalement généré pour le banc d'essai",
    }).to_csv(path, index=False)


def time_raw_copy(engine, path: Path) -> float:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS raw_copy"))
        conn.execute(sa.text("CREATE UNLOGGED TABLE raw_copy (id text, category text, lat text, lon text, "
                             "occurred_at text, description text)"))
    started = time.perf_counter()
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy("COPY raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE raw_copy"))
    return elapsed


def time_ours(engine, path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    report = load_occurrences(engine, path, source="bench")
    return time.perf_counter() - started, report.written


def time_orm(engine, path: Path, sample: int) -> float:
    """Seconds per row: an ORM object flushed per row (one INSERT each) after one sector
    and one commune lookup per row, in one transaction."""
    rows = pd.read_csv(path, nrows=sample, dtype=str)
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    started = time.perf_counter()
    with Session(engine) as session:
        for r in rows.itertuples():
            x, y = to_l93.transform(float(r.lon), float(r.lat))
            point = from_shape(Point(x, y), srid=2154)
            when = pd.Timestamp(r.occurred_at).tz_localize("Europe/Paris")
            sector = session.execute(sa.text(
                "SELECT id, csp_id FROM sector WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 2154)) "
                "AND valid_from <= :d AND (valid_to IS NULL OR valid_to > :d)"),
                {"x": x, "y": y, "d": when.date()}).first()
            commune = session.execute(sa.text(
                "SELECT insee, epci_siren FROM commune WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 2154))"),
                {"x": x, "y": y}).first()
            session.add(Occurrence(source="orm", external_id=r.id, category_code=r.category, occurred_at=when,
                                   geom=point, description=r.description,
                                   sector_id=sector.id if sector else None, csp_id=sector.csp_id if sector else None,
                                   commune_insee=commune.insee if commune else None,
                                   epci_siren=commune.epci_siren if commune else None))
            session.flush()
        session.commit()
    return (time.perf_counter() - started) / len(rows)


def run(rows: int = 1_000_000) -> dict:
    engine = fresh_database()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "occurrences.csv"
        generate_csv(path, rows)
        size = path.stat().st_size
        copy_s = time_raw_copy(engine, path)
        ours_s, written = time_ours(engine, path)
        orm_per_row = time_orm(engine, path, ORM_SAMPLE)
    with engine.connect() as conn:
        attributed = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE sector_id IS NOT NULL), count(*) FILTER (WHERE commune_insee IS NOT NULL) "
            "FROM occurrence WHERE source = 'bench'")).one()
    engine.dispose()
    figures = {
        "rows": rows, "csv_bytes": size, "copy_s": copy_s, "ours_s": ours_s, "written": written,
        "in_sector": attributed[0], "in_commune": attributed[1],
        "ours_rows_per_s": rows / ours_s, "orm_rows_per_s": 1 / orm_per_row,
        "orm_estimated_s": orm_per_row * rows,
        "ratio_vs_orm": (orm_per_row * rows) / ours_s, "ratio_vs_copy": ours_s / copy_s,
    }
    return figures


def markdown(f: dict) -> str:
    return "\n".join([
        f"Ingest of {f['rows']:,} generated occurrences ({f['csv_bytes'] / 1e6:.0f} MB of CSV), measured in one run:",
        "",
        "| path | time | rows/s | ratio |",
        "|---|---:|---:|---:|",
        f"| raw COPY into an unlogged text table (floor) | {f['copy_s']:.1f} s | {f['rows'] / f['copy_s']:,.0f} | 1 |",
        f"| `load_occurrences`: checks + COPY + attribution + indexes | {f['ours_s']:.1f} s | "
        f"{f['ours_rows_per_s']:,.0f} | {f['ratio_vs_copy']:.2f} x COPY |",
        f"| ORM row by row, sector + commune lookup per row (sample of {ORM_SAMPLE:,}, extrapolated) | "
        f"{f['orm_estimated_s']:,.0f} s | {f['orm_rows_per_s']:,.0f} | ours is {f['ratio_vs_orm']:,.0f} x faster |",
        "",
        f"Written: {f['written']:,}; in a sector: {f['in_sector']:,}; in a commune: {f['in_commune']:,}.",
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    figures = run(parser.parse_args().rows)
    print(markdown(figures))
