"""The days a sector version is in force, as one range column: the one definition of "valid on a day".

``valid_during`` is ``[valid_from, valid_to)``, unbounded above while ``valid_to`` is
NULL. Every query that asks which version of a sector was in force on a day writes
``s.valid_during @> day`` instead of spelling the two bounds again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE sector ADD COLUMN valid_during daterange
            GENERATED ALWAYS AS (daterange(valid_from, valid_to, '[)')) STORED;
        COMMENT ON COLUMN sector.valid_during IS
            'The days the version is in force: valid_from included, valid_to excluded, unbounded while valid_to is NULL.';
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE sector DROP COLUMN valid_during")
