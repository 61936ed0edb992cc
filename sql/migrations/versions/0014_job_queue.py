"""The job queue of the alert worker: procrastinate's schema (tables ``procrastinate_*``, their types and functions).

The alerts to mayors are delivered by ``psq alerts work``, a procrastinate worker
(geo/alerts/worker.py). procrastinate keeps its jobs in PostgreSQL; its schema is
installed here, with the project's other tables, so that ``psq db migrate`` is the one
step that readies a database (and ``psq db dump`` carries the queue with the rest).

The SQL is procrastinate's own (``SchemaManager.get_schema()``) of the version installed
when the migration runs (3.10 when written). A later procrastinate that changes its
schema ships migration files (``procrastinate/sql/migrations/``): apply them in a new
revision of ours, never by editing this one.

The job queue is the worker's, not the app's: ``psq_app`` gets no grant on it, and it
has no row-level security (it holds alert ids, never police data). The outbox
(``alert_outbox``, migration 0013), not a job, is what says an alert is due.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""
from alembic import op
from procrastinate.schema import SchemaManager

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # psycopg's own execute, with no parameters (the migration's transaction: the same connection): the schema
    # is many statements whose '%' and ':' SQLAlchemy or a parameter list would take for placeholders.
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute("""
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DO $$ DECLARE f record; BEGIN
            FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status;
    """)
