"""Locust users of bench/locust_run.py: chiefs, mayors and admins of the Belfort demo, and one client alone.

Each user logs in once on start through the login form (the CSRF token read from it),
with bench.load's accounts, then plays the visits of bench.locust_run.ROLES: lists of
requests, each checked against its expected status (redirects not followed, so a lost
session is an error) and grouped by name in the statistics. The sectors' bounds come
from the environment (``PSQ_LOCUST_VIEWS``, set by bench/locust_run.py), as does the host
(``--host``), and they are run by :func:`measure` in a process of their own (gevent patches
the process that imports locust): ``python -m bench.locustfile CONFIG OUT``, CONFIG a JSON
object (host, classes, users, spawn_rate, seconds, stop_timeout), OUT the JSON file of
every request (name, milliseconds, success, start in seconds from the run's) and of the errors. Not meant to be run by
hand: ``.venv/bin/python -m bench.locust_run``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time

import gevent
from locust import FastHttpUser, between, constant
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from locust.log import setup_logging

from bench.load import ACCOUNTS, CSRF_FIELD, PASSWORD, Request
from bench.locust_run import ROLES, VIEWS_ENV

VIEWS = {code: tuple(bounds) for code, bounds in json.loads(os.environ.get(VIEWS_ENV, "{}")).items()}
SEEDS = itertools.count(20261202)


def get(client: FastHttpSession, request: Request) -> None:
    """GET one request of a visit, a failure unless it answers its expected status."""
    with client.get(request.path, name=request.endpoint, allow_redirects=False, catch_response=True) as answer:
        if answer.status_code == request.expected:
            answer.success()
        else:
            error = getattr(answer, "error", None)
            answer.failure(f"status {answer.status_code}, expected {request.expected}"
                           + (f": {type(error).__name__}: {error}" if error else ""))


def log_in(client: FastHttpSession, role: str) -> None:
    """The login form (GET, for its CSRF token), then its POST: a redirect away from the login page."""
    with client.get("/connexion", name="login form", catch_response=True) as form:
        match = CSRF_FIELD.search(form.text or "") if form.status_code == 200 else None
        if match is None:
            form.failure(f"no login form (status {form.status_code})")
            return
    data = {"csrf_token": match.group(1) or match.group(2), "email": ACCOUNTS[role][0], "password": PASSWORD}
    with client.post("/connexion", name="login", data=data, allow_redirects=False, catch_response=True) as answer:
        if answer.status_code != 302 or "/connexion" in (answer.headers.get("Location") or ""):
            answer.failure(f"login of {role} refused (status {answer.status_code})")
        else:
            answer.success()


def play(role: str, visit):
    """A locust task: the visit ``visit`` with the user's session of ``role``."""
    def task(user: PsqUser) -> None:
        client = user.session(role)
        for request in visit(VIEWS, user.rng):
            get(client, request)
    task.__name__ = visit.__name__
    return task


def tasks_of(role: str) -> dict:
    return {play(role, visit): weight for visit, weight in ROLES[role][1].items()}


class PsqUser(FastHttpUser):
    """A user of one role, logged in once."""

    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.rng = random.Random(next(SEEDS))
        log_in(self.client, self.role)

    def session(self, role: str) -> FastHttpSession:
        return self.client


class Chief(PsqUser):
    role, weight, tasks = "chief", ROLES["chief"][0], tasks_of("chief")


class Mayor(PsqUser):
    role, weight, tasks = "mayor", ROLES["mayor"][0], tasks_of("mayor")


class Admin(PsqUser):
    role, weight, tasks = "admin", ROLES["admin"][0], tasks_of("admin")


def next_visit(user: Solo) -> None:
    """Solo's task: the next visit of its round."""
    next(user.round)(user)


class Solo(PsqUser):
    """One client alone: a session per role, the visits of all roles in a round (each as many times as its
    weight), no think time."""

    wait_time = constant(0)
    tasks = [next_visit]
    visits = [task for role in ROLES for task, weight in tasks_of(role).items() for _ in range(weight)]

    def on_start(self) -> None:
        self.rng = random.Random(next(SEEDS))
        self.round = itertools.cycle(self.visits)
        self.sessions = {role: self.client if k == 0 else
                         FastHttpSession(self.host, self.environment.events.request, user=self)
                         for k, role in enumerate(ROLES)}
        for role, client in self.sessions.items():
            log_in(client, role)

    def session(self, role: str) -> FastHttpSession:
        return self.sessions[role]


CLASSES = {cls.__name__: cls for cls in (Chief, Mayor, Admin, Solo)}


def measure(host: str, classes: list[str], users: int, spawn_rate: float, seconds: float,
            stop_timeout: float) -> dict:
    """One bounded run with locust as a library: ``users`` users of ``classes`` spawned at ``spawn_rate`` per
    second, stopped after ``seconds`` (each may end its visit within ``stop_timeout``); every request, the
    errors locust counted and the exceptions raised in the users."""
    env = Environment(user_classes=[CLASSES[name] for name in classes], host=host, stop_timeout=stop_timeout)
    runner = env.create_local_runner()
    requests = []
    epoch = time.time()

    def on_request(name, response_time, exception, start_time, **_) -> None:
        requests.append((name, response_time, exception is None, start_time - epoch))

    env.events.request.add_listener(on_request)
    started = time.perf_counter()
    runner.start(users, spawn_rate=spawn_rate)
    gevent.sleep(seconds)
    runner.quit()  # waits for the users to end their visits, at most stop_timeout
    wall = time.perf_counter() - started
    errors = [{"name": e.name, "error": str(e.error), "count": e.occurrences} for e in runner.stats.errors.values()]
    exceptions = [{"count": e["count"], "msg": e["msg"], "traceback": e["traceback"][-1500:]}
                  for e in runner.exceptions.values()]
    return {"wall_s": wall, "requests": requests, "errors": errors, "exceptions": exceptions}


if __name__ == "__main__":
    setup_logging("WARNING")
    config, out = json.loads(sys.argv[1]), sys.argv[2]
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(measure(**config), handle)
