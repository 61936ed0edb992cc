"""The meeting file of a GPO: its page, its PDF (HTTP and ``psq report``), who may have it, and what it fetches.

The PDF is made once for the module (WeasyPrint takes a second or two) and read back with pypdf:
the agenda's titles and French column headers, and the map image at its PNG size.
"""

from __future__ import annotations

import datetime as dt
import html
import http.server
import io
import threading

import pypdf
import pytest
import shapely
import sqlalchemy as sa
from click.testing import CliRunner
from markupsafe import escape

from geo.accounts.users import UserScope, create_user
from geo.db.models import Base
from geo.demo.loader import SECTORS_FILE, SECTORS_VALID_FROM
from geo.gpo import meetings as gm
from geo.gpo.groups import add_gpo, add_organisation, get_gpo
from geo.gpo.map_image import png_size
from geo.gpo.meeting_file import hot_cells, meeting_file
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors
from geo.settings import local_today
from tests.fixtures.accounts import account, client_as, csrf_token_in

SCRIPT = "<script>alert('dossier')</script>"
TITLES = ("Point de deal au pied de la tour", "Rodéos sur le parking " + SCRIPT)
HEADERS = ("Rang", "Problème", "Catégorie", "Récurrence", "Tendance", "Gravité", "Ancienneté", "Partenaires", "Score")
CHIEF = ("chef.dossier@psq.test", "mot de passe du chef")


def _problem(conn, title: str, category: str, dx: float, organisation: int) -> int:
    return conn.execute(sa.text("""
        WITH s AS (SELECT id, csp_id, ST_PointOnSurface(geom) AS g FROM sector WHERE code = 'BEL-CENTRE'
                   AND valid_during @> CURRENT_DATE)
        INSERT INTO problem (source, external_id, category_code, title, geom, sector_id, csp_id, commune_insee,
                             reported_on, organisation_id)
        SELECT 'test', :title, :category, :title, ST_Translate(s.g, :dx, 0), s.id, s.csp_id, '90010',
               DATE '2026-06-01', :org
        FROM s RETURNING id"""), {"title": title, "category": category, "dx": dx, "org": organisation}).scalar_one()


def _occurrences(conn, today: dt.date) -> None:
    """A dense spot on the first problem (a hot spot) over a scattered background, all in the last 80 days."""
    conn.execute(sa.text("""
        WITH s AS (SELECT id, csp_id, geom, ST_PointOnSurface(geom) AS g FROM sector WHERE code = 'BEL-CENTRE'
                   AND valid_during @> CURRENT_DATE),
        spot AS (SELECT ST_Translate(s.g, (k % 5) * 10, (k / 5) * 10) AS geom, k FROM s, generate_series(0, 39) k),
        scattered AS (SELECT (ST_Dump(ST_GeneratePoints(s.geom, 80, 7))).geom AS geom FROM s)
        INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, sector_id, csp_id)
        SELECT 'test', 'o' || row_number() OVER (), 'stupefiants',
               (CAST(:today AS date) - (2 + (row_number() OVER ()) % 78)::int)::timestamp AT TIME ZONE 'Europe/Paris'
                   + interval '21 hours',
               p.geom, s.id, s.csp_id
        FROM (SELECT geom FROM spot UNION ALL SELECT geom FROM scattered) p, s"""), {"today": today})


def _build(engine) -> dict:
    """The territory, a GPO of BEL-CENTRE with two problems, occurrences, an overdue action, a meeting, an assessment."""
    load_communes(engine, "90")
    load_sectors(engine, SECTORS_FILE, valid_from=SECTORS_VALID_FROM)
    with engine.connect() as conn:
        csp_id = conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()
    landlord = add_organisation(engine, "Bailleur « test » & fils", "bailleur_social")
    gpo_id = add_gpo(engine, csp_id=csp_id, name="GPO Centre", sector_codes=["BEL-CENTRE"], rhythm="mensuel",
                     first_meeting_on=dt.date(2026, 1, 15), members=[landlord])
    today = local_today()
    with engine.begin() as conn:
        problems = [_problem(conn, TITLES[0], "stupefiants", 0, landlord),
                    _problem(conn, TITLES[1], "rodeos", 400, landlord)]
        _occurrences(conn, today)
        conn.execute(sa.text("""
            INSERT INTO assessment (gpo_id, label, area, action_on, days, buffer_m, rb, ra, db, da, cb, ca)
            SELECT :g, :label, ST_Multi(ST_Buffer(geom, 150)), DATE '2026-05-01', 60, 200, 40, 20, 30, 45, 400, 500
            FROM problem WHERE id = :p"""), {"g": gpo_id, "label": "Pied de la tour " + SCRIPT, "p": problems[0]})
    admin = UserScope("admin")
    gm.add_action(engine, admin, gpo_id, kind="controle_parties_communes", organisation_id=landlord,
                  owner="M. Gardien " + SCRIPT, due_on=today - dt.timedelta(days=3), problem_id=problems[0])
    gm.record_meeting(engine, admin, gpo_id, today - dt.timedelta(days=20), attendees=[landlord],
                      decisions="Contrôles renforcés " + SCRIPT, reviewed=[{"problem_id": problems[0]}])
    return {"gpo": gpo_id, "csp": csp_id, "problems": problems}


