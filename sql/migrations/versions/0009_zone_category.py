"""A patrol zone may follow one category: the one of the suggestion it was created from.

A zone made from a suggestion of dealing hot cells is about dealing: its contents count
that category only, and the problems of that category inside it are linked to it. NULL:
the zone follows every category (a zone drawn by hand, or from a DBSCAN cluster of all).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE patrol_zone ADD COLUMN category_code text REFERENCES category (code);
        COMMENT ON COLUMN patrol_zone.category_code IS
            'The one category the zone follows (its contents count it only); NULL: every category.';
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE patrol_zone DROP COLUMN category_code")
