"""Patrol-focus zones drawn by sector chiefs, and the problems they target.

A zone belongs to a sector *code* of a CSP (like a chief's scope: sector versions
change, the code stays). Zones are never deleted: ``deleted_at`` marks a withdrawn
zone, kept for history. Every write is also in ``audit_log`` (geo/patrol/zones.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE patrol_zone (
            id          serial PRIMARY KEY,
            csp_id      integer NOT NULL REFERENCES csp (id),
            sector_code text NOT NULL,
            geom        geometry(MultiPolygon, 2154) NOT NULL CHECK (ST_IsValid(geom)),
            reason      text NOT NULL CHECK (btrim(reason) <> ''),
            valid_from  date NOT NULL,
            valid_to    date CHECK (valid_to IS NULL OR valid_to >= valid_from),
            time_slots  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(time_slots) = 'array'),
            author_id   integer REFERENCES app_user (id),
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now(),
            deleted_at  timestamptz
        );
        COMMENT ON COLUMN patrol_zone.valid_to IS 'Last day of validity, included; NULL: open-ended.';
        COMMENT ON COLUMN patrol_zone.deleted_at IS 'Withdrawn (soft delete): kept for history.';
        CREATE INDEX patrol_zone_sector_idx ON patrol_zone (csp_id, sector_code);
        CREATE INDEX patrol_zone_geom_idx ON patrol_zone USING gist (geom);

        CREATE TABLE patrol_zone_problem (
            zone_id    integer NOT NULL REFERENCES patrol_zone (id) ON DELETE CASCADE,
            problem_id integer NOT NULL REFERENCES problem (id) ON DELETE CASCADE,
            PRIMARY KEY (zone_id, problem_id)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE patrol_zone_problem, patrol_zone")
