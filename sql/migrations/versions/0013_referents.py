"""Référents sûreté, audit requests, cameras, conventions, security contracts, alerts to mayors.

- ``referent``: a référent or correspondant sûreté, his service and base; ``referent_commune``
  the communes he covers (one référent per commune); ``user_referent`` ties a ``referent``
  account to his record (no policy: read to load the account, like ``user_commune``).
- ``audit_request``: a town's request for a study (vidéoprotection de voie publique, site,
  événement), its need in words, the référent it is assigned to, the dates it was planned
  for and done on, its report (a file kept in the database).
- ``camera``: a point, its bearing (degrees clockwise from north), field of view and range;
  existing or proposed; its owner; the commune and sector it stands in (attributed at load).
- ``convention``: a convention de participation citoyenne (3 years, tacit renewal).
- ``csi_contract`` and ``csi_commune``: a contrat de sécurité intégrée and the communes it covers.
- ``alert_subscription``: a mayor's opt-in per category (immediate or in the daily digest);
  ``alert_outbox``: one notification per (occurrence, user), written in the transaction of
  the import, delivered by the worker (``psq alerts work``).

Row-level security, fail closed without a scope:

- referent, referent_commune, csi_commune: any scoped user (who covers which town is not confidential).
- audit_request: admin; a référent, the requests assigned to him and those of the towns he covers;
  a mayor, his town's.
- camera: admin and référent; a chief, those in his sectors; a mayor, those in his town.
- convention: admin and référent; a chief, those of the towns his sectors touch; a mayor, his town's.
- csi_contract: admin and référent; otherwise when one of its communes is visible as for convention.
- alert_subscription, alert_outbox: admin, or the user's own rows (``psq.user_id``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("referent", "referent_commune", "user_referent", "audit_request", "camera", "convention",
          "csi_contract", "csi_commune", "alert_subscription", "alert_outbox")
REFERENT_KINDS = ("referent", "correspondant")
AUDIT_KINDS = ("videoprotection_voie_publique", "site", "evenement")
AUDIT_STATUSES = ("demandee", "attribuee", "planifiee", "realisee", "abandonnee")
CAMERA_STATUSES = ("existing", "proposed")
CAMERA_OWNERS = ("commune", "bailleur", "transporteur", "autre")
OUTBOX_STATUSES = ("pending", "sent")


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE referent (
            id      serial PRIMARY KEY,
            name    text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
            kind    text NOT NULL CHECK (kind IN {_in(REFERENT_KINDS)}),
            service text NOT NULL CHECK (btrim(service) <> ''),
            email   text,
            phone   text,
            base    geometry(Point, 2154) NOT NULL
        );
        CREATE TABLE referent_commune (
            commune_insee text PRIMARY KEY REFERENCES commune (insee),
            referent_id   integer NOT NULL REFERENCES referent (id) ON DELETE CASCADE
        );
        CREATE INDEX referent_commune_referent_idx ON referent_commune (referent_id);
        CREATE TABLE user_referent (
            user_id     integer PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
            referent_id integer NOT NULL REFERENCES referent (id)
        );

        CREATE TABLE audit_request (
            id              serial PRIMARY KEY,
            commune_insee   text NOT NULL REFERENCES commune (insee),
            kind            text NOT NULL CHECK (kind IN {_in(AUDIT_KINDS)}),
            need            text NOT NULL CHECK (btrim(need) <> ''),
            site            text,
            requested_on    date NOT NULL,
            referent_id     integer REFERENCES referent (id),
            assigned_on     date,
            planned_on      date,
            done_on         date,
            status          text NOT NULL DEFAULT 'demandee' CHECK (status IN {_in(AUDIT_STATUSES)}),
            report          bytea,
            report_filename text,
            report_type     text,
            created_by      integer REFERENCES app_user (id),
            created_at      timestamptz NOT NULL DEFAULT now(),
            CHECK ((report IS NULL) = (report_filename IS NULL)),
            CHECK ((status = 'realisee') = (done_on IS NOT NULL))
        );
        CREATE INDEX audit_request_commune_idx ON audit_request (commune_insee);
        CREATE INDEX audit_request_referent_idx ON audit_request (referent_id);

        CREATE TABLE camera (
            id            serial PRIMARY KEY,
            source        text NOT NULL,
            external_id   text NOT NULL,
            geom          geometry(Point, 2154) NOT NULL,
            bearing       double precision NOT NULL CHECK (bearing >= 0 AND bearing < 360),
            fov           double precision NOT NULL CHECK (fov > 0 AND fov <= 360),
            range_m       double precision NOT NULL CHECK (range_m > 0 AND range_m <= 1000),
            status        text NOT NULL CHECK (status IN {_in(CAMERA_STATUSES)}),
            owner         text NOT NULL CHECK (owner IN {_in(CAMERA_OWNERS)}),
            commune_insee text REFERENCES commune (insee),
            sector_id     integer REFERENCES sector (id),
            loaded_at     timestamptz NOT NULL DEFAULT now(),
            UNIQUE (source, external_id)
        );
        CREATE INDEX camera_geom_idx ON camera USING gist (geom);
        CREATE INDEX camera_commune_idx ON camera (commune_insee);

        CREATE TABLE convention (
            id             serial PRIMARY KEY,
            commune_insee  text NOT NULL REFERENCES commune (insee),
            signed_on      date NOT NULL,
            duration_years integer NOT NULL DEFAULT 3 CHECK (duration_years > 0),
            volunteers     integer NOT NULL DEFAULT 0 CHECK (volunteers >= 0),
            ended_on       date,
            UNIQUE (commune_insee, signed_on)
        );
        CREATE TABLE csi_contract (
            id               serial PRIMARY KEY,
            name             text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
            epci_siren       text REFERENCES epci (siren),
            signed_on        date NOT NULL,
            duration_years   integer NOT NULL CHECK (duration_years > 0),
            municipal_police integer CHECK (municipal_police >= 0),
            cameras          integer CHECK (cameras >= 0),
            supervision_centre boolean NOT NULL DEFAULT false,
            engagements      text
        );
        CREATE TABLE csi_commune (
            contract_id   integer NOT NULL REFERENCES csi_contract (id) ON DELETE CASCADE,
            commune_insee text NOT NULL REFERENCES commune (insee),
            PRIMARY KEY (contract_id, commune_insee)
        );
        CREATE INDEX csi_commune_insee_idx ON csi_commune (commune_insee);

        CREATE TABLE alert_subscription (
            user_id       integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            category_code text NOT NULL REFERENCES category (code),
            digest        boolean NOT NULL DEFAULT false,
            PRIMARY KEY (user_id, category_code)
        );
        CREATE TABLE alert_outbox (
            id            bigserial PRIMARY KEY,
            user_id       integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
            occurrence_id bigint NOT NULL REFERENCES occurrence (id) ON DELETE CASCADE,
            commune_insee text NOT NULL,
            category_code text NOT NULL,
            occurred_at   timestamptz NOT NULL,
            digest        boolean NOT NULL,
            status        text NOT NULL DEFAULT 'pending' CHECK (status IN {_in(OUTBOX_STATUSES)}),
            attempts      integer NOT NULL DEFAULT 0,
            last_error    text,
            created_at    timestamptz NOT NULL DEFAULT now(),
            sent_at       timestamptz,
            UNIQUE (occurrence_id, user_id),
            CHECK ((status = 'sent') = (sent_at IS NOT NULL))
        );
        CREATE INDEX alert_outbox_pending_idx ON alert_outbox (status, user_id);

        CREATE FUNCTION psq_referent() RETURNS integer LANGUAGE sql STABLE
            AS $$ SELECT CASE WHEN psq_role() = 'referent'
                              THEN nullif(current_setting('psq.referent', true), '')::integer END $$;
        CREATE FUNCTION psq_user() RETURNS integer LANGUAGE sql STABLE
            AS $$ SELECT CASE WHEN psq_role() <> '' THEN nullif(current_setting('psq.user_id', true), '')::integer END $$;
        -- The communes a chief's sectors in force touch by a whole 200 m cell.
        CREATE FUNCTION psq_sector_communes() RETURNS text[] LANGUAGE sql STABLE AS $$
            SELECT coalesce(array_agg(DISTINCT cc.insee), '{{}}') FROM sector s
            JOIN sector_cell sc ON sc.sector_id = s.id JOIN commune_cell cc ON cc.i = sc.i AND cc.j = sc.j
            WHERE s.id = ANY (psq_sector_ids()) AND s.valid_during @> CURRENT_DATE
        $$;
    """)
    for table in TABLES:
        if table != "user_referent":
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW LEVEL SECURITY;")
        op.execute(f"CREATE TRIGGER audit_write AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION psq_audit_write();")
    op.execute("""
        CREATE POLICY scoped ON referent USING ((SELECT psq_role()) <> '');
        CREATE POLICY scoped ON referent_commune USING ((SELECT psq_role()) <> '');
        CREATE POLICY scoped ON csi_commune USING ((SELECT psq_role()) <> '');
        CREATE POLICY scope ON audit_request USING (
            (SELECT psq_role()) = 'admin'
            OR referent_id = (SELECT psq_referent())
            OR commune_insee IN (SELECT rc.commune_insee FROM referent_commune rc
                                 WHERE rc.referent_id = (SELECT psq_referent()))
            OR commune_insee = (SELECT psq_commune()));
        CREATE POLICY scope ON camera USING (
            (SELECT psq_sees_all())
            OR sector_id = ANY ((SELECT psq_sector_ids())::integer[])
            OR commune_insee = (SELECT psq_commune()));
        CREATE POLICY scope ON convention USING (
            (SELECT psq_sees_all())
            OR commune_insee = (SELECT psq_commune())
            OR commune_insee = ANY ((SELECT psq_sector_communes())::text[]));
        CREATE POLICY scope ON csi_contract USING (
            (SELECT psq_sees_all())
            OR EXISTS (SELECT 1 FROM csi_commune c WHERE c.contract_id = csi_contract.id
                       AND (c.commune_insee = (SELECT psq_commune())
                            OR c.commune_insee = ANY ((SELECT psq_sector_communes())::text[]))));
        CREATE POLICY scope ON alert_subscription USING (
            (SELECT psq_role()) = 'admin' OR user_id = (SELECT psq_user()));
        CREATE POLICY scope ON alert_outbox USING (
            (SELECT psq_role()) = 'admin' OR user_id = (SELECT psq_user()));

        GRANT SELECT ON referent, referent_commune, user_referent, audit_request, camera, convention,
            csi_contract, csi_commune, alert_subscription, alert_outbox TO psq_app;
        GRANT INSERT, UPDATE ON audit_request, convention TO psq_app;
        GRANT INSERT, UPDATE, DELETE ON alert_subscription TO psq_app;
        GRANT USAGE ON SEQUENCE audit_request_id_seq, convention_id_seq TO psq_app;
    """)


def downgrade() -> None:
    op.execute("DROP TABLE " + ", ".join(reversed(TABLES)))
    op.execute("DROP FUNCTION psq_referent(), psq_user(), psq_sector_communes()")
