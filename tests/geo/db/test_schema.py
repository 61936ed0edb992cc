"""The migrations are idempotent and the models describe the schema they build."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from geo.db.migrations import head_revision, migrate
from geo.db.models import Base


def test_migrate_twice_changes_nothing(engine, psq):
    assert migrate(engine) == (head_revision(), head_revision())
    result = psq("db", "migrate")
    assert result.output.strip() == f"Schema at revision {head_revision()} (already up to date)."


def test_models_match_migrations(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    # GiST indexes are declared in the migrations only (GeoAlchemy2 would name them otherwise).
    diff = [d for d in diff if not (d[0] == "remove_index" and d[1].name.endswith("geom_idx"))]
    # PostGIS's own table.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")]
    # The job queue of the alert worker: procrastinate's own schema (migration 0014), not our models.
    diff = [d for d in diff if not (d[0] in ("remove_table", "remove_index")
                                    and getattr(d[1], "table", d[1]).name.startswith("procrastinate_"))]
    assert [repr(d)[:200] for d in diff] == []


def test_sector_versions_cannot_overlap_in_time(engine):
    square = "ST_Multi(ST_MakeEnvelope(990000, 6720000, 991000, 6721000, 2154))"
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO csp (name) VALUES ('CSP X')"))
        conn.execute(sa.text(f"INSERT INTO sector (csp_id, code, name, geom, valid_from, valid_to) "
                             f"VALUES (1, 'A', 'A', {square}, '2024-01-01', '2025-01-01')"))
    with pytest.raises(IntegrityError, match="sector_one_version_at_a_time"):
        with engine.begin() as conn:
            conn.execute(sa.text(f"INSERT INTO sector (csp_id, code, name, geom, valid_from) "
                                 f"VALUES (1, 'A', 'A2', {square}, :d)"), {"d": dt.date(2024, 6, 1)})
