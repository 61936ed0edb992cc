"""Login limits that never lock the owner out, and an audit log of every write.

- ``rate_limit``: the counters of Flask-Limiter (web/limits.py), shared by every
  gunicorn worker: failed logins per client address, JSON requests per user. Unlogged:
  a counter lost in a crash only forgives a few attempts.
- ``app_user.locked_until`` becomes ``throttled_until``: after repeated failures an
  account is not locked, its log-in is slowed (growing delays, at most a few minutes),
  and never for the browser its owner logged in from before (geo.accounts.users).
- Every write to a table of data goes to ``audit_log`` by a statement-level trigger
  (who: ``psq.user_id``, from where: ``psq.ip``, both set per transaction by the unit of
  work; how: the web app or the command), so that no write escapes it, whatever code
  makes it. The app's own semantic rows (``patrol_zone.create``, ``login.failure``,
  ``export.sectors``...) stand beside them with their details. Derived tables (kept
  views, data versions, rate counters) are left out: a read writes them.
- ``audit_log`` is readable by the app's role for an admin only (row-level security);
  the app's role may only insert (no UPDATE, DELETE or TRUNCATE grant), and the trigger
  of 0004 refuses UPDATE and DELETE even to the owner.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: Tables whose writes are not audited: the log itself, derived caches and counters a read
#: writes, and the tables of Alembic and PostGIS. Every other table gets the trigger; a test
#: (tests/geo/db/test_audit_log.py) checks that every table has it or is named here.
NOT_AUDITED = ("audit_log", "rate_limit", "kept_view", "data_version", "alembic_version", "spatial_ref_sys")


def upgrade() -> None:
    op.execute("""
        CREATE UNLOGGED TABLE rate_limit (
            key        text PRIMARY KEY,
            hits       integer NOT NULL CHECK (hits >= 0),
            expires_at timestamptz NOT NULL
        );
        COMMENT ON TABLE rate_limit IS 'Counters of Flask-Limiter (fixed windows), shared by every worker.';
        GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit TO psq_app;

        ALTER TABLE app_user RENAME COLUMN locked_until TO throttled_until;
        COMMENT ON COLUMN app_user.throttled_until IS
            'After repeated failures, no log-in before this time but from a browser the owner used before.';
        COMMENT ON COLUMN app_user.failed_logins IS 'Failed logins since the last success.';

        CREATE FUNCTION psq_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit_log (user_id, action, target, details, ip)
            VALUES (nullif(current_setting('psq.user_id', true), '')::integer,
                    'write.' || lower(TG_OP), TG_TABLE_NAME,
                    jsonb_build_object('via', CASE WHEN current_user = 'psq_app' THEN 'web'
                                                   ELSE coalesce(nullif(current_setting('application_name'), ''),
                                                                 'sql') END,
                                       'database_user', session_user::text),
                    nullif(current_setting('psq.ip', true), ''));
            RETURN NULL;
        END;
        $$;

        ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;  -- not FORCE: the owner (loaders, dumps) reads it all
        CREATE POLICY append ON audit_log FOR INSERT WITH CHECK (true);
        CREATE POLICY admin_reads ON audit_log FOR SELECT USING ((SELECT psq_role()) = 'admin');
        GRANT SELECT ON audit_log TO psq_app;
    """)
    op.execute(f"""
        DO $$
        DECLARE t text;
        BEGIN
            FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
                     AND tablename <> ALL (ARRAY{list(NOT_AUDITED)}) LOOP
                EXECUTE format('CREATE TRIGGER audit_write AFTER INSERT OR UPDATE OR DELETE ON %I '
                               'FOR EACH STATEMENT EXECUTE FUNCTION psq_audit_write()', t);
            END LOOP;
        END $$;
    """)


def downgrade() -> None:
    op.execute(f"""
        DO $$
        DECLARE t text;
        BEGIN
            FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
                     AND tablename <> ALL (ARRAY{list(NOT_AUDITED)}) LOOP
                EXECUTE format('DROP TRIGGER IF EXISTS audit_write ON %I', t);
            END LOOP;
        END $$;
        REVOKE SELECT ON audit_log FROM psq_app;
        DROP POLICY admin_reads ON audit_log;
        DROP POLICY append ON audit_log;
        ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY;
        DROP FUNCTION psq_audit_write();
        ALTER TABLE app_user RENAME COLUMN throttled_until TO locked_until;
        DROP TABLE rate_limit;
    """)
