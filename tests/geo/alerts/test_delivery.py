"""Delivery by a real SMTP server that refuses then accepts, through the procrastinate worker: sent once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from geo.alerts import delivery
from geo.alerts.subscriptions import subscribe
from geo.alerts.worker import RETRY, digest_day, due, work
from tests.geo.alerts.conftest import BELFORT_MAYOR, SENDER, import_rows, outbox, recent

pytestmark = pytest.mark.usefixtures("job_queue")


def jobs(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT task_name, status, attempts, queueing_lock, scheduled_at - now() AS wait FROM procrastinate_jobs "
            "WHERE task_name <> 'psq.alerts.sweep' ORDER BY id")).all()


def time_passes(engine) -> None:
    """The retry's wait is over (a test cannot wait half a minute)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'"))


def test_an_alert_survives_a_refusal_and_is_sent_once_to_the_right_mayor(engine, mayors, smtp, tmp_path):
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(1)),
                                   ("2", "incivilites", "90010", recent(1))])
    [row] = outbox(engine)
    smtp.refuse = 1

    work(engine, once=True)
    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("pending", 1, "451 try later", None)
    assert smtp.received == []
    [job] = jobs(engine)  # retried later, with the backoff's first wait
    assert (job.task_name, job.status, job.attempts, job.queueing_lock) == ("psq.alerts.deliver", "todo", 1,
                                                                            f"alert-{row.id}")
    assert dt.timedelta(seconds=RETRY.first_s - 10) < job.wait <= dt.timedelta(seconds=RETRY.first_s)

    work(engine, once=True)  # not due yet: nothing sent, no second job
    assert smtp.received == [] and len(jobs(engine)) == 1

    time_passes(engine)
    work(engine, once=True)
    [(recipients, mail)] = smtp.received
    assert recipients == [BELFORT_MAYOR]
    assert mail["Message-ID"] == f"<psq-alert-{row.id}@psq.example.fr>" and mail["From"] == SENDER
    assert mail["Subject"].startswith("[PSQ] Rodéos et deux-roues à Belfort le ")
    body = mail.get_payload(decode=True).decode()
    assert "https://psq.example.fr/commune/90010" in body
    assert "Dupont" not in body and "Secrets" not in body  # never the occurrence's text
    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None) and row.sent_at is not None
    assert jobs(engine) == []  # the succeeded job is deleted

    work(engine, once=True)
    assert delivery.deliver_alert(engine, row.id) is False
    assert len(smtp.received) == 1


def test_a_lost_job_loses_no_alert(engine, mayors, smtp, tmp_path):
    import_rows(engine, tmp_path, [("1", "rodeos", mayors.other_insee, recent(1))])
    smtp.refuse = 1
    work(engine, once=True)
    with engine.begin() as conn:  # the queue emptied (a restore, an operator): the outbox still says it is due
        conn.execute(sa.text("DELETE FROM procrastinate_jobs"))
    work(engine, once=True)
    [(recipients, _)] = smtp.received
    assert recipients == ["maire.autre@psq.test"]
    assert [r.status for r in outbox(engine)] == ["sent"]


def test_two_deliveries_at_once_send_one_message(engine, mayors, smtp, tmp_path):
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(1))])
    [row] = outbox(engine)
    smtp.delay = 1.0
    results = []
    threads = [threading.Thread(target=lambda: results.append(delivery.deliver_alert(engine, row.id)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert len(smtp.received) == 1


def test_the_digest_gathers_a_days_alerts_in_one_message(engine, mayors, smtp, tmp_path):
    subscribe(engine, mayors.belfort, {"rodeos": True, "incivilites": True})
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(5)), ("2", "incivilites", "90010", recent(4)),
                                   ("3", "rodeos", "90010", recent(3)), ("4", "rodeos", mayors.other_insee, recent(3))])
    work(engine, once=True)  # the other mayor's immediate alert goes; the digest waits for its hour
    assert [r for r, _ in smtp.received] == [["maire.autre@psq.test"]]
    assert due(engine)[1] == []

    with engine.begin() as conn:  # recorded before the last digest hour
        conn.execute(sa.text("UPDATE alert_outbox SET created_at = created_at - interval '1 day' WHERE digest"))
    work(engine, once=True)
    assert len(smtp.received) == 2
    recipients, mail = smtp.received[1]
    day = digest_day(dt.datetime.now(dt.timezone.utc), 7)
    assert recipients == [BELFORT_MAYOR]
    assert mail["Message-ID"] == f"<psq-digest-{mayors.belfort}-{day.isoformat()}@psq.example.fr>"
    assert mail["Subject"].startswith("[PSQ] Résumé du ") and "3 faits à Belfort" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert body.count("- Rodéos et deux-roues à Belfort le ") == 2 and body.count("- Incivilités à Belfort le ") == 1
    assert {r.status for r in outbox(engine)} == {"sent"}
    work(engine, once=True)
    assert len(smtp.received) == 2


