"""What the benchmark commands share: a throw-away test database, the simulator in its own process
(as Odoo would be) with the app's settings pointed at it, and bulk-made teams and tickets."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.request import urlopen

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import setup_databases, teardown_databases

from escalations import bulk
from escalations.models import (
    Agent,
    EscalationLevel,
    EscalationPolicy,
    Stage,
    Tag,
    Team,
    Ticket,
    TicketClock,
    TicketStageChange,
)


@contextmanager
def test_database() -> Iterator[None]:
    """A fresh test database (test_<name> on PostgreSQL), dropped afterwards: the benchmarks never
    touch the app's own data."""
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old_config, verbosity=0)


@dataclass(frozen=True)
class Simulator:
    url: str
    pid: int


@contextmanager
def simulator_process(*, tickets: int, port: int, options: tuple[str, ...] = (),
                      log_name: str = "benchmark-simulator.log") -> Iterator[Simulator]:
    """The simulator seeded with `tickets`, serving on `port` (with `options`: --odoo-version, ...),
    once it answers, the app's settings pointed at it."""
    port_free(port)
    api_key = secrets.token_urlsafe(16)
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "odoo_simulator", "--port", str(port),
               "--tickets", str(tickets), f"--api-key={api_key}", *options]
    url = f"http://127.0.0.1:{port}"
    with background_process(command, env=dict(os.environ), log_name=log_name,
                            ready_url=f"{url}/__simulator__/status") as process:
        settings.ODOO_URL, settings.ODOO_API_KEY = url, api_key
        yield Simulator(url, process.pid)


def cpu_seconds(pid: int | None) -> float | None:
    """The CPU time (user and system) a process of this machine has used, from /proc (Linux); None
    where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def database_backend_pid() -> int | None:
    """The PostgreSQL server process serving this thread's connection (None on SQLite, whose work is
    done in ours)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def database_url() -> str:
    """The (test) database in use, as a URL for another process: a worker that must see its rows."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(*, concurrency: int, log_name: str, options: tuple[str, ...] = ("--loglevel", "WARNING"),
                  ) -> Iterator[subprocess.Popen]:
    """A real Celery worker (prefork, `concurrency` processes) on this database, this broker and the
    Odoo the settings point at; its queue is emptied first. Its log goes to VAR_DIR / `log_name`."""
    from dashboard.celery import app

    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(app.conf.task_default_queue)
    command = [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--pool", "prefork",
               "--concurrency", str(concurrency), "--without-mingle", "--without-gossip", *options]
    with background_process(command, env=process_env(), log_name=log_name) as worker:
        yield worker


def analyze_tables() -> None:
    """Give the planner the tables' statistics, as PostgreSQL's autovacuum does within a minute of a bulk
    load (and SQLite's `PRAGMA optimize` when asked): without them, PostgreSQL guesses a dozen rows where
    there are thousands and picks plans no running installation would."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure_page(out, client, label: str, path: str, params: dict, runs: int, **headers) -> None:
    """Time `runs` GETs of a page through Django's whole stack after three that warm the caches
    (templates, query plans), and write the median, the p95 and the SQL queries of one request."""
    for _ in range(3):
        client.get(path, params, **headers)
    queries = []

    def count(execute, sql, *rest):
        queries.append(sql)
        return execute(sql, *rest)

    # Not CaptureQueriesContext: the request_started signal resets the connection's query log.
    with connection.execute_wrapper(count):
        response = client.get(path, params, **headers)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path, params, **headers)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    out.write(f"{label}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms "
              f"({runs} runs, HTTP {response.status_code}, {len(response.content):,} bytes, "
              f"{len(queries)} SQL queries)")


def database_name() -> str:
    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


# -- other processes -------------------------------------------------------------------------------------


