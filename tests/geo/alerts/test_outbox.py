"""The outbox: written by the import, in its transaction, for the right mayor and category only; clipped by RLS."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from geo.accounts.users import UserScope
from geo.alerts.outbox import list_alerts
from geo.alerts.subscriptions import SubscriptionError, subscribe, subscriptions
from geo.db import engine as database
from geo.db.unit_of_work import set_scope
from geo.ingest.occurrences import BadRowsError, check_occurrences, write_occurrences
from geo.ingest.tabular_file import read_rows
from tests.geo.alerts.conftest import import_rows, outbox, recent, write_csv


def test_an_import_alerts_the_mayor_of_the_town_subscribed_to_the_category_only(engine, mayors, tmp_path):
    report = import_rows(engine, tmp_path, [
        ("1", "rodeos", "90010", recent(2)),              # Belfort, subscribed: alerted
        ("2", "rodeos", mayors.other_insee, recent(3)),   # the other town: its own mayor
        ("3", "incivilites", "90010", recent(1)),         # a category nobody follows
        ("4", "rodeos", "90010", recent(24 * 30)),        # a month old: history, not news
    ])
    assert report.written == 4
    rows = outbox(engine)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT external_id, id FROM occurrence")).all())
    assert sorted((r.user_id, r.occurrence_id, r.commune_insee, r.category_code, r.digest, r.status, r.attempts)
                  for r in rows) == sorted([
        (mayors.belfort, ids["1"], "90010", "rodeos", False, "pending", 0),
        (mayors.other, ids["2"], mayors.other_insee, "rodeos", False, "pending", 0)])

    # Loading the same file again adds no occurrence, so no alert either.
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(2))])
    assert len(outbox(engine)) == 2


def test_the_digest_choice_goes_with_the_row(engine, mayors, tmp_path):
    subscribe(engine, mayors.belfort, {"rodeos": True, "incivilites": False})
    assert subscriptions(engine, mayors.belfort) == {"incivilites": False, "rodeos": True}
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent()), ("2", "incivilites", "90010", recent())])
    assert sorted((r.category_code, r.digest) for r in outbox(engine)) == [("incivilites", False), ("rodeos", True)]


def test_a_failed_import_leaves_no_alert(engine, mayors, tmp_path):
    with pytest.raises(BadRowsError):
        import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent()), ("2", "rodeos", "90010", "pas une date")])
    assert outbox(engine) == []

    # Written, then the transaction fails after: the outbox rows go with the occurrences.
    path = write_csv(engine, tmp_path / "b.csv", [("9", "rodeos", "90010", recent())])
    with pytest.raises(RuntimeError, match="after the write"):
        with engine.begin() as conn:
            good = check_occurrences(read_rows(path)).good
            assert write_occurrences(conn, good, "main courante", file="b.csv", read=1) == (1, 0)
            assert conn.execute(sa.text("SELECT count(*) FROM alert_outbox")).scalar_one() == 1
            raise RuntimeError("after the write")
    assert outbox(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM occurrence")).scalar_one() == 0


def test_only_an_active_mayor_subscribes_and_only_to_known_categories(engine, mayors):
    from geo.accounts.users import create_user

    chief = create_user(engine, "admin.x@psq.test", "admin", "mot de passe de test").user.id
    with pytest.raises(SubscriptionError, match="réservées aux maires") as refused:
        subscribe(engine, chief, {"rodeos": False})
    assert refused.value.status == 403
    with pytest.raises(SubscriptionError, match="Catégorie inconnue : licornes"):
        subscribe(engine, mayors.belfort, {"rodeos": True, "licornes": False})
    assert subscriptions(engine, mayors.belfort) == {"rodeos": False}  # nothing changed
    assert subscribe(engine, mayors.belfort, {}) == {}


def test_the_list_and_row_level_security_show_a_mayor_his_own_alerts_only(engine, mayors, tmp_path, database_url):
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent()), ("2", "rodeos", mayors.other_insee, recent())])
    belfort = list_alerts(engine, UserScope("maire", commune_insee="90010"), mayors.belfort)
    assert [(a.commune_name, a.category_label, a.status_text) for a in belfort] == [
        ("Belfort", "Rodéos et deux-roues", "en attente")]
    assert len(list_alerts(engine, UserScope("admin"), None)) == 2
    assert list_alerts(engine, UserScope("chef_secteur"), mayors.belfort) == []

    app_engine = database.create_engine(database.app_url(database_url))
    try:
        with app_engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alert_outbox")).scalar_one() == 0  # no scope
            set_scope(conn, "maire", commune=mayors.other_insee, user_id=mayors.other)
            seen = conn.execute(sa.text("SELECT commune_insee FROM alert_outbox")).scalars().all()
            assert seen == [mayors.other_insee]
            # Even asked for Belfort's rows by hand, without the Python clip:
            assert conn.execute(sa.text("SELECT count(*) FROM alert_outbox WHERE commune_insee = '90010'")
                                ).scalar_one() == 0
            assert conn.execute(sa.text("SELECT count(*) FROM alert_subscription WHERE user_id = :u"),
                                {"u": mayors.belfort}).scalar_one() == 0
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text("UPDATE alert_outbox SET status = 'sent', sent_at = now()"))
    finally:
        app_engine.dispose()
