"""Hotspot runs and their results: cells (Gi*, density, emerging category) and clusters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE hotspot_run (
            id            serial PRIMARY KEY,
            method        text NOT NULL CHECK (method IN ('gistar', 'kde', 'dbscan', 'emerging')),
            scope_kind    text NOT NULL CHECK (scope_kind IN ('sector', 'csp', 'commune', 'polygon')),
            scope_ref     text NOT NULL,
            scope_geom    geometry(MultiPolygon, 2154) NOT NULL,
            period_from   date NOT NULL,
            period_to     date NOT NULL CHECK (period_to >= period_from),
            category_code text REFERENCES category (code),
            cell_size     double precision,
            params        jsonb NOT NULL,
            occurrences   integer NOT NULL,
            cells         integer,
            summary       jsonb NOT NULL DEFAULT '{}',
            warnings      text[] NOT NULL DEFAULT '{}',
            created_at    timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON COLUMN hotspot_run.period_to IS 'Last day of the period, included.';

        -- One row per cell of the scope (zero counts included). Cell (i, j) is the square
        -- [i * cell_size, (i + 1) * cell_size) x [j * cell_size, (j + 1) * cell_size) in Lambert-93.
        CREATE TABLE hotspot_cell (
            run_id            integer NOT NULL REFERENCES hotspot_run (id) ON DELETE CASCADE,
            i                 integer NOT NULL,
            j                 integer NOT NULL,
            count             integer NOT NULL,
            z                 double precision,
            p                 double precision,
            p_fdr             double precision,
            significant       boolean,
            gi_bin            smallint CHECK (gi_bin BETWEEN -3 AND 3),
            density           double precision,
            emerging_category text,
            trend             smallint CHECK (trend BETWEEN -1 AND 1),
            PRIMARY KEY (run_id, i, j)
        );

        CREATE TABLE hotspot_cluster (
            run_id      integer NOT NULL REFERENCES hotspot_run (id) ON DELETE CASCADE,
            cluster_id  integer NOT NULL,
            occurrences integer NOT NULL,
            hull        geometry(Geometry, 2154) NOT NULL,
            PRIMARY KEY (run_id, cluster_id)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE hotspot_cluster, hotspot_cell, hotspot_run")