def port_free(port: int) -> None:
    """Refuse a port something already listens on: the benchmark would time whatever answers there (a
    demo's simulator, say)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise CommandError(f"Port {port} is already in use; choose another with --port.")


def process_env(**extra: str) -> dict:
    """The environment of another process of the app: this (test) database, this broker, this Odoo."""
    return {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "ODOO_URL": settings.ODOO_URL, "ODOO_DB": settings.ODOO_DB, "ODOO_USER": settings.ODOO_USER,
            "ODOO_API_KEY": settings.ODOO_API_KEY, "DASHBOARD_BASE_URL": settings.DASHBOARD_BASE_URL, **extra}


@contextmanager
def background_process(command: list[str], *, env: dict, log_name: str,
                       ready_url: str | None = None) -> Iterator[subprocess.Popen]:
    """`command` running, its output in VAR_DIR / `log_name`; yielded once `ready_url` answers, if given.
    In a process group of its own, stopped as a whole: Gunicorn's and Celery's children go with it."""
    log_path = settings.VAR_DIR / log_name
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            if ready_url:
                _wait_until_up(ready_url, process, log_path)
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen, log_path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"{url} did not start; see {log_path}")
        try:
            with urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"{url} did not answer within {timeout:.0f} s; see {log_path}")


# Firing tickets per kind, out of every 10 firing ones.
MIX = ["at_risk", "at_risk", "breached", "breached", "no_update", "no_update", "reopened", "unassigned",
       "tagged", "tagged"]


def bench_teams_create(count: int) -> None:
    Stage.objects.bulk_create([Stage(odoo_id=1, name="In progress"),
                               Stage(odoo_id=2, name="Solved", is_closed=True)])
    Agent.objects.create(odoo_id=1, name="Agent")
    Tag.objects.bulk_create([Tag(odoo_id=1, name="Escalate"), Tag(odoo_id=2, name="Billing")])
    for number in range(1, count + 1):
        team = Team.objects.create(odoo_id=number, name=f"Team {number}", use_sla=True)
        policy = EscalationPolicy.objects.create(
            team=team, at_risk_within=timedelta(hours=1), no_update_after=timedelta(hours=8),
            unassigned_priority="3", unassigned_after=timedelta(minutes=30),
        )
        EscalationLevel.objects.create(policy=policy, number=1, name="Team lead",
                                       accept_within=timedelta(minutes=30))
        EscalationLevel.objects.create(policy=policy, number=2, name="Senior support")


def bench_tickets_create(count: int, firing: int, *, now) -> None:
    """Bulk rows (COPY on PostgreSQL). Ticket i fires when i < firing, its kind by MIX."""
    teams = Team.objects.count()
    tickets, clocks, tags, changes = [], [], [], []
    for i in range(count):
        kind = MIX[i % len(MIX)] if i < firing else None
        odoo_id = 1_000_000 + i
        tickets.append(_ticket(odoo_id, team=1 + i % teams, kind=kind, now=now))
        clocks.append(_clock(odoo_id, kind=kind, now=now))
        if kind == "tagged":
            tags.append({"ticket_id": odoo_id, "tag_id": 1})
        elif i % 7 == 0:
            tags.append({"ticket_id": odoo_id, "tag_id": 2})
        if kind == "reopened":
            changes.append({"ticket_id": odoo_id, "stage_id": 1, "from_stage_id": 2,
                            "at": now - timedelta(minutes=10)})
    bulk.insert(Ticket, tickets)
    bulk.insert(TicketClock, clocks)
    bulk.insert(Ticket.tags.through, tags)
    bulk.insert(TicketStageChange, changes)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would have done on a live database


def _ticket(odoo_id: int, *, team: int, kind, now) -> dict:
    return {
        "odoo_id": odoo_id, "reference": f"T{odoo_id}", "name": f"Ticket {odoo_id}", "team_id": team,
        "stage_id": 1, "assignee_id": None if kind == "unassigned" else 1,
        "priority": "3" if kind == "unassigned" else "1", "customer_id": None, "customer_name": "",
        "customer_email": "", "active": True, "created_at": now - timedelta(hours=2), "assigned_at": None,
        "closed_at": None, "stage_changed_at": None,
        "odoo_write_date": now - timedelta(hours=9 if kind == "no_update" else 1), "odoo_write_uid": 1,
        "sla_deadline": None, "synced_at": now, "odoo_digest": "", "deleted_at": None,
        "invisible_since": None,
    }


def _clock(odoo_id: int, *, kind, now) -> dict:
    deadline = now + {"at_risk": timedelta(minutes=30), "breached": timedelta(minutes=-30)}.get(
        kind, timedelta(hours=4))
    return {"ticket_id": odoo_id, "deadline": deadline, "source": TicketClock.Source.ODOO,
            "window_start": now - timedelta(hours=4), "at_risk_at": deadline - timedelta(hours=1),
            "paused": False, "computed_at": now}
