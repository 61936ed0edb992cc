"""``psq serve``: the app under gunicorn, a production WSGI server (DESIGN.md section 3).

Worker processes from the number of cores (numpy and PostGIS work holds the GIL or a
connection, so processes, not threads, give the throughput), a few threads inside each
for requests that wait on the database. The app is created in each worker, after the
fork, so that no database connection is shared between processes. Nothing a worker must
share lives in its memory (see DESIGN.md section 3).
"""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication
from werkzeug.serving import WSGIRequestHandler

#: Threads per worker: requests mostly wait on PostgreSQL.
THREADS = 4
#: Seconds an idle connection is kept open for its next request. None by default: a kept
#: connection stays with the worker that accepted it, so a few busy clients pinned to one
#: worker wait on its GIL while the others idle (bench/RESULTS.md: with 8 clients, 1.25 x the
#: throughput of one client with keep-alive, 1.56 x without). Closing after each response lets
#: every request go to whichever worker accepts first; on loopback or a LAN a new connection
#: costs a fraction of a millisecond.
KEEP_ALIVE = 0


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler (``psq serve --dev``, the browser tests) without its ``Server:`` versions
    (``Werkzeug/3.1.9 Python/3.11.7`` tells an attacker which flaws to try); gunicorn says ``gunicorn`` only."""

    def version_string(self) -> str:
        return "psq"


def default_workers() -> int:
    """One worker per core, plus one, at least two.

    >>> default_workers() >= 2
    True
    """
    return max(2, (os.cpu_count() or 1) + 1)


class PsqServer(BaseApplication):
    """gunicorn running ``web.create_app()`` with our options."""

    def __init__(self, host: str, port: int, workers: int | None = None, threads: int = THREADS,
                 keep_alive: int = KEEP_ALIVE, timeout: int = 120, access_log: str | None = None):
        self.options = {
            "bind": f"{host}:{port}", "workers": workers or default_workers(), "threads": threads,
            "keepalive": keep_alive, "worker_class": "gthread", "timeout": timeout, "graceful_timeout": 10,
            "accesslog": access_log,
            "errorlog": "-", "loglevel": "warning", "preload_app": False,
        }
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from web import create_app

        return create_app()
