"""Problems and occurrences, their categories, import batches, and subdivided
territory parts for fast point-in-polygon attribution.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Rows come from data/categories.csv (geo/problems/categories.py keeps them in step).
        CREATE TABLE category (
            code     text PRIMARY KEY CHECK (code ~ '^[a-z_]+$'),
            label    text NOT NULL,
            colour   text NOT NULL CHECK (colour ~ '^#[0-9a-f]{6}$'),
            severity real NOT NULL CHECK (severity > 0),
            aliases  text[] NOT NULL DEFAULT '{}'
        );

        -- Sectors and communes cut into small pieces (ST_Subdivide): a point-in-polygon
        -- test against a few hundred vertices instead of thousands, with a tight GiST
        -- box each. Kept in step by triggers, whoever writes the geometry.
        CREATE TABLE sector_part (
            sector_id integer NOT NULL REFERENCES sector (id) ON DELETE CASCADE,
            geom      geometry(Polygon, 2154) NOT NULL
        );
        CREATE INDEX sector_part_geom_idx ON sector_part USING gist (geom);
        CREATE INDEX sector_part_sector_idx ON sector_part (sector_id);

        CREATE TABLE commune_part (
            insee text NOT NULL REFERENCES commune (insee) ON DELETE CASCADE,
            geom  geometry(Polygon, 2154) NOT NULL
        );
        CREATE INDEX commune_part_geom_idx ON commune_part USING gist (geom);
        CREATE INDEX commune_part_insee_idx ON commune_part (insee);

        -- The 200 m cells (anchored at the Lambert-93 origin: i = floor(x / 200)) that
        -- lie wholly inside a sector or a commune. Most points fall in such a cell and
        -- are attributed by an index lookup on (i, j); only points in border cells need
        -- the point-in-polygon test.
        CREATE TABLE sector_cell (
            i         integer NOT NULL,
            j         integer NOT NULL,
            sector_id integer NOT NULL REFERENCES sector (id) ON DELETE CASCADE,
            PRIMARY KEY (i, j, sector_id)
        );
        CREATE INDEX sector_cell_sector_idx ON sector_cell (sector_id);
        CREATE TABLE commune_cell (
            i     integer NOT NULL,
            j     integer NOT NULL,
            insee text NOT NULL REFERENCES commune (insee) ON DELETE CASCADE,
            PRIMARY KEY (i, j, insee)
        );
        CREATE INDEX commune_cell_insee_idx ON commune_cell (insee);

        CREATE FUNCTION sector_parts_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM sector_part WHERE sector_id = NEW.id;
            INSERT INTO sector_part (sector_id, geom) SELECT NEW.id, ST_Subdivide(NEW.geom, 128);
            DELETE FROM sector_cell WHERE sector_id = NEW.id;
            INSERT INTO sector_cell (i, j, sector_id)
            SELECT g.i, g.j, NEW.id FROM ST_SquareGrid(200, NEW.geom) g WHERE ST_CoveredBy(g.geom, NEW.geom);
            RETURN NULL;
        END $$;
        CREATE TRIGGER sector_parts AFTER INSERT OR UPDATE OF geom ON sector
            FOR EACH ROW EXECUTE FUNCTION sector_parts_refresh();

        CREATE FUNCTION commune_parts_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM commune_part WHERE insee = NEW.insee;
            INSERT INTO commune_part (insee, geom) SELECT NEW.insee, ST_Subdivide(NEW.geom, 128);
            DELETE FROM commune_cell WHERE insee = NEW.insee;
            INSERT INTO commune_cell (i, j, insee)
            SELECT g.i, g.j, NEW.insee FROM ST_SquareGrid(200, NEW.geom) g WHERE ST_CoveredBy(g.geom, NEW.geom);
            RETURN NULL;
        END $$;
        CREATE TRIGGER commune_parts AFTER INSERT OR UPDATE OF geom ON commune
            FOR EACH ROW EXECUTE FUNCTION commune_parts_refresh();

        -- Existing rows: the triggers fire on this no-op update.
        UPDATE sector SET geom = geom;
        UPDATE commune SET geom = geom;

        -- One row per file loaded: what was read, written, rejected.
        CREATE TABLE import_batch (
            id                   serial PRIMARY KEY,
            kind                 text NOT NULL CHECK (kind IN ('occurrences', 'problems')),
            source               text NOT NULL,
            file                 text,
            loaded_at            timestamptz NOT NULL DEFAULT now(),
            rows_read            integer NOT NULL,
            rows_written         integer NOT NULL,
            rows_already_present integer NOT NULL,
            rows_rejected        integer NOT NULL,
            rows_outside_sectors integer NOT NULL
        );

        CREATE TABLE problem (
            id                serial PRIMARY KEY,
            source            text NOT NULL,
            external_id       text NOT NULL,
            category_code     text NOT NULL REFERENCES category (code),
            title             text NOT NULL CHECK (btrim(title) <> ''),
            description       text,
            geom              geometry(Geometry, 2154) NOT NULL CHECK (
                                  ST_IsValid(geom) AND GeometryType(geom) IN
                                  ('POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON')),
            sector_id         integer REFERENCES sector (id),
            commune_insee     text REFERENCES commune (insee),
            csp_id            integer REFERENCES csp (id),
            epci_siren        text REFERENCES epci (siren),
            partner           text,
            status            text NOT NULL DEFAULT 'signale'
                                  CHECK (status IN ('signale', 'priorise', 'en_traitement', 'resolu', 'reouvert')),
            reported_on       date NOT NULL,
            status_changed_at timestamptz NOT NULL DEFAULT now(),
            import_id         integer REFERENCES import_batch (id),
            UNIQUE (source, external_id)
        );
        CREATE INDEX problem_geom_idx ON problem USING gist (geom);
        CREATE INDEX problem_sector_idx ON problem (sector_id);

        CREATE TABLE problem_status_change (
            id          serial PRIMARY KEY,
            problem_id  integer NOT NULL REFERENCES problem (id) ON DELETE CASCADE,
            from_status text,
            to_status   text NOT NULL,
            changed_at  timestamptz NOT NULL,
            note        text,
            author      text
        );
        CREATE INDEX problem_status_change_problem_idx ON problem_status_change (problem_id, changed_at);

        -- The big fact table (millions of rows). Its references are not foreign keys:
        -- they are written only by the set-based attribution, whose values come from
        -- joins on the referenced tables, and per-row FK triggers would cost a third of
        -- the ingest time (bench/ingest.py).
        CREATE TABLE occurrence (
            id            bigserial PRIMARY KEY,
            source        text NOT NULL,
            external_id   text NOT NULL,
            category_code text NOT NULL,
            occurred_at   timestamptz NOT NULL,
            geom          geometry(Point, 2154) NOT NULL,
            description   text,
            address       text,
            problem_id    integer,
            sector_id     integer,
            commune_insee text,
            csp_id        integer,
            epci_siren    text,
            import_id     integer,
            CONSTRAINT occurrence_source_external_id_key UNIQUE (source, external_id)
        );
        CREATE INDEX occurrence_geom_idx ON occurrence USING gist (geom);
        CREATE INDEX occurrence_occurred_at_brin ON occurrence USING brin (occurred_at);
        CREATE INDEX occurrence_sector_time_idx ON occurrence (sector_id, occurred_at);
        COMMENT ON COLUMN occurrence.sector_id IS
            'The sector version valid on the local day of the occurrence; NULL: outside every sector (kept, flagged).';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE occurrence, problem_status_change, problem, import_batch, commune_cell, sector_cell,
            commune_part, sector_part, category;
        DROP FUNCTION sector_parts_refresh, commune_parts_refresh;
        """
    )
