"""The database stops (issue 14): every page and endpoint answers 503 in French, then the app recovers by itself
when it is back; a fault of ours is a 500 in French with a reference that the log carries.

The outage is real: a cluster of its own (geo.db.cluster.EmbeddedCluster in a temporary folder) is stopped and
started again inside the test, so that the test database of the other tests never stops.
"""

from __future__ import annotations

import logging

import pytest

from geo.accounts.users import create_user
from geo.db import engine as database
from geo.db.cluster import EmbeddedCluster
from geo.db.migrations import migrate
from tests.fixtures.accounts import csrf_token_in

ADMIN = ("admin.panne@psq.test", "mot de passe de la panne")
UNAVAILABLE = ("La base de données ne répond pas pour le moment : réessayez dans une minute. "
               "Le service reprend de lui-même dès qu'elle revient.")


@pytest.fixture
def own_cluster(tmp_path):
    cluster = EmbeddedCluster(tmp_path / "panne")
    url = cluster.start()
    engine = database.create_engine(url)
    migrate(engine)
    create_user(engine, *ADMIN[:1], "admin", ADMIN[1])
    engine.dispose()
    yield cluster, url
    cluster.stop()


def test_a_stopped_database_gives_503_in_french_and_the_app_comes_back(own_cluster, login):
    from web import create_app

    cluster, url = own_cluster
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "BASE_MAP": None})
    client = app.test_client()
    assert login(client, *ADMIN).status_code == 302
    assert client.get("/").status_code in (200, 302)

    cluster.stop()
    page = client.get("/csp/CSP%20Belfort")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert UNAVAILABLE.replace("'", "&#39;") in page.text and "Service momentanément indisponible" in page.text
    api = client.get("/api/communes/90010/cellules")
    assert api.status_code == 503 and api.json == {"error": UNAVAILABLE}
    anonymous = app.test_client().get("/connexion")  # the login page itself needs no database: it still opens
    assert anonymous.status_code == 200
    logging_in = app.test_client()
    token = csrf_token_in(logging_in.get("/connexion").text)
    refused = logging_in.post("/connexion", data={"csrf_token": token, "email": ADMIN[0], "password": ADMIN[1]})
    assert refused.status_code == 503

    cluster.start()
    assert client.get("/").status_code in (200, 302)  # the same client, the same session: recovered alone
    assert client.get("/csp/CSP%20Belfort").status_code in (200, 404)


def test_a_fault_of_ours_is_a_500_in_french_with_its_reference_in_the_log(app, admin_account, login, caplog):
    @app.route("/panne-interne")
    def broken():
        raise RuntimeError("boom")

    client = app.test_client()
    assert login(client, *admin_account).status_code == 302
    with caplog.at_level(logging.ERROR):
        answer = client.get("/panne-interne")
    reference = answer.headers["X-Request-Id"]
    assert answer.status_code == 500 and len(reference) == 12
    assert f"Erreur interne du service (référence {reference})" in answer.text
    assert "boom" not in answer.text and "Traceback" not in answer.text
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)
