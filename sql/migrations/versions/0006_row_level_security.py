"""Row-level security, the second lock (DESIGN.md section 7), and the web app's own role.

``psq_app`` is the role the web app logs in as: it owns nothing, is not superuser,
has no BYPASSRLS and holds only the grants the pages need. Its password is set by
``psq db migrate`` (geo/db/migrations.py), not here, so that it never lands in a
migration file.

The tables holding scoped data (occurrence, problem and its status trail, patrol_zone
and its problems) have ENABLE and FORCE ROW LEVEL SECURITY. The policies test what a
row is attributed to against the scope the unit of work sets for each transaction
(geo/db/unit_of_work.py: ``psq.role``, ``psq.sector_ids``, ``psq.commune``):

- admin and référent: every row;
- a chief: rows attributed to a version of one of his sectors (for a zone: its CSP
  and sector code);
- a mayor: rows attributed to his commune;
- anyone else, or no scope set: no row (fail closed).

The scope functions are wrapped in scalar subqueries in the policies so that they are
evaluated once per query (an InitPlan), not once per row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCOPED = ("occurrence", "problem", "problem_status_change", "patrol_zone", "patrol_zone_problem")
READ_ONLY = ("departement", "epci", "commune", "csp", "sector", "category", "sector_part", "commune_part",
             "sector_cell", "commune_cell", "user_sector", "user_commune", "occurrence", "problem",
             "problem_status_change")


def upgrade() -> None:
    op.execute("""
        DO $$ BEGIN
            CREATE ROLE psq_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
        EXCEPTION WHEN duplicate_object THEN NULL;  -- roles belong to the server: one per cluster
        END $$;
        DO $$ BEGIN
            EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO psq_app', current_database());
        END $$;
        GRANT USAGE ON SCHEMA public TO psq_app;
    """)
    op.execute("GRANT SELECT ON " + ", ".join(READ_ONLY) + " TO psq_app")
    op.execute("""
        GRANT SELECT, INSERT, UPDATE ON patrol_zone TO psq_app;
        GRANT SELECT, INSERT, DELETE ON patrol_zone_problem TO psq_app;
        GRANT USAGE ON SEQUENCE patrol_zone_id_seq TO psq_app;
        GRANT SELECT, UPDATE ON app_user TO psq_app;
        GRANT INSERT ON audit_log TO psq_app;
        GRANT USAGE ON SEQUENCE audit_log_id_seq TO psq_app;

        CREATE FUNCTION psq_role() RETURNS text LANGUAGE sql STABLE
            AS $$ SELECT coalesce(current_setting('psq.role', true), '') $$;
        CREATE FUNCTION psq_sees_all() RETURNS boolean LANGUAGE sql STABLE
            AS $$ SELECT psq_role() IN ('admin', 'referent') $$;
        CREATE FUNCTION psq_sector_ids() RETURNS integer[] LANGUAGE sql STABLE
            AS $$ SELECT CASE WHEN psq_role() = 'chef_secteur'
                              THEN string_to_array(nullif(current_setting('psq.sector_ids', true), ''), ',')::integer[]
                              ELSE '{}'::integer[] END $$;
        CREATE FUNCTION psq_commune() RETURNS text LANGUAGE sql STABLE
            AS $$ SELECT CASE WHEN psq_role() = 'maire' THEN nullif(current_setting('psq.commune', true), '') END $$;
    """)
    for table in SCOPED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW LEVEL SECURITY;")
    op.execute("""
        CREATE POLICY scope ON occurrence USING (
            (SELECT psq_sees_all())
            OR sector_id = ANY ((SELECT psq_sector_ids())::integer[])
            OR commune_insee = (SELECT psq_commune()));
        CREATE POLICY scope ON problem USING (
            (SELECT psq_sees_all())
            OR sector_id = ANY ((SELECT psq_sector_ids())::integer[])
            OR commune_insee = (SELECT psq_commune()));
        CREATE POLICY scope ON problem_status_change USING (
            EXISTS (SELECT 1 FROM problem p WHERE p.id = problem_status_change.problem_id));
        CREATE POLICY scope ON patrol_zone USING (
            (SELECT psq_sees_all())
            OR EXISTS (SELECT 1 FROM sector s WHERE s.id = ANY ((SELECT psq_sector_ids())::integer[])
                       AND s.csp_id = patrol_zone.csp_id AND s.code = patrol_zone.sector_code));
        CREATE POLICY scope ON patrol_zone_problem USING (
            EXISTS (SELECT 1 FROM patrol_zone z WHERE z.id = patrol_zone_problem.zone_id));
    """)


def downgrade() -> None:
    for table in SCOPED:
        op.execute(f"DROP POLICY IF EXISTS scope ON {table}; ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; "
                   f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;")
    op.execute("DROP FUNCTION psq_commune(), psq_sector_ids(), psq_sees_all(), psq_role()")
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM psq_app; "
               "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM psq_app; REVOKE ALL ON SCHEMA public FROM psq_app")
