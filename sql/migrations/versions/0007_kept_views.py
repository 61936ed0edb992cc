"""Kept views: what every web worker reuses, in PostgreSQL, keyed by the view and the data's version.

The sector page's statistics and its rendered map cost a few hundred milliseconds and
are the same for every request of the same view until the data change. They were kept
in one process's memory; under gunicorn each worker recomputed them. ``kept_view`` holds
them for every worker (geo/db/kept_views.py), as JSON only (never pickles).

``data_version`` counts the writes to each kind of data (occurrences, problems, zones,
territory): a statement-level trigger on each table bumps its counter in the writing
transaction, so a reader sees the new number only with the new rows. A kept view's key
holds the counters it was computed under: after any write it is never found again, and
the next visit of that view prunes it.

``kept_view`` holds police data (counts and statistics of a sector, figures of a
commune): ENABLE and FORCE ROW LEVEL SECURITY. A view is computed under the scope of
the user who asked for it (the policies of migration 0006 decide what it counts), so a
row is readable and writable only under that same scope: ``scope`` is
``psq_scope_key()`` (role, sector versions, commune of the transaction's settings), set
by default and checked by the policy. With no scope set, the key is NULL: nothing is
read and nothing can be kept.

``psq_app`` runs without JIT compilation: its queries are short, and the row-level
security predicates inflate the planner's estimates past the JIT threshold, which cost
15 to 20 ms of compilation on every 10 ms query (bench/RESULTS.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Table -> the counter its writes bump.
VERSIONED = {
    "occurrence": "occurrences",
    "problem": "problems", "problem_status_change": "problems",
    "patrol_zone": "zones", "patrol_zone_problem": "zones",
    "csp": "territory", "sector": "territory", "commune": "territory",
}


def upgrade() -> None:
    op.execute("""
        CREATE TABLE data_version (
            name    text PRIMARY KEY,
            version bigint NOT NULL DEFAULT 0
        );
        INSERT INTO data_version (name) VALUES ('occurrences'), ('problems'), ('zones'), ('territory');

        -- SECURITY DEFINER: the app's role bumps the counter of the zones it writes without a grant on it.
        CREATE FUNCTION psq_bump_data_version() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
            SET search_path = public AS $$
        BEGIN
            INSERT INTO data_version AS d (name, version) VALUES (TG_ARGV[0], 1)
                ON CONFLICT (name) DO UPDATE SET version = d.version + 1;
            RETURN NULL;
        END $$;

        -- The scope the unit of work set (geo/db/unit_of_work.py), as one text; NULL with no scope.
        CREATE FUNCTION psq_scope_key() RETURNS text LANGUAGE sql STABLE AS $$
            SELECT CASE WHEN psq_role() <> ''
                        THEN psq_role() || '|' || coalesce(current_setting('psq.sector_ids', true), '')
                             || '|' || coalesce(current_setting('psq.commune', true), '') END $$;

        CREATE TABLE kept_view (
            key           text PRIMARY KEY,
            kind          text NOT NULL,
            scope         text NOT NULL DEFAULT psq_scope_key(),
            sector_id     integer REFERENCES sector (id) ON DELETE CASCADE,
            commune_insee text REFERENCES commune (insee) ON DELETE CASCADE,
            versions      jsonb NOT NULL,
            content       jsonb NOT NULL,
            kept_at       timestamptz NOT NULL DEFAULT now(),
            CHECK ((sector_id IS NULL) <> (commune_insee IS NULL))
        );
        COMMENT ON COLUMN kept_view.key IS 'SHA-256 of the view (kind, parameters, scope) and the data versions.';
        COMMENT ON COLUMN kept_view.scope IS 'The scope it was computed under: only that scope reads it.';
        COMMENT ON COLUMN kept_view.versions IS 'The data_version counters the content was computed under.';
        CREATE INDEX kept_view_sector_idx ON kept_view (sector_id, kind);
        CREATE INDEX kept_view_commune_idx ON kept_view (commune_insee, kind);
        ALTER TABLE kept_view ENABLE ROW LEVEL SECURITY;
        ALTER TABLE kept_view FORCE ROW LEVEL SECURITY;
        CREATE POLICY scope ON kept_view USING (scope = (SELECT psq_scope_key()));

        GRANT SELECT ON data_version TO psq_app;
        GRANT SELECT, INSERT, DELETE ON kept_view TO psq_app;
        GRANT UPDATE (kept_at) ON kept_view TO psq_app;  -- what SELECT ... FOR UPDATE of the pruning needs
        ALTER ROLE psq_app SET jit = off;
    """)
    for table, name in VERSIONED.items():
        op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION psq_bump_data_version('{name}')")


def downgrade() -> None:
    for table in VERSIONED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
    op.execute("""
        ALTER ROLE psq_app RESET jit;
        DROP TABLE kept_view;
        DROP FUNCTION psq_scope_key();
        DROP FUNCTION psq_bump_data_version();
        DROP TABLE data_version;
    """)
