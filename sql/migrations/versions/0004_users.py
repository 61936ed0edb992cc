"""Users of the web app, their scope, and the audit log.

A user has one role (DESIGN.md section 7). A sector chief's scope is a set of sector
*codes* of a CSP, not sector version ids: boundaries change and versions come and go,
the code stays. A mayor's scope is his commune. Every account write and every login
attempt goes to ``audit_log``, which is append-only: a trigger refuses UPDATE and
DELETE on it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE app_user (
            id             serial PRIMARY KEY,
            email          text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
            password_hash  text NOT NULL,
            role           text NOT NULL
                           CHECK (role IN ('admin', 'chef_secteur', 'referent', 'maire', 'partenaire')),
            display_name   text,
            active         boolean NOT NULL DEFAULT true,
            created_at     timestamptz NOT NULL DEFAULT now(),
            last_login_at  timestamptz,
            failed_logins  integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
            locked_until   timestamptz
        );
        COMMENT ON COLUMN app_user.password_hash IS 'argon2id hash (PHC string); never the password.';
        COMMENT ON COLUMN app_user.failed_logins IS
            'Failed logins since the last success or the last lockout.';

        -- A sector chief's sectors: codes of a CSP, whatever their versions.
        CREATE TABLE user_sector (
            user_id     integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            csp_id      integer NOT NULL REFERENCES csp (id),
            sector_code text NOT NULL,
            PRIMARY KEY (user_id, csp_id, sector_code)
        );

        -- A mayor's commune.
        CREATE TABLE user_commune (
            user_id integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            insee   text NOT NULL REFERENCES commune (insee),
            PRIMARY KEY (user_id, insee)
        );

        CREATE TABLE audit_log (
            id      bigserial PRIMARY KEY,
            at      timestamptz NOT NULL DEFAULT now(),
            user_id integer REFERENCES app_user (id),
            action  text NOT NULL,
            target  text,
            details jsonb NOT NULL DEFAULT '{}',
            ip      text
        );
        COMMENT ON COLUMN audit_log.user_id IS 'Who did it; NULL for the command line or an unknown login.';
        CREATE INDEX audit_log_at_brin ON audit_log USING brin (at);
        CREATE INDEX audit_log_user_idx ON audit_log (user_id, at);
        CREATE INDEX audit_log_target_idx ON audit_log (target, at);

        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
        END;
        $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE audit_log, user_commune, user_sector, app_user")
    op.execute("DROP FUNCTION audit_log_append_only()")