@pytest.fixture(scope="module")
def made(database_url, engine, base_map_archive, tmp_path_factory):
    """The page, the PDF over HTTP for the sector's chief, and the CLI's PDF, collected once (tables emptied first;
    the per-test cleaning that follows does not matter, everything is kept here)."""
    from web import create_app
    from web.cli import main

    tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "category")
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    built = _build(engine)
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE"])
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "BASE_MAP": str(base_map_archive)})
    client = app.test_client()
    token = csrf_token_in(client.get("/connexion").text)
    assert client.post("/connexion", data={"csrf_token": token, "email": CHIEF[0], "password": CHIEF[1]}
                       ).status_code == 302
    url = f"/gpo/{built['gpo']}/dossier"
    gpo_page, page, pdf = client.get(f"/gpo/{built['gpo']}"), client.get(url), client.get(url + ".pdf")
    output = tmp_path_factory.mktemp("report") / "dossier.pdf"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        cli = CliRunner().invoke(main, ["report", "--gpo", str(built["gpo"]), "-o", str(output)],
                                 catch_exceptions=False)
    file = meeting_file(engine, UserScope("admin"), built["gpo"])
    hot, _ = hot_cells(engine, get_gpo(engine, UserScope("admin"), built["gpo"]), *file.hot_period)
    with engine.connect() as conn:
        spot = shapely.from_wkb(bytes(conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM problem WHERE id = :p"),
                                                   {"p": built["problems"][0]}).scalar_one()))
        exports = conn.execute(sa.text("SELECT u.email, a.target FROM audit_log a "
                                       "LEFT JOIN app_user u ON u.id = a.user_id "
                                       "WHERE a.action = 'export.meeting_file' ORDER BY a.id")).all()
    return {**built, "gpo_page": gpo_page, "page": page, "pdf": pdf, "cli": cli, "output": output, "file": file,
            "hot": hot, "spot": spot, "exports": exports}


def test_each_pdf_leaving_the_app_is_in_the_audit_log(made):
    target = f"gpo:{made['gpo']}"
    assert [tuple(row) for row in made["exports"]] == [(CHIEF[0], target), (None, target)]  # HTTP, then CLI


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _squeezed(text: str) -> str:
    """Without any white space: pypdf breaks a table's cells into lines wherever they wrap."""
    return "".join(text.split())


def _images(pdf: bytes) -> list:
    return [image for page in pypdf.PdfReader(io.BytesIO(pdf)).pages for image in page.images]


def test_the_gpo_page_links_to_the_file_and_its_pdf(made):
    assert made["gpo_page"].status_code == 200
    assert f'href="/gpo/{made["gpo"]}/dossier"' in made["gpo_page"].text
    assert f'href="/gpo/{made["gpo"]}/dossier.pdf"' in made["gpo_page"].text


def test_the_pdf_holds_the_agenda_and_the_map(made):
    response = made["pdf"]
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    file = made["file"]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="gpo-{made["gpo"]}-{file.meeting_on.isoformat()}.pdf"')
    pdf = response.data
    assert pdf.startswith(b"%PDF")
    text = " ".join(_text(pdf).split())
    for title in TITLES:
        assert _squeezed(title) in _squeezed(text), title
    for header in HEADERS:
        assert header in text, header
    assert "Réunion du " + file.meeting_on.strftime("%d/%m/%Y") in text and "Page 1 / " in text
    assert "en retard" in text and "Contrôles renforcés" in text and "Pied de la tour" in text
    sizes = {image.image.size for image in _images(pdf)}
    assert png_size(file.map_png) in sizes


