"""Audit requests (geo/referents/audits.py) on a real PostGIS: who asks, who is assigned, the dates and their
refusals (each its French sentence, nothing written), the delays, who sees what, and the report's checks."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import sqlalchemy as sa

from geo.accounts.policy import ACTIONS
from geo.accounts.users import UserScope
from geo.errors import Forbidden, NotFound
from geo.referents import audits as ar
from geo.settings import local_today
from tests.fixtures.referents import add_referent

TODAY = local_today()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def people(engine, territory) -> dict:
    """Two référents (Belfort 90010; 90011), a town no référent covers, and their scopes."""
    with engine.begin() as conn:
        first = add_referent(conn, "Rémi Référent", ["90010"])
        second = add_referent(conn, "Corinne Autre", ["90011"])
        orphan = conn.execute(sa.text("SELECT insee FROM commune WHERE insee NOT IN ('90010', '90011') "
                                      "ORDER BY insee LIMIT 1")).scalar_one()
    return {"r1": first, "r2": second, "orphan": orphan, "admin": UserScope("admin"),
            "ref1": UserScope("referent", referent_id=first), "ref2": UserScope("referent", referent_id=second),
            "mayor": UserScope("maire", commune_insee="90010"), "other_mayor": UserScope("maire", commune_insee="90011")}


def rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT id, commune_insee, kind, need, site, requested_on, referent_id, assigned_on, planned_on, done_on, "
            "status, report_filename, report_type, md5(report) FROM audit_request ORDER BY id"))]


def audit_actions(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT action FROM audit_log WHERE action LIKE 'audit_request.%' OR action LIKE 'export.audit%' "
            "ORDER BY id")).scalars())


def new(engine, people, scope="mayor", commune="90010", **fields) -> int:
    return ar.create_request(engine, people[scope], commune=commune, kind=fields.pop("kind", "videoprotection_voie_publique"),
                             need=fields.pop("need", "Le parvis de la gare : rassemblements et dégradations."),
                             **fields)


def test_the_policy_and_the_module_agree_on_the_roles():
    assert ACTIONS["study.request"] == ar.REQUEST_ROLES and ACTIONS["study.run"] == ar.RUN_ROLES


def test_a_request_goes_to_the_referent_of_the_town(engine, people):
    request_id = new(engine, people, site="Parvis de la gare", actor_id=None)
    found = ar.get_request(engine, people["mayor"], request_id)
    assert (found.referent_id, found.referent_name, found.assigned_on, found.status) == (
        people["r1"], "Rémi Référent", TODAY, "attribuee")
    assert (found.commune_name, found.site, found.requested_on, found.days_to_assignment) == (
        "Belfort", "Parvis de la gare", TODAY, 0)
    assert audit_actions(engine) == ["audit_request.create"]


def test_a_town_no_referent_covers_waits_for_the_admin(engine, people):
    request_id = new(engine, people, scope="admin", commune=people["orphan"], kind="evenement",
                     requested_on=TODAY - dt.timedelta(days=10))
    found = ar.get_request(engine, people["admin"], request_id)
    assert (found.referent_id, found.assigned_on, found.status) == (None, None, "demandee")
    with pytest.raises(Forbidden, match="Seul un administrateur"):
        ar.assign(engine, people["ref1"], request_id, people["r1"])
    ar.assign(engine, people["admin"], request_id, people["r2"])
    found = ar.get_request(engine, people["admin"], request_id)
    assert (found.referent_id, found.status, found.days_to_assignment) == (people["r2"], "attribuee", 10)
    # Now the référent it was given to sees it, though he does not cover the town.
    assert ar.get_request(engine, people["ref2"], request_id) is not None
    assert ar.get_request(engine, people["ref1"], request_id) is None


@pytest.mark.parametrize("scope, commune, message", [
    ("mayor", "90011", "que pour votre commune"),
    ("ref1", "90011", "Vous ne couvrez pas la commune 90011"),
])
def test_asking_for_a_town_one_may_not(engine, people, scope, commune, message):
    with pytest.raises(Forbidden, match=message):
        new(engine, people, scope=scope, commune=commune)
    with pytest.raises(Forbidden):
        ar.create_request(engine, UserScope("partenaire"), commune="90010", kind="site", need="x")
    with pytest.raises(NotFound, match="Aucune commune de code INSEE « 99999 »"):
        new(engine, people, scope="admin", commune="99999")
    assert rows(engine) == [] and audit_actions(engine) == []


@pytest.mark.parametrize("fields, message", [
    ({"kind": "cambriolage"}, "Type d'étude inconnu « cambriolage »"),
    ({"need": "   "}, "Le champ « besoin » est obligatoire"),
    ({"need": "x" * 4001}, "Le champ « besoin » dépasse 4000 caractères"),
    ({"site": "y" * 301}, "Le champ « lieu ou événement » dépasse 300 caractères"),
    ({"requested_on": dt.date(1989, 12, 31)}, "« demandée le » : le 31/12/1989 est hors des années 1990 à 2100"),
    ({"requested_on": TODAY + dt.timedelta(days=1)}, "est dans le futur"),
])
def test_a_request_refused(engine, people, fields, message):
    with pytest.raises(ar.AuditRequestError) as refused:
        new(engine, people, **fields)
    assert message in refused.value.user_message and refused.value.status == 400
    assert rows(engine) == [] and audit_actions(engine) == []


def test_plan_and_close_with_their_delays(engine, people):
    asked = TODAY - dt.timedelta(days=120)
    request_id = new(engine, people, requested_on=asked)
    found = ar.get_request(engine, people["ref1"], request_id)
    assert found.late_on(TODAY) and found.delay_text(TODAY) == "ouverte depuis 120 jours"
    ar.plan(engine, people["ref1"], request_id, asked + dt.timedelta(days=30))
    ar.plan(engine, people["ref1"], request_id, asked + dt.timedelta(days=40))  # planned again: the date moves
    ar.close(engine, people["ref1"], request_id, asked + dt.timedelta(days=45))
    found = ar.get_request(engine, people["mayor"], request_id)
    assert (found.status, found.days_to_assignment, found.days_to_planning, found.days_to_done) == (
        "realisee", 120, 40, 45)
    assert not found.late_on(TODAY) and not found.done_late and found.delay_text(TODAY) == "réalisée en 45 jours"
    assert audit_actions(engine) == ["audit_request.create", "audit_request.plan", "audit_request.plan",
                                     "audit_request.close"]


def test_late_is_after_the_90_days(engine, people):
    request_id = new(engine, people, requested_on=TODAY - dt.timedelta(days=ar.LATE_AFTER_DAYS))
    found = ar.get_request(engine, people["ref1"], request_id)
    assert not found.late_on(TODAY) and found.late_on(TODAY + dt.timedelta(days=1))
    ar.abandon(engine, people["ref1"], request_id)
    assert not ar.get_request(engine, people["ref1"], request_id).late_on(TODAY + dt.timedelta(days=1))


def test_dates_refused_each_with_its_sentence_and_nothing_changed(engine, people):
    asked = TODAY - dt.timedelta(days=20)
    request_id = new(engine, people, requested_on=asked)
    ar.plan(engine, people["ref1"], request_id, TODAY - dt.timedelta(days=5))
    before, logged = rows(engine), audit_actions(engine)
    cases = [
        (ar.plan, asked - dt.timedelta(days=1), f"« planifiée le » : le {asked - dt.timedelta(days=1):%d/%m/%Y} "
                                                f"précède la demande, faite le {asked:%d/%m/%Y}."),
        (ar.plan, dt.date(2101, 1, 1), "« planifiée le » : le 01/01/2101 est hors des années 1990 à 2100."),
        (ar.close, TODAY - dt.timedelta(days=6), "précède la date planifiée"),
        (ar.close, TODAY + dt.timedelta(days=1), "est dans le futur"),
        (ar.close, dt.date(1989, 1, 1), "hors des années 1990 à 2100"),
    ]
    for action, day, message in cases:
        with pytest.raises(ar.AuditRequestError) as refused:
            action(engine, people["ref1"], request_id, day)
        assert message in refused.value.user_message, (action, day, refused.value.user_message)
    assert rows(engine) == before and audit_actions(engine) == logged
    ar.close(engine, people["ref1"], request_id, TODAY)
    done = rows(engine)
    for action, args in ((ar.close, (TODAY,)), (ar.plan, (TODAY,)), (ar.abandon, ())):
        with pytest.raises(ar.AuditRequestError, match=f"La demande n° {request_id} est déjà réalisée"):
            action(engine, people["ref1"], request_id, *args)
    assert rows(engine) == done


def test_a_referent_does_not_reach_a_town_he_does_not_cover(engine, people):
    theirs = new(engine, people, scope="admin", commune="90011")
    mine = new(engine, people)
    assert [r.id for r in ar.list_requests(engine, people["ref1"])] == [mine]
    assert ar.get_request(engine, people["ref1"], theirs) is None
    assert not ar.can_see_request(engine, people["ref1"], theirs)
    before = rows(engine)
    for action, args in ((ar.plan, (TODAY,)), (ar.close, (TODAY,)), (ar.abandon, ()),
                         (ar.attach_report, ("r.pdf", PDF))):
        with pytest.raises(NotFound, match=f"Aucune demande d'audit n° {theirs} dans votre périmètre"):
            action(engine, people["ref1"], theirs, *args)
    with pytest.raises(NotFound):
        ar.report_file(engine, people["ref1"], theirs)
    assert rows(engine) == before
    # A référent without a record sees nothing.
    assert ar.list_requests(engine, UserScope("referent")) == []


def test_a_mayor_sees_his_towns_requests_only_and_runs_none(engine, people):
    mine = new(engine, people)
    theirs = new(engine, people, scope="other_mayor", commune="90011")
    assert [r.id for r in ar.list_requests(engine, people["mayor"])] == [mine]
    assert [r.id for r in ar.list_requests(engine, people["other_mayor"])] == [theirs]
    assert [r.id for r in ar.list_requests(engine, people["admin"], commune="90011")] == [theirs]
    assert ar.get_request(engine, people["mayor"], theirs) is None
    with pytest.raises(Forbidden, match="Seul le référent sûreté"):
        ar.plan(engine, people["mayor"], mine, TODAY)
    with pytest.raises(NotFound):
        ar.plan(engine, people["mayor"], theirs, TODAY)
    assert ar.requestable_communes(engine, people["mayor"]) == [("90010", "Belfort")]
    assert [c for c, _ in ar.requestable_communes(engine, people["ref2"])] == ["90011"]
    assert len(ar.requestable_communes(engine, people["admin"])) > 50


def test_open_only_and_the_order(engine, people):
    done = new(engine, people, requested_on=TODAY - dt.timedelta(days=3))
    ar.close(engine, people["ref1"], done, TODAY)
    old, recent = new(engine, people, requested_on=TODAY - dt.timedelta(days=9)), new(engine, people)
    assert [r.id for r in ar.list_requests(engine, people["admin"])] == [recent, old, done]
    assert [r.id for r in ar.list_requests(engine, people["admin"], open_only=True)] == [recent, old]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})
DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def test_reports_pdf_odt_docx_kept_and_read_back(engine, people):
    request_id = new(engine, people)
    assert ar.attach_report(engine, people["ref1"], request_id, "C:\\Users\\rémi\\Rapport d'audit (v2).PDF", PDF,
                            "application/octet-stream") == "Rapport_d_audit_v2.pdf"
    report = ar.report_file(engine, people["mayor"], request_id)
    assert (report.filename, report.content_type, report.content) == ("Rapport_d_audit_v2.pdf", "application/pdf", PDF)
    for name, content, kind in (("étude.odt", ODT, "opendocument.text"), ("../../etc/passwd.docx", DOCX, "wordprocessingml")):
        stored = ar.attach_report(engine, people["admin"], request_id, name, content, None)
        report = ar.report_file(engine, people["ref1"], request_id)
        assert kind in report.content_type and report.content == content and "/" not in stored
    assert ar.get_request(engine, people["mayor"], request_id).report_filename == "passwd.docx"
    assert audit_actions(engine)[-2:] == ["audit_request.report", "export.audit_report"]


@pytest.mark.parametrize("name, content, message", [
    ("rapport.exe", b"MZ\x90\x00", "n'est ni un PDF, ni un ODT, ni un DOCX"),
    ("rapport", PDF, "n'est ni un PDF, ni un ODT, ni un DOCX"),
    ("rapport.pdf", b"<html><script>alert(1)</script>", "rapport.pdf n'est pas un fichier PDF"),
    ("rapport.odt", DOCX, "rapport.odt n'est pas un fichier ODT"),
    ("rapport.docx", _zip({"a.txt": b"x"}), "rapport.docx n'est pas un fichier DOCX"),
    ("rapport.docx", b"PK\x03\x04 broken", "rapport.docx n'est pas un fichier DOCX"),
    ("rapport.pdf", b"", "le fichier est vide"),
    ("rapport.pdf", PDF + b"0" * ar.MAX_REPORT_BYTES, "au plus 10 Mo"),
])
def test_reports_refused(engine, people, name, content, message):
    request_id = new(engine, people)
    before = rows(engine)
    with pytest.raises(ar.AuditRequestError) as refused:
        ar.attach_report(engine, people["ref1"], request_id, name, content, "application/pdf")
    assert message in refused.value.user_message
    assert rows(engine) == before
    with pytest.raises(NotFound, match="n'a pas encore de rapport"):
        ar.report_file(engine, people["mayor"], request_id)


def test_a_mayor_may_not_attach_a_report(engine, people):
    request_id = new(engine, people)
    with pytest.raises(Forbidden):
        ar.attach_report(engine, people["mayor"], request_id, "r.pdf", PDF)
    assert rows(engine)[0][-1] is None
