"""SQLAlchemy + GeoAlchemy2 models of the schema built by sql/migrations/.

The migrations are the source of truth for the database; these classes mirror them
for queries and writes in Python (tests/geo/db/test_schema.py checks that both agree).
All geometry is Lambert-93, EPSG:2154.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, DATERANGE, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from geo.settings import ROLES

SRID = 2154


class Base(DeclarativeBase):
    pass


def _geometry(kind: str) -> Geometry:
    # Index names follow the migrations; GeoAlchemy2 must not invent its own.
    return Geometry(kind, srid=SRID, spatial_index=False)


class Departement(Base):
    __tablename__ = "departement"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    srid: Mapped[int] = mapped_column(Integer, server_default="2154")


class Epci(Base):
    __tablename__ = "epci"

    siren: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(Text)


class Commune(Base):
    __tablename__ = "commune"
    __table_args__ = (Index("commune_departement_idx", "departement_code"),)

    insee: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"))
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epci.siren"))
    population: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float] = mapped_column(Float, comment=(
        "Geodesic area on the GRS80 ellipsoid, not the Lambert-93 planar area (which is off by up to 0.3 %)."))
    geom = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)
    town_hall = mapped_column(_geometry("POINT"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Csp(Base):
    """A circonscription de sécurité publique (or a gendarmerie company)."""

    __tablename__ = "csp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departement.code"))
    zone: Mapped[str] = mapped_column(Text, server_default="police")

    sectors: Mapped[list["Sector"]] = relationship(back_populates="csp")


class Sector(Base):
    """One version of a secteur de proximité; valid_to is exclusive, NULL = current."""

    __tablename__ = "sector"
    __table_args__ = (CheckConstraint("valid_to IS NULL OR valid_to > valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id"))
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    chief: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(
        Date, comment="Exclusive end of validity; NULL for the current version.")
    valid_during = mapped_column(DATERANGE, Computed("daterange(valid_from, valid_to, '[)')", persisted=True),
                                 comment="The days the version is in force: valid_from included, valid_to excluded, "
                                         "unbounded while valid_to is NULL.")
    source: Mapped[str | None] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    csp: Mapped[Csp] = relationship(back_populates="sectors")


class Category(Base):
    """A kind of recurring problem; rows come from data/categories.csv."""

    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint("code ~ '^[a-z_]+$'"),
        CheckConstraint("colour ~ '^#[0-9a-f]{6}$'"),
        CheckConstraint("severity > 0"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    colour: Mapped[str] = mapped_column(Text)
    severity: Mapped[float] = mapped_column(REAL)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")


class SectorPart(Base):
    """A piece of a sector (ST_Subdivide), kept by a trigger, for fast point-in-polygon."""

    __tablename__ = "sector_part"
    __table_args__ = (Index("sector_part_sector_idx", "sector_id"),)

    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id", ondelete="CASCADE"), primary_key=True)
    geom = mapped_column(_geometry("POLYGON"), nullable=False, primary_key=True)


class CommunePart(Base):
    """A piece of a commune (ST_Subdivide), kept by a trigger."""

    __tablename__ = "commune_part"
    __table_args__ = (Index("commune_part_insee_idx", "insee"),)

    insee: Mapped[str] = mapped_column(ForeignKey("commune.insee", ondelete="CASCADE"), primary_key=True)
    geom = mapped_column(_geometry("POLYGON"), nullable=False, primary_key=True)


class ImportBatch(Base):
    """One file loaded: what was read, written, already present, rejected."""

    __tablename__ = "import_batch"
    __table_args__ = (CheckConstraint("kind IN ('occurrences', 'problems')"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_written: Mapped[int] = mapped_column(Integer)
    rows_already_present: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    rows_outside_sectors: Mapped[int] = mapped_column(Integer)


PROBLEM_STATUSES = ("signale", "priorise", "en_traitement", "resolu", "reouvert")


class Problem(Base):
    """A recurring security problem as the GPO sees it."""

    __tablename__ = "problem"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint("btrim(title) <> ''"),
        CheckConstraint(f"status IN {PROBLEM_STATUSES}"),
        Index("problem_sector_idx", "sector_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_geometry("GEOMETRY"), nullable=False)
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id"))
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"))
    csp_id: Mapped[int | None] = mapped_column(ForeignKey("csp.id"))
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epci.siren"))
    partner: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="signale")
    reported_on: Mapped[dt.date] = mapped_column(Date)
    status_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), comment="The partner organisation that raised the problem.")


class ProblemStatusChange(Base):
    """A dated step of a problem's lifecycle (signalé -> priorisé -> ... -> résolu)."""

    __tablename__ = "problem_status_change"
    __table_args__ = (Index("problem_status_change_problem_idx", "problem_id", "changed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)


class Occurrence(Base):
    """One dated event at a point; hotspots are computed from these.

    References (category, sector, commune...) are plain columns, not foreign keys:
    only the set-based attribution writes them (see migration 0002).
    """

    __tablename__ = "occurrence"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="occurrence_source_external_id_key"),
        Index("occurrence_occurred_at_brin", "occurred_at", postgresql_using="brin"),
        Index("occurrence_sector_time_idx", "sector_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(_geometry("POINT"), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    problem_id: Mapped[int | None] = mapped_column(Integer)
    sector_id: Mapped[int | None] = mapped_column(Integer, comment=(
        "The sector version valid on the local day of the occurrence; NULL: outside every sector (kept, flagged)."))
    commune_insee: Mapped[str | None] = mapped_column(Text)
    csp_id: Mapped[int | None] = mapped_column(Integer)
    epci_siren: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(Integer)


class HotspotRun(Base):
    """One computation of hotspots: scope, period, category, method and every parameter."""

    __tablename__ = "hotspot_run"
    __table_args__ = (
        CheckConstraint("method IN ('gistar', 'kde', 'dbscan', 'emerging')"),
        CheckConstraint("scope_kind IN ('sector', 'csp', 'commune', 'polygon')"),
        CheckConstraint("period_to >= period_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(Text)
    scope_kind: Mapped[str] = mapped_column(Text)
    scope_ref: Mapped[str] = mapped_column(Text)
    scope_geom = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date, comment="Last day of the period, included.")
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    cell_size: Mapped[float | None] = mapped_column(Float)
    params: Mapped[dict] = mapped_column(JSONB)
    occurrences: Mapped[int] = mapped_column(Integer)
    cells: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    warnings: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HotspotCell(Base):
    """A grid cell of a run; cell (i, j) spans [i, i + 1) x [j, j + 1) times the cell size."""

    __tablename__ = "hotspot_cell"
    __table_args__ = (CheckConstraint("gi_bin BETWEEN -3 AND 3"), CheckConstraint("trend BETWEEN -1 AND 1"))

    run_id: Mapped[int] = mapped_column(ForeignKey("hotspot_run.id", ondelete="CASCADE"), primary_key=True)
    i: Mapped[int] = mapped_column(Integer, primary_key=True)
    j: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    z: Mapped[float | None] = mapped_column(Float)
    p: Mapped[float | None] = mapped_column(Float)
    p_fdr: Mapped[float | None] = mapped_column(Float)
    significant: Mapped[bool | None] = mapped_column(Boolean)
    gi_bin: Mapped[int | None] = mapped_column(SmallInteger)
    density: Mapped[float | None] = mapped_column(Float)
    emerging_category: Mapped[str | None] = mapped_column(Text)
    trend: Mapped[int | None] = mapped_column(SmallInteger)


class HotspotCluster(Base):
    """A DBSCAN cluster of a run, with the hull of its occurrences."""

    __tablename__ = "hotspot_cluster"

    run_id: Mapped[int] = mapped_column(ForeignKey("hotspot_run.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrences: Mapped[int] = mapped_column(Integer)
    hull = mapped_column(_geometry("GEOMETRY"), nullable=False)


class SectorCell(Base):
    """A 200 m cell lying wholly inside a sector version (kept by a trigger)."""

    __tablename__ = "sector_cell"
    __table_args__ = (Index("sector_cell_sector_idx", "sector_id"),)

    i: Mapped[int] = mapped_column(Integer, primary_key=True)
    j: Mapped[int] = mapped_column(Integer, primary_key=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id", ondelete="CASCADE"), primary_key=True)


class CommuneCell(Base):
    """A 200 m cell lying wholly inside a commune (kept by a trigger)."""

    __tablename__ = "commune_cell"
    __table_args__ = (Index("commune_cell_insee_idx", "insee"),)

    i: Mapped[int] = mapped_column(Integer, primary_key=True)
    j: Mapped[int] = mapped_column(Integer, primary_key=True)
    insee: Mapped[str] = mapped_column(ForeignKey("commune.insee", ondelete="CASCADE"), primary_key=True)


USER_ROLES = ROLES


class AppUser(Base):
    """A person who signs in to the web app; ``role`` decides what he sees (geo/accounts/users.py)."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("email = lower(email) AND email LIKE '%_@_%'"),
        CheckConstraint(f"role IN {USER_ROLES}"),
        CheckConstraint("failed_logins >= 0"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str] = mapped_column(Text, comment="argon2id hash (PHC string); never the password.")
    role: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed_logins: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Failed logins since the last success.")
    throttled_until: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="After repeated failures, no log-in before this time but from a browser the owner used before.")
    sessions_ended_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="Last log-out: the sessions opened before it no longer open the account.")


class UserSector(Base):
    """A sector of a chief's scope: a code of a CSP, whatever the sector's versions."""

    __tablename__ = "user_sector"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id"), primary_key=True)
    sector_code: Mapped[str] = mapped_column(Text, primary_key=True)


class UserCommune(Base):
    """A mayor's commune."""

    __tablename__ = "user_commune"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), primary_key=True)


class AuditLog(Base):
    """One write, export or login attempt; append-only (a trigger refuses UPDATE and DELETE).

    Every statement writing a table of data adds a ``write.*`` row by a trigger (migration 0011).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("audit_log_at_brin", "at", postgresql_using="brin"),
        Index("audit_log_user_idx", "user_id", "at"),
        Index("audit_log_target_idx", "target", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id"), comment="Who did it; NULL for the command line or an unknown login.")
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    ip: Mapped[str | None] = mapped_column(Text)


class RateLimit(Base):
    """A counter of Flask-Limiter (a fixed window), shared by every worker; unlogged."""

    __tablename__ = "rate_limit"
    __table_args__ = (CheckConstraint("hits >= 0"), {"prefixes": ["UNLOGGED"],
                      "comment": "Counters of Flask-Limiter (fixed windows), shared by every worker."})

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PatrolZone(Base):
    """A patrol-focus zone drawn by a chief in a sector (code of a CSP); ``deleted_at``: withdrawn."""

    __tablename__ = "patrol_zone"
    __table_args__ = (
        CheckConstraint("ST_IsValid(geom)"),
        CheckConstraint("btrim(reason) <> ''"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from"),
        CheckConstraint("jsonb_typeof(time_slots) = 'array'"),
        Index("patrol_zone_sector_idx", "csp_id", "sector_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id"))
    sector_code: Mapped[str] = mapped_column(Text)
    geom = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)
    reason: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, comment="Last day of validity, included; NULL: open-ended.")
    time_slots: Mapped[list] = mapped_column(JSONB, server_default="[]")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="Withdrawn (soft delete): kept for history.")
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("category.code"),
        comment="The one category the zone follows (its contents count it only); NULL: every category.")


class PatrolZoneProblem(Base):
    """A problem a patrol zone targets."""

    __tablename__ = "patrol_zone_problem"

    zone_id: Mapped[int] = mapped_column(ForeignKey("patrol_zone.id", ondelete="CASCADE"), primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"), primary_key=True)


class DataVersion(Base):
    """How many writing statements each kind of data has seen (bumped by triggers, migration 0007)."""

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")


class KeptView(Base):
    """A view computed once for every web worker (geo/db/kept_views.py), attributed to a sector or a commune."""

    __tablename__ = "kept_view"
    __table_args__ = (
        CheckConstraint("(sector_id IS NULL) <> (commune_insee IS NULL)"),
        Index("kept_view_sector_idx", "sector_id", "kind"),
        Index("kept_view_commune_idx", "commune_insee", "kind"),
    )

    key: Mapped[str] = mapped_column(
        Text, primary_key=True, comment="SHA-256 of the view (kind, parameters, scope) and the data versions.")
    kind: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, server_default=func.psq_scope_key(),
                                       comment="The scope it was computed under: only that scope reads it.")
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id", ondelete="CASCADE"))
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee", ondelete="CASCADE"))
    versions: Mapped[dict] = mapped_column(JSONB, comment="The data_version counters the content was computed under.")
    content: Mapped[dict] = mapped_column(JSONB)
    kept_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# The codes of migration 0012's CHECK constraints (their French names: geo/gpo/labels.py, which
# geo.db cannot import without a cycle between the sibling packages).
ORGANISATION_KINDS = ("mairie", "police_municipale", "bailleur_social", "etablissement_scolaire", "transporteur",
                      "association", "police_nationale", "autre")
GPO_KINDS = ("secteur", "thematique")
RHYTHMS = ("quinzaine", "mensuel")
ACTION_KINDS = ("densification_patrouilles", "controle_parties_communes", "arrete_municipal", "enquete_ciblee",
                "enlevement_epaves_encombrants", "videoprotection", "prevention_mediation", "autre")
ACTION_STATUSES = ("prevue", "en_cours", "faite", "abandonnee")
PLACE_KINDS = ("school", "transport", "housing")


class Organisation(Base):
    """A partner of the GPOs: mairie, police municipale, bailleur social, school, transport operator..."""

    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint("btrim(name) <> ''"), CheckConstraint(f"kind IN {ORGANISATION_KINDS}"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"))


class OrganisationContact(Base):
    """A person to reach at a partner organisation."""

    __tablename__ = "organisation_contact"
    __table_args__ = (CheckConstraint("btrim(name) <> ''"), Index("organisation_contact_org_idx", "organisation_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    function: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)


class UserOrganisation(Base):
    """A partner account's organisation (one)."""

    __tablename__ = "user_organisation"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))


class Gpo(Base):
    """A groupe de partenariat opérationnel of a CSP: of a sector, or thematic over several."""

    __tablename__ = "gpo"
    __table_args__ = (
        UniqueConstraint("csp_id", "name"),
        CheckConstraint("btrim(name) <> ''"),
        CheckConstraint(f"kind IN {GPO_KINDS}"),
        CheckConstraint(f"rhythm IN {RHYTHMS}"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id"))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text), comment="A thematic GPO's categories (NULL: every category).")
    rhythm: Mapped[str] = mapped_column(Text)
    first_meeting_on: Mapped[dt.date] = mapped_column(
        Date, comment="The first date of the series the rhythm continues.")


class GpoSector(Base):
    """A sector a GPO covers: a code of a CSP, whatever the sector's versions."""

    __tablename__ = "gpo_sector"
    __table_args__ = (Index("gpo_sector_code_idx", "csp_id", "sector_code"),)

    gpo_id: Mapped[int] = mapped_column(ForeignKey("gpo.id", ondelete="CASCADE"), primary_key=True)
    csp_id: Mapped[int] = mapped_column(ForeignKey("csp.id"), primary_key=True)
    sector_code: Mapped[str] = mapped_column(Text, primary_key=True)


class GpoMember(Base):
    """An organisation sitting in a GPO."""

    __tablename__ = "gpo_member"
    __table_args__ = (Index("gpo_member_org_idx", "organisation_id"),)

    gpo_id: Mapped[int] = mapped_column(ForeignKey("gpo.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)


class Meeting(Base):
    """A GPO meeting held on a day, with its decisions."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("gpo_id", "held_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gpo_id: Mapped[int] = mapped_column(ForeignKey("gpo.id", ondelete="CASCADE"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    decisions: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MeetingAttendee(Base):
    """An organisation present at a meeting."""

    __tablename__ = "meeting_attendee"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)


class MeetingProblem(Base):
    """A problem a meeting reviewed: its rank, score and factors on the agenda, the decision taken."""

    __tablename__ = "meeting_problem"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), primary_key=True)
    rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    factors: Mapped[dict] = mapped_column(
        JSONB, server_default="{}", comment="The agenda line as it stood when the meeting reviewed it.")
    decision: Mapped[str | None] = mapped_column(Text)


class GpoAction(Base):
    """An action a GPO decided, carried by a partner organisation and a named owner; ``done_on`` iff done."""

    __tablename__ = "gpo_action"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACTION_KINDS}"),
        CheckConstraint("btrim(owner) <> ''"),
        CheckConstraint(f"status IN {ACTION_STATUSES}"),
        CheckConstraint("(status = 'faite') = (done_on IS NOT NULL)"),
        Index("gpo_action_gpo_idx", "gpo_id", "due_on"),
        Index("gpo_action_org_idx", "organisation_id"),
        Index("gpo_action_problem_idx", "problem_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gpo_id: Mapped[int] = mapped_column(ForeignKey("gpo.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))
    kind: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    owner: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, server_default="prevue")
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ActionStatusChange(Base):
    """A dated step of an action's status (prévue -> en cours -> faite or abandonnée)."""

    __tablename__ = "action_status_change"
    __table_args__ = (Index("action_status_change_action_idx", "action_id", "changed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("gpo_action.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    author: Mapped[str | None] = mapped_column(Text)


class Assessment(Base):
    """Occurrences before (b) and after (a) an action in its area (r), ring (d) and control area (c)."""

    __tablename__ = "assessment"
    __table_args__ = (
        CheckConstraint("days > 0"),
        CheckConstraint("buffer_m >= 0"),
        Index("assessment_gpo_idx", "gpo_id", "computed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gpo_id: Mapped[int | None] = mapped_column(ForeignKey("gpo.id", ondelete="CASCADE"))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_zone.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("gpo_action.id", ondelete="SET NULL"))
    label: Mapped[str | None] = mapped_column(Text)
    area = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)
    ring = mapped_column(_geometry("MULTIPOLYGON"))
    control = mapped_column(_geometry("MULTIPOLYGON"))
    action_on: Mapped[dt.date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    buffer_m: Mapped[float] = mapped_column(Float)
    category_code: Mapped[str | None] = mapped_column(Text)
    rb: Mapped[int] = mapped_column(Integer)
    ra: Mapped[int] = mapped_column(Integer)
    db: Mapped[int] = mapped_column(Integer)
    da: Mapped[int] = mapped_column(Integer)
    cb: Mapped[int] = mapped_column(Integer)
    ca: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    computed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class SensitivePlace(Base):
    """A school, a transport stop or social housing (``psq load places``)."""

    __tablename__ = "sensitive_place"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint(f"kind IN {PLACE_KINDS}"),
        CheckConstraint("ST_IsValid(geom)"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)
    geom = mapped_column(_geometry("GEOMETRY"), nullable=False)


# -- référents, audits, cameras, conventions, alerts (migration 0013) ---------------------
REFERENT_KINDS = ("referent", "correspondant")
AUDIT_KINDS = ("videoprotection_voie_publique", "site", "evenement")
AUDIT_STATUSES = ("demandee", "attribuee", "planifiee", "realisee", "abandonnee")
CAMERA_STATUSES = ("existing", "proposed")
CAMERA_OWNERS = ("commune", "bailleur", "transporteur", "autre")
OUTBOX_STATUSES = ("pending", "sent")


class Referent(Base):
    """A référent or correspondant sûreté: his service and his base (``psq load referents``)."""

    __tablename__ = "referent"
    __table_args__ = (
        CheckConstraint("btrim(name) <> ''"),
        CheckConstraint(f"kind IN {REFERENT_KINDS}"),
        CheckConstraint("btrim(service) <> ''"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    base = mapped_column(_geometry("POINT"), nullable=False)


class ReferentCommune(Base):
    """A commune and the one référent who covers it."""

    __tablename__ = "referent_commune"
    __table_args__ = (Index("referent_commune_referent_idx", "referent_id"),)

    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), primary_key=True)
    referent_id: Mapped[int] = mapped_column(ForeignKey("referent.id", ondelete="CASCADE"))


class UserReferent(Base):
    """A ``referent`` account's record."""

    __tablename__ = "user_referent"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    referent_id: Mapped[int] = mapped_column(ForeignKey("referent.id"))


class AuditRequest(Base):
    """A town's request for a security study: assigned, planned, done, its report kept in the database."""

    __tablename__ = "audit_request"
    __table_args__ = (
        CheckConstraint(f"kind IN {AUDIT_KINDS}"),
        CheckConstraint("btrim(need) <> ''"),
        CheckConstraint(f"status IN {AUDIT_STATUSES}"),
        CheckConstraint("(report IS NULL) = (report_filename IS NULL)"),
        CheckConstraint("(status = 'realisee') = (done_on IS NOT NULL)"),
        Index("audit_request_commune_idx", "commune_insee"),
        Index("audit_request_referent_idx", "referent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"))
    kind: Mapped[str] = mapped_column(Text)
    need: Mapped[str] = mapped_column(Text)
    site: Mapped[str | None] = mapped_column(Text)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("referent.id"))
    assigned_on: Mapped[dt.date | None] = mapped_column(Date)
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, server_default="demandee")
    report: Mapped[bytes | None] = mapped_column(LargeBinary)
    report_filename: Mapped[str | None] = mapped_column(Text)
    report_type: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Camera(Base):
    """A video-protection camera: bearing clockwise from north, field of view and range in metres."""

    __tablename__ = "camera"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint("bearing >= 0 AND bearing < 360"),
        CheckConstraint("fov > 0 AND fov <= 360"),
        CheckConstraint("range_m > 0 AND range_m <= 1000"),
        CheckConstraint(f"status IN {CAMERA_STATUSES}"),
        CheckConstraint(f"owner IN {CAMERA_OWNERS}"),
        Index("camera_commune_idx", "commune_insee"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)
    geom = mapped_column(_geometry("POINT"), nullable=False)
    bearing: Mapped[float] = mapped_column(Float)
    fov: Mapped[float] = mapped_column(Float)
    range_m: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(Text)
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"))
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id"))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Convention(Base):
    """A convention de participation citoyenne: signed for ``duration_years``, renewed tacitly."""

    __tablename__ = "convention"
    __table_args__ = (
        UniqueConstraint("commune_insee", "signed_on"),
        CheckConstraint("duration_years > 0"),
        CheckConstraint("volunteers >= 0"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"))
    signed_on: Mapped[dt.date] = mapped_column(Date)
    duration_years: Mapped[int] = mapped_column(Integer, server_default="3")
    volunteers: Mapped[int] = mapped_column(Integer, server_default="0")
    ended_on: Mapped[dt.date | None] = mapped_column(Date)


class CsiContract(Base):
    """A contrat de sécurité intégrée and its engagements."""

    __tablename__ = "csi_contract"
    __table_args__ = (
        CheckConstraint("btrim(name) <> ''"),
        CheckConstraint("duration_years > 0"),
        CheckConstraint("municipal_police >= 0"),
        CheckConstraint("cameras >= 0"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epci.siren"))
    signed_on: Mapped[dt.date] = mapped_column(Date)
    duration_years: Mapped[int] = mapped_column(Integer)
    municipal_police: Mapped[int | None] = mapped_column(Integer)
    cameras: Mapped[int | None] = mapped_column(Integer)
    supervision_centre: Mapped[bool] = mapped_column(Boolean, server_default="false")
    engagements: Mapped[str | None] = mapped_column(Text)


class CsiCommune(Base):
    """A commune a security contract covers."""

    __tablename__ = "csi_commune"
    __table_args__ = (Index("csi_commune_insee_idx", "commune_insee"),)

    contract_id: Mapped[int] = mapped_column(ForeignKey("csi_contract.id", ondelete="CASCADE"), primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), primary_key=True)


class AlertSubscription(Base):
    """A mayor's opt-in to the alerts of one category, immediate or in the daily digest."""

    __tablename__ = "alert_subscription"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), primary_key=True)
    digest: Mapped[bool] = mapped_column(Boolean, server_default="false")


class AlertOutbox(Base):
    """One notification of one occurrence to one user, written with the import; sent once by the worker."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "user_id"),
        CheckConstraint(f"status IN {OUTBOX_STATUSES}"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)"),
        Index("alert_outbox_pending_idx", "status", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrence.id", ondelete="CASCADE"))
    commune_insee: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    digest: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