def test_the_map_shows_the_hot_spot_of_the_dense_place(made):
    file = made["file"]
    assert [line.title for line in file.agenda.lines][0] == TITLES[0]  # the dense place ranks first
    assert not file.map_notes  # the sector supported a finding
    hot = made["hot"]
    assert (hot.gi_bin >= 2).any() and set(hot.gi_bin) <= {1, 2, 3}
    assert hot[hot.gi_bin == 3].intersects(made["spot"]).any()  # the sector page's Gi*: the spot is hot at 99 %
    assert png_size(file.map_png) == (1400, 980)


def test_the_page_shows_the_same_agenda_and_escapes_what_users_wrote(made):
    page = made["page"]
    assert page.status_code == 200
    text = html.unescape(page.text)
    ranked = [line.title for line in made["file"].agenda.lines]
    assert [t for t in ranked if t in text] == ranked
    assert text.index(ranked[0]) < text.index(ranked[1])
    for header in HEADERS:
        assert f">{header}<" in text, header
    assert SCRIPT not in page.text and page.text.count(str(escape(SCRIPT))) >= 4  # title, owner, decision, label
    assert '<img class="area-map" src="data:image/png;base64,' in page.text
    assert "/static/meeting_file.css" in page.text


def test_psq_report_writes_the_same_file(made):
    assert made["cli"].exit_code == 0, made["cli"].output
    pdf = made["output"].read_bytes()
    assert pdf.startswith(b"%PDF")
    text = _squeezed(_text(pdf))
    assert all(_squeezed(t) in text for t in TITLES) and "Récurrence" in text
    assert png_size(made["file"].map_png) in {image.image.size for image in _images(pdf)}


def test_only_the_police_side_of_the_gpo_gets_the_file(app, engine, login, territory):
    landlord = add_organisation(engine, "Bailleur", "bailleur_social")
    gpo_id = add_gpo(engine, csp_id=territory, name="GPO Centre", sector_codes=["BEL-CENTRE"], rhythm="mensuel",
                     first_meeting_on=dt.date(2026, 1, 15), members=[landlord])
    other = client_as(app, login, *account(engine, "chef.glacis@psq.test", "chef_secteur", sectors=["BEL-GLACIS"]))
    mayor = client_as(app, login, *account(engine, "maire@psq.test", "maire", commune="90010"))
    partner = client_as(app, login, *account(engine, "bailleur@psq.test", "partenaire", organisation="Bailleur"))
    for who, client in (("chief of another sector", other), ("mayor", mayor), ("partner", partner)):
        for url in (f"/gpo/{gpo_id}/dossier", f"/gpo/{gpo_id}/dossier.pdf"):
            response = client.get(url)
            assert response.status_code == 403, (who, url, response.status_code)
            assert response.mimetype == "text/html" and "Accès refusé" in response.text
    chief = client_as(app, login, *account(engine, "chef.centre@psq.test", "chef_secteur", sectors=["BEL-CENTRE"]))
    assert chief.get(f"/gpo/{gpo_id + 1}/dossier").status_code == 403  # no such GPO: refused as any other


def test_psq_report_refuses_an_unknown_gpo_and_an_unwritable_file_in_one_sentence(psq, territory, tmp_path):
    result = psq("report", "--gpo", 999, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1 and result.output.strip() == "Error: Aucun GPO n° 999 : psq gpo list donne leurs numéros."
    result = psq("report", "--gpo", 1, "-o", tmp_path / "absent" / "x.pdf")
    assert result.exit_code == 1 and "does not exist" in result.output and len(result.output.strip().splitlines()) == 1
    result = psq("report", "--gpo", 1, "-o", tmp_path)
    assert result.exit_code == 1 and "it is a folder" in result.output
    assert list(tmp_path.iterdir()) == []


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red; }")

    def log_message(self, *args):
        pass


def test_weasyprint_fetches_only_static_files_and_data_uris(app):
    from web.pages.gpo_file import html_to_pdf, static_fetcher

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    outside = f"http://127.0.0.1:{server.server_port}"
    try:
        with app.test_request_context():
            fetcher = static_fetcher()
            pdf = html_to_pdf(f'<link rel="stylesheet" href="{outside}/style.css"><img src="{outside}/x.png">'
                              '<link rel="stylesheet" href="/static/meeting_file.css"><p>Dossier</p>')
            assert fetcher.fetch("http://localhost/static/meeting_file.css").read().startswith(b"/*")
            for refused in (outside + "/x.png", "file:///etc/passwd", "http://localhost/static/../__init__.py",
                            "http://localhost/gpo/1/dossier"):
                with pytest.raises(ValueError, match="not fetched"):
                    fetcher.fetch(refused)
            assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF") and "Dossier" in _text(pdf)
    assert _Counter.hits == []
