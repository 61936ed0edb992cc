"""Audit requests: a town's request for a security study, its référent, its dates and its report.

A town asks the departmental directorate (DDSP) for a study — an audit of video-protection of
the public highway, the security of a site, or of an event — and says its need in words. The
request goes to the référent sûreté who covers the town (``referent_commune``: one per commune),
assigned on the day it is recorded (status ``attribuee``; ``demandee`` while no référent covers
the town, until an admin assigns one). The référent plans it (``planifiee``), does it
(``realisee``, its date) and attaches his report: a PDF, ODT or DOCX file of at most 10 MB,
kept in the database. A request may be given up (``abandonnee``).

Delays: the days from the request to its assignment, to the date it is planned for and to the
day it was done. A request still open :data:`LATE_AFTER_DAYS` days after it was made is late
("en retard").

Every read is clipped in SQL to what the user may see (:data:`VISIBLE_REQUEST_SQL`: admin; the
référent it is assigned to or who covers the town; the town's mayor); the row-level security of
migration 0013 is the second lock. Every write checks the rules of the access policy
(geo/accounts/policy.py: ``study.request`` to ask, ``study.run`` to assign, plan, close, give up
and attach the report; the web pages ask the policy itself, this module applies the same rules
because the policy imports it) and writes what it meant to the audit log. A refusal is an
:class:`AuditRequestError` (400), :class:`~geo.errors.Forbidden` (403) or
:class:`~geo.errors.NotFound` (404) with one French sentence; nothing is written then.

Examples
--------
>>> import datetime as dt
>>> request = AuditRequest(1, "90010", "Belfort", "videoprotection_voie_publique", "Parvis de la gare", None,
...                        dt.date(2026, 1, 5), 1, "Rémi Référent", dt.date(2026, 1, 6), None, None, "attribuee",
...                        None, None, None)
>>> request.kind_label, request.days_to_assignment, request.late_on(dt.date(2026, 4, 6))
('Vidéoprotection de voie publique', 1, True)
>>> safe_filename("../../Rapport d'audit é.PDF", "pdf")
'Rapport_d_audit_e.pdf'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import unicodedata
import zipfile
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.audit import audit
from geo.db.unit_of_work import connection, transaction
from geo.errors import Forbidden, NotFound, PsqError
from geo.formats import day as day_text
from geo.formats import number
from geo.referents.assignments import covers
from geo.settings import DAYS_ACCEPTED, local_today

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope

#: Who sees a request, in SQL (request alias ``a``): admin; the référent it is assigned to or who covers the town;
#: the town's mayor. The same rule as the row-level security of migration 0013.
VISIBLE_REQUEST_SQL = """(
    :role = 'admin'
    OR (:role = 'referent' AND (a.referent_id = :referent
        OR a.commune_insee IN (SELECT rc.commune_insee FROM referent_commune rc WHERE rc.referent_id = :referent)))
    OR (:role = 'maire' AND a.commune_insee = :commune))"""

#: kind -> its French name (the CHECK of migration 0013).
KINDS = {"videoprotection_voie_publique": "Vidéoprotection de voie publique",
         "site": "Sûreté d'un site", "evenement": "Sûreté d'un événement"}
#: status -> its French name.
STATUSES = {"demandee": "Demandée", "attribuee": "Attribuée", "planifiee": "Planifiée", "realisee": "Réalisée",
            "abandonnee": "Abandonnée"}
#: The statuses of a request not yet done nor given up.
OPEN_STATUSES = ("demandee", "attribuee", "planifiee")
#: A request still open this many days after it was made is late ("en retard"): the DDSP's target for a study
#: (the référents have many requests; the towns are asked to anticipate theirs).
LATE_AFTER_DAYS = 90
#: The longest need, in characters; the longest name of a site or event.
MAX_NEED = 4000
MAX_SITE = 300
#: The largest report kept, in bytes.
MAX_REPORT_BYTES = 10 * 1024 * 1024
#: extension -> the type the report is stored and served with. Nothing else is accepted.
REPORT_TYPES = {"pdf": "application/pdf", "odt": "application/vnd.oasis.opendocument.text",
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
#: The roles that may ask for a study, and those that run one: the table of geo/accounts/policy.py (``study.*``),
#: copied because the policy imports this module (tests/geo/referents/test_audits.py checks they agree).
REQUEST_ROLES = ("admin", "referent", "maire")
RUN_ROLES = ("admin", "referent")


class AuditRequestError(PsqError, ValueError):
    """An audit request, its dates or its report refused (400, one French sentence naming the field)."""


@dataclasses.dataclass(frozen=True)
class AuditRequest:
    """A request as its pages show it (without the report's bytes)."""

    id: int
    commune_insee: str
    commune_name: str
    kind: str
    need: str
    site: str | None
    requested_on: dt.date
    referent_id: int | None
    referent_name: str | None
    assigned_on: dt.date | None
    planned_on: dt.date | None
    done_on: dt.date | None
    status: str
    report_filename: str | None
    report_type: str | None
    report_size: int | None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_videoprotection(self) -> bool:
        return self.kind == "videoprotection_voie_publique"

    @property
    def due_on(self) -> dt.date:
        """The last day before the request is late."""
        return self.requested_on + dt.timedelta(days=LATE_AFTER_DAYS)

    def late_on(self, today: dt.date) -> bool:
        """Still open (neither done nor given up) more than :data:`LATE_AFTER_DAYS` days after the request."""
        return self.is_open and today > self.due_on

    @property
    def done_late(self) -> bool:
        """Done, but more than :data:`LATE_AFTER_DAYS` days after the request."""
        return self.done_on is not None and self.done_on > self.due_on

    def _days(self, day: dt.date | None) -> int | None:
        return None if day is None else (day - self.requested_on).days

    @property
    def days_to_assignment(self) -> int | None:
        return self._days(self.assigned_on)

    @property
    def days_to_planning(self) -> int | None:
        return self._days(self.planned_on)

    @property
    def days_to_done(self) -> int | None:
        return self._days(self.done_on)

    def age_on(self, today: dt.date) -> int:
        """Days since the request (until it was done, for a done one)."""
        return ((self.done_on or today) - self.requested_on).days

    def delay_text(self, today: dt.date) -> str:
        """The delay in French: "réalisée en 42 jours", "ouverte depuis 12 jours", "abandonnée"."""
        if self.done_on is not None:
            return f"réalisée en {_days_text(self.days_to_done)}"
        if self.status == "abandonnee":
            return "abandonnée"
        return f"ouverte depuis {_days_text(self.age_on(today))}"

    @property
    def has_report(self) -> bool:
        return self.report_filename is not None


def _days_text(days: int) -> str:
    return f"{days} jour{'s' if abs(days) > 1 else ''}"


def scope_params(scope: UserScope) -> dict:
    """The parameters of :data:`VISIBLE_REQUEST_SQL`."""
    return {"role": scope.role, "referent": scope.referent_id if scope.role == "referent" else None,
            "commune": scope.commune_insee if scope.role == "maire" else None}


def can_see_request(bind: Engine | Connection, scope: UserScope, request_id: int) -> bool:
    """Whether the user may open the audit request ``request_id`` (False when it does not exist)."""
    with connection(bind) as conn:
        return conn.execute(sa.text(f"SELECT 1 FROM audit_request a WHERE a.id = :id AND {VISIBLE_REQUEST_SQL}"),
                            {"id": request_id, **scope_params(scope)}).first() is not None


# -- checks ------------------------------------------------------------------------------------------
def _need(need: str | None) -> str:
    need = (need or "").strip()
    if not need:
        raise AuditRequestError("Le champ « besoin » est obligatoire : dites en quelques mots ce que la commune "
                                "attend de l'étude.")
    if len(need) > MAX_NEED:
        raise AuditRequestError(f"Le champ « besoin » dépasse {MAX_NEED} caractères ({len(need)}).")
    return need


def _site(site: str | None) -> str | None:
    site = (site or "").strip()
    if len(site) > MAX_SITE:
        raise AuditRequestError(f"Le champ « lieu ou événement » dépasse {MAX_SITE} caractères ({len(site)}).")
    return site or None


def _date(value, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise AuditRequestError(f"« {field} » : une date est attendue (AAAA-MM-JJ).")
    first, last = DAYS_ACCEPTED  # a typing error, not a study, lies outside
    if not first <= value <= last:
        raise AuditRequestError(f"« {field} » : le {day_text(value)} est hors des années {first.year} à "
                                f"{last.year}.")
    return value


def _kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise AuditRequestError(f"Type d'étude inconnu « {kind or ''} » : {', '.join(KINDS.values())}.")
    return kind


def _may_request(conn: Connection, scope: UserScope, commune: str) -> None:
    """The rule of ``study.request``: admin any town; a référent the towns he covers; a mayor his own."""
    if scope.role not in REQUEST_ROLES:
        raise Forbidden("Vous ne pouvez pas demander d'étude de sûreté.")
    if scope.role == "maire" and commune != scope.commune_insee:
        raise Forbidden(f"Vous ne pouvez demander une étude que pour votre commune, pas pour la commune {commune}.")
    if scope.role == "referent" and not covers(conn, scope, commune):
        raise Forbidden(f"Vous ne couvrez pas la commune {commune} : sa demande passe par la direction "
                        "départementale.")


def _run_request(conn: Connection, scope: UserScope, request_id: int) -> dict:
    """The request's row, locked, if the user may run it (``study.run``); NotFound or Forbidden otherwise."""
    row = conn.execute(sa.text(f"""
        SELECT a.id, a.commune_insee, a.requested_on, a.referent_id, a.assigned_on, a.planned_on, a.done_on,
               a.status FROM audit_request a WHERE a.id = :id AND {VISIBLE_REQUEST_SQL} FOR UPDATE"""),
        {"id": request_id, **scope_params(scope)}).mappings().first()
    if row is None:
        raise NotFound(f"Aucune demande d'audit n° {request_id} dans votre périmètre.")
    if scope.role not in RUN_ROLES:
        raise Forbidden("Seul le référent sûreté planifie, réalise et rend compte d'une étude.")
    return dict(row)


def _open(row: dict, verb: str) -> None:
    if row["status"] not in OPEN_STATUSES:
        raise AuditRequestError(f"La demande n° {row['id']} est déjà {STATUSES[row['status']].lower()} : "
                                f"on ne peut plus la {verb}.")


# -- writes ---------------------------------------------------------------------------------------------
def create_request(bind: Engine | Connection, scope: UserScope, *, commune: str, kind: str, need: str,
                   site: str | None = None, requested_on: dt.date | None = None, actor_id: int | None = None,
                   today: dt.date | None = None) -> int:
    """Record a town's request for a study; its id.

    Assigned on the day to the référent who covers the town (status ``attribuee``), or left
    ``demandee`` when none does. ``requested_on`` (default today): when the town asked, not
    in the future. Raises AuditRequestError (400), Forbidden (403: a town the user may not ask
    for) or NotFound (404: an unknown town).
    """
    today = today or local_today()
    kind, need, site = _kind(kind), _need(need), _site(site)
    requested_on = _date(requested_on or today, "demandée le")
    if requested_on > today:
        raise AuditRequestError(f"« demandée le » : le {day_text(requested_on)} est dans le futur.")
    commune = (commune or "").strip()
    with transaction(bind) as conn:
        if not conn.execute(sa.text("SELECT 1 FROM commune WHERE insee = :c"), {"c": commune}).first():
            raise NotFound(f"Aucune commune de code INSEE « {commune} » n'est chargée.")
        _may_request(conn, scope, commune)
        referent = conn.execute(sa.text("SELECT referent_id FROM referent_commune WHERE commune_insee = :c"),
                                {"c": commune}).scalar()
        request_id = conn.execute(sa.text("""
            INSERT INTO audit_request (commune_insee, kind, need, site, requested_on, referent_id, assigned_on, status,
                                       created_by)
            VALUES (:c, :k, :n, :s, :on, :r, :assigned, :status, :u) RETURNING id"""),
            {"c": commune, "k": kind, "n": need, "s": site, "on": requested_on, "r": referent,
             "assigned": today if referent is not None else None,
             "status": "attribuee" if referent is not None else "demandee", "u": actor_id}).scalar_one()
        audit(conn, "audit_request.create", user_id=actor_id, target=f"audit_request:{request_id}",
              details={"commune": commune, "kind": kind, "referent_id": referent})
    return request_id


def assign(bind: Engine | Connection, scope: UserScope, request_id: int, referent_id: int, *,
           actor_id: int | None = None, today: dt.date | None = None) -> None:
    """Give the request to another référent (admin only: the DDSP's choice), assigned today."""
    today = today or local_today()
    if scope.role != "admin":
        raise Forbidden("Seul un administrateur (la direction départementale) attribue une demande d'audit.")
    with transaction(bind) as conn:
        row = _run_request(conn, scope, request_id)
        _open(row, "attribuer")
        if not conn.execute(sa.text("SELECT 1 FROM referent WHERE id = :r"), {"r": referent_id}).first():
            raise AuditRequestError(f"« référent » : aucun référent n° {referent_id}.")
        conn.execute(sa.text("""
            UPDATE audit_request SET referent_id = :r, assigned_on = :today,
                   status = CASE WHEN status = 'demandee' THEN 'attribuee' ELSE status END WHERE id = :id"""),
            {"r": referent_id, "today": today, "id": request_id})
        audit(conn, "audit_request.assign", user_id=actor_id, target=f"audit_request:{request_id}",
              details={"referent_id": referent_id, "from": row["referent_id"]})


def plan(bind: Engine | Connection, scope: UserScope, request_id: int, planned_on: dt.date, *,
         actor_id: int | None = None, today: dt.date | None = None) -> None:
    """Plan the study for ``planned_on`` (not before the request; planning again moves the date).

    A request no référent holds yet goes to the référent who plans it.
    """
    today = today or local_today()
    planned_on = _date(planned_on, "planifiée le")
    with transaction(bind) as conn:
        row = _run_request(conn, scope, request_id)
        _open(row, "planifier")
        if planned_on < row["requested_on"]:
            raise AuditRequestError(f"« planifiée le » : le {day_text(planned_on)} précède la demande, faite le "
                                    f"{day_text(row['requested_on'])}.")
        taker = scope.referent_id if scope.role == "referent" else None
        conn.execute(sa.text("""
            UPDATE audit_request SET planned_on = :on, status = 'planifiee',
                   referent_id = coalesce(referent_id, CAST(:r AS integer)),
                   assigned_on = CASE WHEN referent_id IS NULL AND CAST(:r AS integer) IS NOT NULL THEN :today
                                      ELSE assigned_on END
            WHERE id = :id"""), {"on": planned_on, "r": taker, "today": today, "id": request_id})
        audit(conn, "audit_request.plan", user_id=actor_id, target=f"audit_request:{request_id}",
              details={"planned_on": planned_on.isoformat(), "before": row["planned_on"]})


def close(bind: Engine | Connection, scope: UserScope, request_id: int, done_on: dt.date, *,
          actor_id: int | None = None, today: dt.date | None = None) -> None:
    """Record the study done on ``done_on`` (status ``realisee``): not before the request nor the planned date,
    not in the future."""
    today = today or local_today()
    done_on = _date(done_on, "réalisée le")
    with transaction(bind) as conn:
        row = _run_request(conn, scope, request_id)
        _open(row, "clore")
        if done_on > today:
            raise AuditRequestError(f"« réalisée le » : le {day_text(done_on)} est dans le futur ; une étude se "
                                    "consigne le jour même ou après.")
        if done_on < row["requested_on"]:
            raise AuditRequestError(f"« réalisée le » : le {day_text(done_on)} précède la demande, faite le "
                                    f"{day_text(row['requested_on'])}.")
        if row["planned_on"] is not None and done_on < row["planned_on"]:
            raise AuditRequestError(f"« réalisée le » : le {day_text(done_on)} précède la date planifiée, le "
                                    f"{day_text(row['planned_on'])}.")
        conn.execute(sa.text("UPDATE audit_request SET done_on = :on, status = 'realisee' WHERE id = :id"),
                     {"on": done_on, "id": request_id})
        audit(conn, "audit_request.close", user_id=actor_id, target=f"audit_request:{request_id}",
              details={"done_on": done_on.isoformat()})


def abandon(bind: Engine | Connection, scope: UserScope, request_id: int, *, actor_id: int | None = None) -> None:
    """Give the request up (status ``abandonnee``): the town withdrew it, or it has no object."""
    with transaction(bind) as conn:
        row = _run_request(conn, scope, request_id)
        _open(row, "abandonner")
        conn.execute(sa.text("UPDATE audit_request SET status = 'abandonnee' WHERE id = :id"), {"id": request_id})
        audit(conn, "audit_request.abandon", user_id=actor_id, target=f"audit_request:{request_id}",
              details={"from": row["status"]})


# -- the report -------------------------------------------------------------------------------------------
def report_kind(filename: str, content: bytes) -> str:
    """The report's kind (``pdf``, ``odt``, ``docx``) when its extension and its bytes agree; refused otherwise.

    PDF: ``%PDF-``; ODT: a ZIP whose ``mimetype`` member names the OpenDocument text type;
    DOCX: a ZIP holding ``[Content_Types].xml`` and ``word/document.xml``.

    >>> report_kind("rapport.pdf", b"%PDF-1.7 ...")
    'pdf'
    >>> report_kind("rapport.pdf", b"MZ...")
    Traceback (most recent call last):
    ...
    geo.referents.audits.AuditRequestError: « rapport » : rapport.pdf n'est pas un fichier PDF (son contenu ne l'est pas).
    """
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension not in REPORT_TYPES:
        raise AuditRequestError(f"« rapport » : {filename or 'le fichier'} n'est ni un PDF, ni un ODT, ni un DOCX ; "
                                "seuls ces formats sont acceptés.")
    if _content_kind(content) != extension:
        raise AuditRequestError(f"« rapport » : {filename} n'est pas un fichier {extension.upper()} (son contenu ne "
                                "l'est pas).")
    return extension


def _content_kind(content: bytes) -> str | None:
    if content.startswith(b"%PDF-"):
        return "pdf"
    if not content.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                if archive.read("mimetype").strip() == REPORT_TYPES["odt"].encode():
                    return "odt"
            if {"[Content_Types].xml", "word/document.xml"} <= names:
                return "docx"
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return None
    return None


def safe_filename(filename: str, extension: str, fallback: str = "rapport") -> str:
    """The file's name reduced to ASCII letters, digits, ``.``, ``-`` and ``_`` (no folder, at most 100 characters),
    with its extension in lower case; ``fallback`` when nothing is left."""
    base = re.split(r"[\\/]", filename or "")[-1]
    stem = base.rpartition(".")[0] if "." in base else base
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")
    stem = re.sub(r"_+", "_", stem)[:100].rstrip("._-") or fallback
    return f"{stem}.{extension}"


def attach_report(bind: Engine | Connection, scope: UserScope, request_id: int, filename: str, content: bytes,
                  content_type: str | None = None, *, actor_id: int | None = None) -> str:
    """Keep the study's report (it replaces the one before); the name it is kept under.

    Only PDF, ODT and DOCX, told by their bytes and their extension together, of at most
    :data:`MAX_REPORT_BYTES`. ``content_type`` (what the browser said) is not trusted: the
    report is stored with the type of its kind (:data:`REPORT_TYPES`).
    """
    if not content:
        raise AuditRequestError("« rapport » : le fichier est vide.")
    if len(content) > MAX_REPORT_BYTES:
        raise AuditRequestError(f"« rapport » : le fichier fait {number(len(content) / 1024 / 1024, 1)} Mo ; au plus "
                                f"{MAX_REPORT_BYTES // 1024 // 1024} Mo.")
    kind = report_kind(re.split(r"[\\/]", filename or "")[-1], content)
    name = safe_filename(filename, kind, fallback=f"rapport-audit-{request_id}")
    with transaction(bind) as conn:
        _run_request(conn, scope, request_id)
        conn.execute(sa.text("UPDATE audit_request SET report = :b, report_filename = :f, report_type = :t "
                             "WHERE id = :id"), {"b": content, "f": name, "t": REPORT_TYPES[kind], "id": request_id})
        audit(conn, "audit_request.report", user_id=actor_id, target=f"audit_request:{request_id}",
              details={"filename": name, "type": REPORT_TYPES[kind], "bytes": len(content),
                       "declared_type": (content_type or "")[:100]})
    return name


@dataclasses.dataclass(frozen=True)
class ReportFile:
    filename: str
    content_type: str
    content: bytes


def report_file(bind: Engine | Connection, scope: UserScope, request_id: int, *, actor_id: int | None = None,
                ip: str | None = None) -> ReportFile:
    """The request's report (its name, type and bytes); NotFound when there is none or the request is not visible.

    The download is written to the audit log (``export.audit_report``): a study leaving the app.
    """
    with transaction(bind) as conn:
        row = conn.execute(sa.text(f"""
            SELECT a.report_filename, a.report_type, a.report FROM audit_request a
            WHERE a.id = :id AND {VISIBLE_REQUEST_SQL}"""), {"id": request_id, **scope_params(scope)}).first()
        if row is None:
            raise NotFound(f"Aucune demande d'audit n° {request_id} dans votre périmètre.")
        if row[0] is None:
            raise NotFound(f"La demande d'audit n° {request_id} n'a pas encore de rapport.")
        audit(conn, "export.audit_report", user_id=actor_id, target=f"audit_request:{request_id}",
              details={"filename": row[0]}, ip=ip)
        return ReportFile(row[0], row[1], bytes(row[2]))


# -- reads ------------------------------------------------------------------------------------------------
_SELECT = f"""
    SELECT a.id, a.commune_insee, c.name AS commune_name, a.kind, a.need, a.site, a.requested_on, a.referent_id,
           r.name AS referent_name, a.assigned_on, a.planned_on, a.done_on, a.status, a.report_filename,
           a.report_type, octet_length(a.report) AS report_size
    FROM audit_request a JOIN commune c ON c.insee = a.commune_insee LEFT JOIN referent r ON r.id = a.referent_id
    WHERE {VISIBLE_REQUEST_SQL}"""


def get_request(bind: Engine | Connection, scope: UserScope, request_id: int) -> AuditRequest | None:
    """The request if the user may see it, else None."""
    with connection(bind) as conn:
        row = conn.execute(sa.text(_SELECT + " AND a.id = :id"), {"id": request_id, **scope_params(scope)}).first()
    return AuditRequest(*row) if row else None


def list_requests(bind: Engine | Connection, scope: UserScope, *, commune: str | None = None,
                  open_only: bool = False) -> list[AuditRequest]:
    """The requests the user sees (``commune``: of that town; ``open_only``: neither done nor given up), the open
    ones first, then the newest."""
    with connection(bind) as conn:
        rows = conn.execute(sa.text(_SELECT + """
              AND (CAST(:only AS text) IS NULL OR a.commune_insee = :only)
              AND (NOT CAST(:open_only AS boolean) OR a.status = ANY (:open))
            ORDER BY a.status = ANY (:open) DESC, a.requested_on DESC, a.id DESC"""),
            {"only": commune, "open_only": open_only, "open": list(OPEN_STATUSES), **scope_params(scope)}).all()
    return [AuditRequest(*row) for row in rows]


def requestable_communes(bind: Engine | Connection, scope: UserScope) -> list[tuple[str, str]]:
    """(INSEE, name) of the towns the user may ask a study for: a mayor his own, a référent those he covers, an
    admin every town."""
    params = {"role": scope.role, "referent": scope.referent_id, "commune": scope.commune_insee}
    with connection(bind) as conn:
        return [tuple(r) for r in conn.execute(sa.text("""
            SELECT c.insee, c.name FROM commune c
            WHERE :role = 'admin'
               OR (:role = 'maire' AND c.insee = :commune)
               OR (:role = 'referent' AND c.insee IN (SELECT commune_insee FROM referent_commune
                                                       WHERE referent_id = :referent))
            ORDER BY c.name, c.insee"""), params)]


def referents(bind: Engine | Connection) -> list[tuple[int, str]]:
    """(id, name) of every référent, by name: whom an admin may assign a request to."""
    with connection(bind) as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT id, name FROM referent ORDER BY name, id"))]


__all__ = [
    "AuditRequest", "AuditRequestError", "KINDS", "LATE_AFTER_DAYS", "MAX_NEED",
    "MAX_REPORT_BYTES", "MAX_SITE", "OPEN_STATUSES", "REPORT_TYPES", "ReportFile", "STATUSES",
    "VISIBLE_REQUEST_SQL", "abandon", "assign", "attach_report", "can_see_request", "close", "create_request",
    "get_request", "list_requests", "plan", "referents", "report_file", "report_kind", "requestable_communes",
    "safe_filename", "scope_params",
]
