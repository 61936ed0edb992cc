"""``psq serve`` is gunicorn: several worker processes answer; ``--dev`` is Werkzeug's reloader."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

PSQ = Path(sys.executable).with_name("psq")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(") ")[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def test_psq_serve_runs_gunicorn_workers_that_answer(database_url, engine):
    from geo.accounts.users import create_user

    create_user(engine, "admin@psq.test", "admin", "mot de passe de test")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    server = subprocess.Popen([str(PSQ), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion", timeout=5) as response:
                    assert response.status == 200
                    assert "Connexion" in response.read().decode()
                    assert response.headers["Server"] == "gunicorn"  # no version of gunicorn or Python
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "psq serve did not answer within 60 s"
                time.sleep(0.3)
        assert len(children(server.pid)) == 2  # two worker processes under the gunicorn arbiter
        # A session opened on one worker holds on the other: the workers share the signing key.
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        token = re.search(r'name="csrf-token" content="([^"]+)"', opener.open(base + "/connexion").read().decode())[1]
        form = urllib.parse.urlencode({"csrf_token": token, "email": "admin@psq.test",
                                       "password": "mot de passe de test"}).encode()
        assert opener.open(base + "/connexion", data=form).geturl() == base + "/"
        for _ in range(12):  # the arbiter hands connections to either worker
            answer = opener.open(base + "/")
            assert answer.status == 200 and answer.geturl() == base + "/", answer.geturl()
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert "with gunicorn, 2 workers x 2 threads" in output
    assert server.returncode == 0, output


def test_psq_help_lists_our_commands_only_and_loads_nothing_heavy():
    result = subprocess.run([str(PSQ), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for flask_option in ("--env-file", "--app", "--debug"):
        assert flask_option not in result.stdout
    for command in ("db", "demo", "export", "hotspots", "load", "serve", "user"):
        assert f"\n  {command} " in result.stdout
    # What makes --help slow is never imported to print it: the commands import geo/ when they run.
    loaded = subprocess.run([sys.executable, "-c", "import sys, web.cli; print(' '.join(sorted(sys.modules)))"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    heavy = {"geopandas", "scipy", "sqlalchemy", "psycopg", "flask", "folium", "numpy", "pandas"}
    assert heavy.isdisjoint(loaded), sorted(heavy.intersection(loaded))
