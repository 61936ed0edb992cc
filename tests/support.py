"""Paths and helpers shared by the tests (the fixtures are in the conftest.py files, other helpers in tests/fixtures/)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from geo.db.models import Base

ROOT = Path(__file__).resolve().parent.parent
BOUNDARIES = ROOT / "data" / "boundaries"
ARTIFACTS = ROOT / "tests" / "artifacts"
TEST_DATA = ROOT / "tests" / "data"


def table_snapshot(engine) -> dict[str, list]:
    """Every row of every table, to show that a refused import changed nothing."""
    snapshot = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(sa.text(f"SELECT * FROM {table.name} ORDER BY 1")).all()
            snapshot[table.name] = [tuple(r) for r in rows]
    return snapshot
