"""Kept views (issue 11 item 10): the sector page's statistics and map, the mayor's page and cells are computed
once per view and data version and kept in PostgreSQL, where every worker finds them; a write makes them
computed again; each scope has its own; row-level security guards them like the occurrences."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from geo.accounts.users import create_user
from geo.analysis import sector_view
from geo.db import engine as database
from geo.db.unit_of_work import set_scope
from tests.fixtures.accounts import CHIEF, client_as, csrf_token_in
from tests.fixtures.sector_page import PAGE, PERIOD

MAYOR = ("maire.test@psq.test", "mot de passe du maire")
MAP_ID = re.compile(r'<div class="folium-map" id="(map_[0-9a-f]+)"')


@pytest.fixture
def accounts(engine, territory):
    create_user(engine, CHIEF[0], "chef_secteur", CHIEF[1], sectors=["BEL-CENTRE", "BEL-GLACIS"])
    create_user(engine, MAYOR[0], "maire", MAYOR[1], commune="90010")


@pytest.fixture
def analyses(monkeypatch) -> list:
    """Every call of the sector page's analysis, counted (the real one runs)."""
    calls = []
    real = sector_view.analyse

    def counted(*args, **kwargs):
        calls.append(args[1].code)
        return real(*args, **kwargs)

    monkeypatch.setattr(sector_view, "analyse", counted)
    return calls


def kept_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT k.kind, s.code, k.commune_insee FROM kept_view k LEFT JOIN sector s ON s.id = k.sector_id "
            "ORDER BY k.kind, s.code, k.commune_insee"))]


def map_id(html: str) -> str:
    match = MAP_ID.search(html)
    assert match, "no Folium map in the page"
    return match.group(1)


def test_a_second_worker_serves_the_view_the_first_computed(demo, accounts, app, login, analyses, monkeypatch):
    from web import create_app

    first = client_as(app, login, *CHIEF).get(PAGE + PERIOD)
    assert first.status_code == 200 and analyses == ["BEL-CENTRE"]
    # Another worker: its own app, engine and memory; it must not compute the view again.
    other = create_app(dict(app.config))
    monkeypatch.setattr(sector_view, "analyse", lambda *a, **k: pytest.fail("the second worker recomputed"))
    second = client_as(other, login, *CHIEF).get(PAGE + PERIOD)
    assert second.status_code == 200
    assert map_id(second.text) == map_id(first.text)  # Folium's ids are random: the same render, kept
    # Each page has its own nonce on the kept map's scripts.
    nonces = [set(re.findall(r'<script nonce="([^"]+)"', r.text)) for r in (first, second)]
    assert all(len(n) == 1 for n in nonces) and nonces[0] != nonces[1]


def test_a_write_makes_the_view_computed_again_and_prunes_the_old_one(demo, accounts, app, login, analyses, engine):
    chief = client_as(app, login, *CHIEF)
    before = chief.get(PAGE + PERIOD).text
    assert map_id(chief.get(PAGE + PERIOD).text) == map_id(before) and analyses == ["BEL-CENTRE"]
    assert kept_rows(engine) == [("sector_map", "BEL-CENTRE", None)]
    # One more occurrence in the sector and period (a loader's write, as the owner).
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, sector_id, csp_id) "
            "SELECT 'test', 'kept-1', 'rodeos', TIMESTAMPTZ '2026-11-01 21:00+01', ST_PointOnSurface(geom), id, csp_id "
            "FROM sector WHERE code = 'BEL-CENTRE'"))
    after = chief.get(PAGE + PERIOD).text
    assert map_id(after) != map_id(before) and analyses == ["BEL-CENTRE", "BEL-CENTRE"]
    assert kept_rows(engine) == [("sector_map", "BEL-CENTRE", None)]  # the stale view is gone
    # A zone drawn by the chief is on the map at once.
    token = csrf_token_in(after)
    with engine.connect() as conn:
        csp_id = conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()
    square = {"type": "Polygon", "coordinates": [[[6.8540, 47.6386], [6.8551, 47.6386], [6.8551, 47.6394],
                                                  [6.8540, 47.6394], [6.8540, 47.6386]]]}
    created = chief.post("/api/zones", json={"csp_id": csp_id, "sector_code": "BEL-CENTRE", "geometry": square,
                                             "reason": "Zone gardée à jour", "valid_from": "2026-01-01"},
                         headers={"X-CSRFToken": token})
    assert created.status_code == 201, created.text
    assert "Zone gardée à jour" in chief.get(PAGE + PERIOD).text
    assert len(analyses) == 3


