"""The GPO workflow: partner organisations, GPOs, meetings, actions, assessments, sensitive places.

- ``organisation``: a partner (mairie, police municipale, bailleur social, school,
  transport operator, association...) and its ``organisation_contact`` people;
  ``user_organisation`` ties a ``partenaire`` account to his organisation.
- ``gpo``: one per sector or thematic over several sectors of a CSP (``gpo_sector``),
  its members (``gpo_member``), its rhythm; ``meeting`` with the organisations present
  (``meeting_attendee``) and the problems reviewed with their rank and factors
  (``meeting_problem``); ``gpo_action`` and its status trail ``action_status_change``;
  ``assessment``: the before/after counts of an area, its ring and its control area.
- ``sensitive_place``: schools, transport stops, social housing (``psq load places``).
- ``problem.organisation_id``: the organisation that raised it.

Row-level security, as in migration 0006 (fail closed without a scope):

- ``psq_gpo_ids()``: the GPOs of the scope: every one for admin and référent; a chief's,
  when one of their sectors is his; a partner's, when his organisation sits in them; a
  mayor's, when one of their sectors in force shares a whole 200 m cell with his commune.
- gpo, meeting (and their children), assessment: rows of those GPOs.
- gpo_action: rows of those GPOs, but a partner only the actions of his organisation.
- problem: also, for a partner, the problems his organisation raised or holds an action on.
- organisation, gpo_sector, gpo_member, sensitive_place: any scoped user (who sits where is
  not confidential; psq_gpo_ids reads them, so they cannot depend on it).
- user_organisation: no policy; it is read to load an account, before any scope.
- organisation_contact (names, phones): contacts of the scope's GPOs' members, or of one's own
  organisation.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("organisation", "organisation_contact", "user_organisation", "gpo", "gpo_sector", "gpo_member",
          "meeting", "meeting_attendee", "meeting_problem", "gpo_action", "action_status_change", "assessment",
          "sensitive_place")
ORGANISATION_KINDS = ("mairie", "police_municipale", "bailleur_social", "etablissement_scolaire", "transporteur",
                      "association", "police_nationale", "autre")
ACTION_KINDS = ("densification_patrouilles", "controle_parties_communes", "arrete_municipal", "enquete_ciblee",
                "enlevement_epaves_encombrants", "videoprotection", "prevention_mediation", "autre")
ACTION_STATUSES = ("prevue", "en_cours", "faite", "abandonnee")


#: The GPO ids of a chief, a partner or a mayor (see the module's docstring; admin and référent see every
#: row without it). It reads only tables whose policies do not call it back.
_GPO_IDS = """
    SELECT gs.gpo_id FROM gpo_sector gs JOIN sector s ON s.csp_id = gs.csp_id AND s.code = gs.sector_code
    WHERE s.id = ANY (psq_sector_ids())
    UNION
    SELECT m.gpo_id FROM gpo_member m WHERE m.organisation_id = psq_organisation()
    UNION
    SELECT gs.gpo_id FROM gpo_sector gs JOIN sector s ON s.csp_id = gs.csp_id AND s.code = gs.sector_code
    WHERE psq_commune() IS NOT NULL AND s.valid_during @> CURRENT_DATE
      AND EXISTS (SELECT 1 FROM sector_cell sc JOIN commune_cell cc ON cc.i = sc.i AND cc.j = sc.j
                  WHERE sc.sector_id = s.id AND cc.insee = psq_commune())
