"""Territory: départements, EPCI, communes, CSP and sectors with their history.

All geometry is stored in Lambert-93 (EPSG:2154) so that distances and areas are in
metres (DESIGN.md section 4). A département keeps the SRID of its official
projection, so that overseas territories can be added later without a rewrite.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    # btree_gist lets one exclusion constraint forbid two versions of the same
    # sector whose validity periods overlap.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        """
        CREATE TABLE departement (
            code   text PRIMARY KEY,
            name   text NOT NULL,
            region text,
            srid   integer NOT NULL DEFAULT 2154
        );

        CREATE TABLE epci (
            siren text PRIMARY KEY,
            name  text NOT NULL,
            kind  text
        );

        CREATE TABLE commune (
            insee            text PRIMARY KEY,
            name             text NOT NULL,
            departement_code text NOT NULL REFERENCES departement (code),
            epci_siren       text REFERENCES epci (siren),
            population       integer CHECK (population >= 0),
            area_km2         double precision NOT NULL,
            geom             geometry(MultiPolygon, 2154) NOT NULL CHECK (ST_IsValid(geom)),
            town_hall        geometry(Point, 2154),
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX commune_geom_idx ON commune USING gist (geom);
        CREATE INDEX commune_departement_idx ON commune (departement_code);
        COMMENT ON COLUMN commune.area_km2 IS
            'Geodesic area on the GRS80 ellipsoid, not the Lambert-93 planar area (which is off by up to 0.3 %).';

        CREATE TABLE csp (
            id               serial PRIMARY KEY,
            name             text NOT NULL UNIQUE,
            departement_code text REFERENCES departement (code),
            zone             text NOT NULL DEFAULT 'police' CHECK (zone IN ('police', 'gendarmerie'))
        );

        CREATE TABLE sector (
            id         serial PRIMARY KEY,
            csp_id     integer NOT NULL REFERENCES csp (id),
            code       text NOT NULL CHECK (btrim(code) <> ''),
            name       text NOT NULL CHECK (btrim(name) <> ''),
            chief      text,
            geom       geometry(MultiPolygon, 2154) NOT NULL CHECK (ST_IsValid(geom)),
            valid_from date NOT NULL,
            valid_to   date CHECK (valid_to IS NULL OR valid_to > valid_from),
            source     text,
            loaded_at  timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT sector_one_version_at_a_time EXCLUDE USING gist (
                csp_id WITH =, code WITH =, daterange(valid_from, valid_to) WITH &&
            )
        );
        CREATE INDEX sector_geom_idx ON sector USING gist (geom);
        COMMENT ON COLUMN sector.valid_to IS 'Exclusive end of validity; NULL for the current version.';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE sector, csp, commune, epci, departement")
