"""Log-out ends the session on the server: ``app_user.sessions_ended_at``.

A session cookie is signed, not stored: one saved before log-out would open the account
again. The web session carries a stamp of the password hash and of this time
(geo.accounts.users), so that logging out (which sets it) ends every session of the
account opened before, as a new password does.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE app_user ADD COLUMN sessions_ended_at timestamptz;
        COMMENT ON COLUMN app_user.sessions_ended_at IS
            'Last log-out: the sessions opened before it no longer open the account.';
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE app_user DROP COLUMN sessions_ended_at")
