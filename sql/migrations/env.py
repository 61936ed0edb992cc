"""Alembic environment: migrations run on the connection psq hands over.

`psq db migrate` (geo/db/migrations.py) passes a live connection in
``config.attributes["connection"]``; run by the ``alembic`` command instead, the URL
comes from DATABASE_URL or the embedded cluster.
"""

from alembic import context

from geo.db.models import Base


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    from geo.db.engine import create_engine

    with create_engine().connect() as conn:
        run_migrations(conn)
        conn.commit()