def test_without_a_channel_the_alert_waits_with_the_reason(engine, mayors, smtp, tmp_path, monkeypatch):
    monkeypatch.delenv("PSQ_SMTP_HOST")
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(1))])
    with pytest.raises(delivery.DeliveryFailed):
        delivery.deliver_alert(engine, outbox(engine)[0].id)
    [row] = outbox(engine)
    assert row.status == "pending" and row.attempts == 1 and "PSQ_SMTP_HOST" in row.last_error


def test_the_command_line(engine, mayors, smtp, tmp_path, psq):
    result = psq("alerts", "subscribe", BELFORT_MAYOR, "--category", "rodeos", "--category", "incivilites", "--digest")
    assert result.exit_code == 0 and "incivilites (digest), rodeos (digest)" in result.output
    result = psq("alerts", "subscribe", BELFORT_MAYOR, "--category", "rodeos")
    assert result.output.strip() == f"{BELFORT_MAYOR} is alerted of: rodeos (immediate)."
    result = psq("alerts", "subscribe", "personne@psq.test", "--category", "rodeos")
    assert result.exit_code == 1
    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(1))])
    assert "pending, 0 attempt(s)" in psq("alerts", "list", "--pending").output
    smtp.refuse = 1
    assert psq("alerts", "work", "--once").output.strip() == "Done; 1 alert(s) still pending."
    assert "last error: 451 try later" in psq("alerts", "list").output
    time_passes(engine)
    assert psq("alerts", "work", "--once").output.strip() == "Done; 0 alert(s) still pending."
    assert psq("alerts", "list", "--pending").output.strip() == "No alert pending."
    assert len(smtp.received) == 1


def test_the_webhook_instead_of_mail_with_a_retry(engine, mayors, smtp, tmp_path, monkeypatch):
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts, answers = [], [503, 204]

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = answers.pop(0)
            if status < 300:
                posts.append((self.headers["Idempotency-Key"], json.loads(body)))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PSQ_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/alertes")
    try:
        import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(1))])
        work(engine, once=True)
        [row] = outbox(engine)
        assert row.status == "pending" and "503" in row.last_error
        time_passes(engine)
        work(engine, once=True)
    finally:
        server.shutdown()
    [(key, payload)] = posts
    assert key == payload["message_id"] == f"<psq-alert-{row.id}@psq.example.fr>"
    assert payload["to"] == BELFORT_MAYOR and payload["alerts"][0]["commune"] == "Belfort"
    assert payload["alerts"][0]["link"] == "https://psq.example.fr/commune/90010"
    assert "Dupont" not in json.dumps(payload)
    assert smtp.received == []  # instead of the mail, not besides
    assert [r.status for r in outbox(engine)] == ["sent"]


def test_the_worker_runs_until_interrupted(engine, mayors, smtp, tmp_path, database_url):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import_rows(engine, tmp_path, [("1", "rodeos", "90010", recent(1))])
    psq = Path(sys.executable).with_name("psq")  # the command of the venv
    worker = subprocess.Popen([str(psq), "alerts", "work"], env={
        **os.environ, "DATABASE_URL": database_url}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30  # at its start the worker runs the sweep of the minute begun
        while not smtp.received and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert [r for r, _ in smtp.received] == [[BELFORT_MAYOR]]
        assert [r.status for r in outbox(engine)] == ["sent"]
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