def test_each_scope_has_its_own_view(demo, accounts, app, login, admin_client, analyses, engine):
    chief_page = client_as(app, login, *CHIEF).get(PAGE + PERIOD).text
    admin_page = admin_client.get(PAGE + PERIOD).text
    assert map_id(chief_page) != map_id(admin_page) and len(analyses) == 2
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(DISTINCT key) FROM kept_view WHERE kind = 'sector_map'")).scalar() == 2


def test_the_mayors_page_and_cells_are_kept_and_answer_the_same(demo, accounts, app, login, engine):
    mayor = client_as(app, login, *MAYOR)
    pages = [mayor.get("/commune/90010?du=2025-11&au=2026-10") for _ in range(2)]
    cells = [mayor.get("/api/communes/90010/cellules?du=2025-11&au=2026-10") for _ in range(2)]
    assert all(r.status_code == 200 for r in pages + cells)
    assert map_id(pages[0].text) == map_id(pages[1].text)
    assert cells[0].get_json() == cells[1].get_json() and cells[0].get_json()["features"]
    assert kept_rows(engine) == [("commune_cells", None, "90010"), ("commune_page", None, "90010")]
    # Another period is another view; another commune is refused before anything is computed or kept.
    assert mayor.get("/commune/90010?du=2025-01&au=2025-12").status_code == 200
    assert mayor.get("/commune/90011").status_code == 403
    assert sorted(r[0] for r in kept_rows(engine)) == ["commune_cells", "commune_page", "commune_page"]


def test_row_level_security_keeps_each_view_to_the_scope_that_computed_it(demo, accounts, app, login, database_url,
                                                                           engine, admin_client):
    client_as(app, login, *CHIEF).get(PAGE + PERIOD)
    mayor = client_as(app, login, *MAYOR)
    mayor.get("/commune/90010")
    mayor.get("/api/communes/90010/cellules")
    assert admin_client.get("/commune/90010").status_code == 200  # an admin sees the commune too: his own view
    assert len(kept_rows(engine)) == 4
    app_engine = database.create_engine(database.app_url(database_url))

    def visible(role, **scope) -> list[str]:
        with conn.begin():
            set_scope(conn, role, **scope)
            return sorted(conn.execute(sa.text("SELECT kind FROM kept_view")).scalars())

    try:
        with app_engine.connect() as conn:
            with conn.begin():
                assert conn.execute(sa.text("SELECT count(*) FROM kept_view")).scalar() == 0  # no scope: nothing
                csp = territory_csp(conn)
                row = {"s": conn.execute(sa.text("SELECT id FROM sector WHERE code = 'BEL-CENTRE'")).scalar()}
            assert visible("chef_secteur", sector_keys=(f"{csp}:BEL-CENTRE", f"{csp}:BEL-GLACIS")) == ["sector_map"]
            assert visible("chef_secteur", sector_keys=(f"{csp}:BEL-GLACIS", f"{csp}:BEL-CENTRE")) == ["sector_map"]
            assert visible("chef_secteur", sector_keys=(f"{csp}:BEL-CENTRE",)) == []  # another scope, even a part
            assert visible("maire", commune="90011") == []
            assert visible("maire", commune="90010") == ["commune_cells", "commune_page"]
            assert visible("referent") == []  # sees everything, but not what was computed for others
            assert visible("admin") == ["commune_page"]
            # With no scope nothing can be kept; nor under another scope than one's own.
            insert = ("INSERT INTO kept_view (key, kind, sector_id, versions, content{}) "
                      "VALUES ('forged', 'sector_map', :s, '{{}}', '{{}}'{})")
            for scope, sql in ((None, insert.format("", "")),
                               ("maire", insert.format(", scope", ", 'admin||'"))):
                with conn.begin():
                    set_scope(conn, scope, commune="90010")
                    with pytest.raises(sa.exc.DBAPIError, match="row-level security|null value"):
                        with conn.begin_nested():
                            conn.execute(sa.text(sql), row)
    finally:
        app_engine.dispose()


def territory_csp(conn) -> int:
    return conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()