"""


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE organisation (
            id            serial PRIMARY KEY,
            name          text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
            kind          text NOT NULL CHECK (kind IN {_in(ORGANISATION_KINDS)}),
            commune_insee text REFERENCES commune (insee)
        );
        CREATE TABLE organisation_contact (
            id              serial PRIMARY KEY,
            organisation_id integer NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
            name            text NOT NULL CHECK (btrim(name) <> ''),
            function        text,
            email           text,
            phone           text
        );
        CREATE INDEX organisation_contact_org_idx ON organisation_contact (organisation_id);
        -- A partner account's organisation (one).
        CREATE TABLE user_organisation (
            user_id         integer PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
            organisation_id integer NOT NULL REFERENCES organisation (id)
        );
        ALTER TABLE problem ADD COLUMN organisation_id integer REFERENCES organisation (id);
        COMMENT ON COLUMN problem.organisation_id IS 'The partner organisation that raised the problem.';

        CREATE TABLE gpo (
            id               serial PRIMARY KEY,
            csp_id           integer NOT NULL REFERENCES csp (id),
            name             text NOT NULL CHECK (btrim(name) <> ''),
            kind             text NOT NULL CHECK (kind IN ('secteur', 'thematique')),
            theme            text,
            categories       text[],
            rhythm           text NOT NULL CHECK (rhythm IN ('quinzaine', 'mensuel')),
            first_meeting_on date NOT NULL,
            UNIQUE (csp_id, name)
        );
        COMMENT ON COLUMN gpo.categories IS 'A thematic GPO''s categories (NULL: every category).';
        COMMENT ON COLUMN gpo.first_meeting_on IS 'The first date of the series the rhythm continues.';
        CREATE TABLE gpo_sector (
            gpo_id      integer NOT NULL REFERENCES gpo (id) ON DELETE CASCADE,
            csp_id      integer NOT NULL REFERENCES csp (id),
            sector_code text NOT NULL,
            PRIMARY KEY (gpo_id, csp_id, sector_code)
        );
        CREATE INDEX gpo_sector_code_idx ON gpo_sector (csp_id, sector_code);
        CREATE TABLE gpo_member (
            gpo_id          integer NOT NULL REFERENCES gpo (id) ON DELETE CASCADE,
            organisation_id integer NOT NULL REFERENCES organisation (id),
            PRIMARY KEY (gpo_id, organisation_id)
        );
        CREATE INDEX gpo_member_org_idx ON gpo_member (organisation_id);

        CREATE TABLE meeting (
            id          serial PRIMARY KEY,
            gpo_id      integer NOT NULL REFERENCES gpo (id) ON DELETE CASCADE,
            held_on     date NOT NULL,
            decisions   text,
            recorded_by integer REFERENCES app_user (id),
            recorded_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (gpo_id, held_on)
        );
        CREATE TABLE meeting_attendee (
            meeting_id      integer NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
            organisation_id integer NOT NULL REFERENCES organisation (id),
            PRIMARY KEY (meeting_id, organisation_id)
        );
        CREATE TABLE meeting_problem (
            meeting_id integer NOT NULL REFERENCES meeting (id) ON DELETE CASCADE,
            problem_id integer NOT NULL REFERENCES problem (id),
            rank       integer,
            score      double precision,
            factors    jsonb NOT NULL DEFAULT '{{}}',
            decision   text,
            PRIMARY KEY (meeting_id, problem_id)
        );
        COMMENT ON COLUMN meeting_problem.factors IS 'The agenda line as it stood when the meeting reviewed it.';

        CREATE TABLE gpo_action (
            id              serial PRIMARY KEY,
            gpo_id          integer NOT NULL REFERENCES gpo (id) ON DELETE CASCADE,
            meeting_id      integer REFERENCES meeting (id) ON DELETE SET NULL,
            problem_id      integer REFERENCES problem (id),
            kind            text NOT NULL CHECK (kind IN {_in(ACTION_KINDS)}),
            description     text,
            organisation_id integer NOT NULL REFERENCES organisation (id),
            owner           text NOT NULL CHECK (btrim(owner) <> ''),
            due_on          date NOT NULL,
            status          text NOT NULL DEFAULT 'prevue' CHECK (status IN {_in(ACTION_STATUSES)}),
            done_on         date,
            created_at      timestamptz NOT NULL DEFAULT now(),
            CHECK ((status = 'faite') = (done_on IS NOT NULL))
        );
        CREATE INDEX gpo_action_gpo_idx ON gpo_action (gpo_id, due_on);
        CREATE INDEX gpo_action_org_idx ON gpo_action (organisation_id);
        CREATE INDEX gpo_action_problem_idx ON gpo_action (problem_id);
        CREATE TABLE action_status_change (
            id          serial PRIMARY KEY,
            action_id   integer NOT NULL REFERENCES gpo_action (id) ON DELETE CASCADE,
            from_status text,
            to_status   text NOT NULL,
            changed_at  timestamptz NOT NULL DEFAULT now(),
            author      text
        );
        CREATE INDEX action_status_change_action_idx ON action_status_change (action_id, changed_at);

        CREATE TABLE assessment (
            id          serial PRIMARY KEY,
            gpo_id      integer REFERENCES gpo (id) ON DELETE CASCADE,
            problem_id  integer REFERENCES problem (id),
            zone_id     integer REFERENCES patrol_zone (id),
            action_id   integer REFERENCES gpo_action (id) ON DELETE SET NULL,
            label       text,
            area        geometry(MultiPolygon, 2154) NOT NULL,
            ring        geometry(MultiPolygon, 2154),
            control     geometry(MultiPolygon, 2154),
            action_on   date NOT NULL,
            days        integer NOT NULL CHECK (days > 0),
            buffer_m    double precision NOT NULL CHECK (buffer_m >= 0),
            category_code text,
            rb integer NOT NULL, ra integer NOT NULL, db integer NOT NULL, da integer NOT NULL,
            cb integer NOT NULL, ca integer NOT NULL,
            computed_at timestamptz NOT NULL DEFAULT now(),
            computed_by integer REFERENCES app_user (id)
        );
        CREATE INDEX assessment_gpo_idx ON assessment (gpo_id, computed_at);

        CREATE TABLE sensitive_place (
            id          serial PRIMARY KEY,
            kind        text NOT NULL CHECK (kind IN ('school', 'transport', 'housing')),
            name        text,
            source      text NOT NULL,
            external_id text NOT NULL,
            geom        geometry(Geometry, 2154) NOT NULL CHECK (ST_IsValid(geom)),
            UNIQUE (source, external_id)
        );
        CREATE INDEX sensitive_place_geom_idx ON sensitive_place USING gist (geom);

        CREATE FUNCTION psq_organisation() RETURNS integer LANGUAGE sql STABLE
            AS $$ SELECT CASE WHEN psq_role() = 'partenaire'
                              THEN nullif(current_setting('psq.organisation', true), '')::integer END $$;
        CREATE FUNCTION psq_gpo_ids() RETURNS integer[] LANGUAGE sql STABLE AS $$
            SELECT coalesce(array_agg(g.gpo_id), '{{}}') FROM ({_GPO_IDS}) g
        $$;
    """)
    for table in TABLES:
        # user_organisation is read to load the account, before any scope is set (like user_commune).
        if table != "user_organisation":
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW LEVEL SECURITY;")
        op.execute(f"CREATE TRIGGER audit_write AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION psq_audit_write();")
    op.execute("""
        CREATE POLICY scoped ON organisation USING ((SELECT psq_role()) <> '');
        CREATE POLICY scoped ON gpo_sector USING ((SELECT psq_role()) <> '');
        CREATE POLICY scoped ON gpo_member USING ((SELECT psq_role()) <> '');
        CREATE POLICY scoped ON sensitive_place USING ((SELECT psq_role()) <> '');
        CREATE POLICY scope ON organisation_contact USING (
            (SELECT psq_sees_all())
            OR organisation_id = (SELECT psq_organisation())
            OR EXISTS (SELECT 1 FROM gpo_member m WHERE m.organisation_id = organisation_contact.organisation_id
                       AND m.gpo_id = ANY ((SELECT psq_gpo_ids())::integer[])));
        CREATE POLICY scope ON gpo USING (
            (SELECT psq_sees_all()) OR id = ANY ((SELECT psq_gpo_ids())::integer[]));
        CREATE POLICY scope ON meeting USING (
            (SELECT psq_sees_all()) OR gpo_id = ANY ((SELECT psq_gpo_ids())::integer[]));
        CREATE POLICY scope ON meeting_attendee USING (
            EXISTS (SELECT 1 FROM meeting m WHERE m.id = meeting_attendee.meeting_id));
        CREATE POLICY scope ON meeting_problem USING (
            EXISTS (SELECT 1 FROM meeting m WHERE m.id = meeting_problem.meeting_id));
        CREATE POLICY scope ON assessment USING (
            (SELECT psq_sees_all()) OR gpo_id = ANY ((SELECT psq_gpo_ids())::integer[]));
        CREATE POLICY scope ON gpo_action USING (
            (SELECT psq_sees_all())
            OR ((SELECT psq_role()) = 'partenaire' AND organisation_id = (SELECT psq_organisation()))
            OR ((SELECT psq_role()) IN ('chef_secteur', 'maire') AND gpo_id = ANY ((SELECT psq_gpo_ids())::integer[])));
        CREATE POLICY scope ON action_status_change USING (
            EXISTS (SELECT 1 FROM gpo_action a WHERE a.id = action_status_change.action_id));

        -- A partner's problems: raised by his organisation, or holding one of its actions.
        CREATE FUNCTION psq_partner_problem_ids() RETURNS integer[] LANGUAGE sql STABLE AS $$
            SELECT coalesce(array_agg(DISTINCT a.problem_id) FILTER (WHERE a.problem_id IS NOT NULL), '{}')
            FROM gpo_action a WHERE psq_role() = 'partenaire' AND a.organisation_id = psq_organisation()
        $$;
        DROP POLICY scope ON problem;
        CREATE POLICY scope ON problem USING (
            (SELECT psq_sees_all())
            OR sector_id = ANY ((SELECT psq_sector_ids())::integer[])
            OR commune_insee = (SELECT psq_commune())
            OR organisation_id = (SELECT psq_organisation())
            OR id = ANY ((SELECT psq_partner_problem_ids())::integer[]));

        GRANT SELECT ON organisation, organisation_contact, user_organisation, gpo, gpo_sector, gpo_member,
            meeting, meeting_attendee, meeting_problem, gpo_action, action_status_change, assessment,
            sensitive_place TO psq_app;
        GRANT INSERT, UPDATE, DELETE ON meeting, meeting_attendee, meeting_problem TO psq_app;
        GRANT INSERT, UPDATE ON gpo_action, assessment TO psq_app;
        GRANT INSERT ON action_status_change, problem_status_change TO psq_app;
        GRANT INSERT, UPDATE ON problem TO psq_app;
        GRANT USAGE ON SEQUENCE meeting_id_seq, gpo_action_id_seq, action_status_change_id_seq, assessment_id_seq,
            problem_id_seq, problem_status_change_id_seq TO psq_app;
    """)


def downgrade() -> None:
    op.execute("""
        DROP POLICY scope ON problem;
        CREATE POLICY scope ON problem USING (
            (SELECT psq_sees_all())
            OR sector_id = ANY ((SELECT psq_sector_ids())::integer[])
            OR commune_insee = (SELECT psq_commune()));
        REVOKE INSERT, UPDATE ON problem FROM psq_app;
        REVOKE INSERT ON problem_status_change FROM psq_app;
        REVOKE USAGE ON SEQUENCE problem_id_seq, problem_status_change_id_seq FROM psq_app;
        DROP FUNCTION psq_partner_problem_ids();
        ALTER TABLE problem DROP COLUMN organisation_id;
    """)
    op.execute("DROP TABLE " + ", ".join(reversed(TABLES)))
    op.execute("DROP FUNCTION psq_gpo_ids(), psq_organisation()")
