"""The alert worker (``psq alerts work``): a procrastinate app whose jobs deliver the outbox, with retries.

procrastinate keeps its queue in PostgreSQL (tables ``procrastinate_*``, migration
0014), next to the outbox. Three tasks:

- ``deliver_alert(alert_id)``: one immediate alert (geo.alerts.delivery); retried with
  an exponential backoff (30 s, 1 min, 2 min... at most an hour apart) and never given
  up, so that an alert waits out an SMTP outage of any length;
- ``send_digest(user_id, day)``: a mayor's daily digest, retried the same way;
- ``sweep`` (every minute, periodic): defers a delivery for every pending immediate
  row that has no job waiting or running (``queueing_lock`` ``alert-<id>``: one job
  at a time per row), the digests once the day's digest hour has passed
  (``digest-<user>``), and puts back in the queue the jobs of a worker that died.

The outbox row, not the job, says an alert is due: a job lost (a queue emptied, a
worker killed) loses nothing, the next sweep finds the row again; a job run twice sends
nothing twice (the delivery locks the row and reads its status again).

Examples
--------
>>> conninfo("postgresql+psycopg://psq:s3cret@127.0.0.1:5433/psq")
'host=127.0.0.1 port=5433 user=psq password=s3cret dbname=psq'
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import procrastinate
import sqlalchemy as sa
from procrastinate.exceptions import AlreadyEnqueued
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import Engine, make_url

from geo.alerts import delivery
from geo.settings import LOCAL_TZ, alert_settings

logger = logging.getLogger(__name__)

#: The placeholder connector of the module's app: :func:`work` puts the real database's in for its run.
app = procrastinate.App(connector=procrastinate.PsycopgConnector())


@dataclasses.dataclass(frozen=True)
class Backoff(procrastinate.BaseRetryStrategy):
    """Retry after ``first_s`` seconds, then twice as long each time, at most ``cap_s`` apart; never give up.

    procrastinate's ``RetryStrategy(exponential_wait=...)`` has no ceiling (its 20th wait would be days):
    this is the same backoff with one.

    >>> [Backoff().wait(n) for n in range(9)]
    [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    """

    first_s: int = 30
    cap_s: int = 3600

    def wait(self, attempts: int) -> int:
        return min(self.cap_s, self.first_s * 2 ** min(attempts, 20))

    def get_retry_decision(self, *, exception: BaseException, job) -> procrastinate.RetryDecision:
        return procrastinate.RetryDecision(retry_in={"seconds": self.wait(job.attempts)})


RETRY = Backoff()
_state: dict = {"engine": None}


def _engine() -> Engine:
    if _state["engine"] is None:
        from geo.db.engine import create_engine  # the command line's database, when no work() set one

        _state["engine"] = create_engine()
    return _state["engine"]


@app.task(name="psq.alerts.deliver", retry=RETRY)
def deliver_alert(alert_id: int) -> bool:
    """Deliver the immediate alert ``alert_id`` (nothing if it was sent already)."""
    return delivery.deliver_alert(_engine(), alert_id)


@app.task(name="psq.alerts.digest", retry=RETRY)
def send_digest(user_id: int, day: str) -> int:
    """Send ``user_id``'s digest of ``day`` (ISO date)."""
    return delivery.send_digest(_engine(), user_id, dt.date.fromisoformat(day))


@app.periodic(cron="* * * * *", periodic_id="sweep")
@app.task(name="psq.alerts.sweep", queueing_lock="alerts-sweep")
async def sweep(timestamp: int) -> int:
    """Every minute: defer what the outbox says is due (see the module's docstring); returns how many jobs."""
    return await sweep_now()


# -- what is due -------------------------------------------------------------------------------------
_DUE_ALERTS = sa.text(f"""
    SELECT a.id FROM alert_outbox a JOIN app_user u ON u.id = a.user_id
    WHERE a.status = 'pending' AND NOT a.digest AND {delivery.RECIPIENT_OK}
      AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j
                      WHERE j.queueing_lock = 'alert-' || a.id AND j.status IN ('todo', 'doing'))
    ORDER BY a.id""")
_DUE_DIGESTS = sa.text(f"""
    SELECT DISTINCT a.user_id FROM alert_outbox a JOIN app_user u ON u.id = a.user_id
    WHERE a.status = 'pending' AND a.digest AND a.created_at < :cutoff AND {delivery.RECIPIENT_OK}
      AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j
                      WHERE j.queueing_lock = 'digest-' || a.user_id AND j.status IN ('todo', 'doing'))
    ORDER BY a.user_id""")


def digest_day(now: dt.datetime, hour: int) -> dt.date:
    """The day of the last digest due at ``now``: today once its digest hour has passed, else yesterday.

    >>> paris = ZoneInfo("Europe/Paris")
    >>> digest_day(dt.datetime(2026, 12, 3, 6, 59, tzinfo=paris), 7)
    datetime.date(2026, 12, 2)
    >>> digest_day(dt.datetime(2026, 12, 3, 7, tzinfo=paris), 7)
    datetime.date(2026, 12, 3)
    """
    local = now.astimezone(ZoneInfo(LOCAL_TZ))
    return local.date() if local.hour >= hour else local.date() - dt.timedelta(days=1)


def due(engine: Engine, now: dt.datetime | None = None) -> tuple[list[int], list[int], dt.date]:
    """(immediate alert ids, users with a digest, the digest's day) due at ``now`` and with no job yet."""
    day = digest_day(now or dt.datetime.now(dt.timezone.utc), alert_settings().digest_hour)
    cutoff = delivery.digest_cutoff(day, alert_settings().digest_hour)
    with engine.connect() as conn:
        alerts = list(conn.execute(_DUE_ALERTS).scalars())
        users = list(conn.execute(_DUE_DIGESTS, {"cutoff": cutoff}).scalars())
    return alerts, users, day


async def sweep_now() -> int:
    """Defer a job for each row due, and retry the jobs of dead workers; returns how many jobs were deferred."""
    alerts, users, day = await asyncio.to_thread(due, _engine())
    deferred = 0
    for alert_id in alerts:
        deferred += await _defer(deliver_alert, f"alert-{alert_id}", alert_id=alert_id)
    for user_id in users:
        deferred += await _defer(send_digest, f"digest-{user_id}", user_id=user_id, day=day.isoformat())
    for job in await app.job_manager.get_stalled_jobs():
        logger.warning("Job %s of a worker that stopped answering: queued again.", job.id)
        await app.job_manager.retry_job(job)
    return deferred


async def _defer(task, lock: str, **kwargs) -> int:
    try:
        await task.configure(queueing_lock=lock).defer_async(**kwargs)
    except AlreadyEnqueued:  # deferred meanwhile by another sweep: one job per row is enough
        return 0
    return 1


# -- running ---------------------------------------------------------------------------------------------
def conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy URL (what psycopg's pool takes)."""
    u = make_url(url)
    parts = {"host": u.host, "port": u.port, "user": u.username, "password": u.password, "dbname": u.database,
             **{k: v for k, v in u.query.items() if isinstance(v, str)}}
    return make_conninfo(**{k: v for k, v in parts.items() if v is not None})


def work(engine: Engine, *, once: bool = False) -> None:
    """Run the worker on ``engine``'s database: until interrupted (Ctrl-C, SIGTERM), or with ``once`` just long
    enough to sweep and run every job due now (what a test or a cron line wants)."""
    _state["engine"] = engine
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(engine.url.render_as_string(hide_password=False)),
                                               min_size=1, max_size=4)
    options = {"delete_jobs": "successful", "name": "psq-alerts"}

    async def run() -> None:
        async with app.open_async():
            if once:
                await sweep_now()
                await app.run_worker_async(wait=False, install_signal_handlers=False, listen_notify=False, **options)
            else:
                await app.run_worker_async(**options)

    with app.replace_connector(connector):
        asyncio.run(run())


__all__ = ["RETRY", "Backoff", "app", "conninfo", "deliver_alert", "digest_day", "due", "send_digest", "sweep",
           "sweep_now", "work"]
