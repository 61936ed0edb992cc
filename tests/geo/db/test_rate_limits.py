"""Flask-Limiter's counters in PostgreSQL (geo/db/rate_limits.py): every worker process counts the same hits."""

from __future__ import annotations

import subprocess
import sys

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from geo.db.rate_limits import PostgresStorage
from tests.support import ROOT

HITS = """
import sys
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from geo.db import engine as database
from geo.db.rate_limits import PostgresStorage
engine = database.create_engine(sys.argv[1])
limiter = FixedWindowRateLimiter(PostgresStorage("psq+postgresql://", engine=lambda: engine))
print([limiter.hit(parse("3/minute"), "login", "10.0.0.9") for _ in range(2)])
"""


def test_hits_of_another_process_count(engine, database_url):
    """Two gunicorn workers are two processes: with Flask-Limiter's memory store each would allow the limit."""
    other = subprocess.run([sys.executable, "-c", HITS, database_url], capture_output=True, text=True, cwd=ROOT,
                           check=True)
    assert other.stdout.strip() == "[True, True]"
    limiter = FixedWindowRateLimiter(PostgresStorage("psq+postgresql://", engine=lambda: engine))
    assert [limiter.hit(parse("3/minute"), "login", "10.0.0.9") for _ in range(2)] == [True, False]
    assert limiter.hit(parse("3/minute"), "login", "10.0.0.10")  # another address, its own count
    stats = limiter.get_window_stats(parse("3/minute"), "login", "10.0.0.9")
    assert stats.remaining == 0 and stats.reset_time > 0


def test_a_window_that_ended_starts_again(engine):
    storage = PostgresStorage("psq+postgresql://", engine=lambda: engine)
    assert [storage.incr("k", expiry=60) for _ in range(3)] == [1, 2, 3]
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE rate_limit SET expires_at = now() - interval '1 second'")
    assert storage.get("k") == 0
    assert storage.incr("k", expiry=60) == 1
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()
