"""`python manage.py benchmark_push`: how soon an edit in Odoo shows in the queue's JSON feed, with
Odoo's webhooks (escalations.push) and with the periodic sync alone.

Everything runs as in production, each part in its own process, on a throw-away test database:
the simulator (Odoo 17 by default, which posts before its transaction commits), the web app under
Gunicorn (2 processes), and a Celery worker (prefork, 2 processes) with beat, which syncs every
SYNC_INTERVAL_SECONDS as configured. Every open ticket is escalated, so that each shows in the feed.

1. webhooks: the rule installed with `odoo_webhooks install`; `--edits` tickets renamed in Odoo by its
   administrator, one every `--every` seconds; for each, the time from the write's start until the
   feed (GET /api/queue/ with a display token, polled every 50 ms) shows its new title;
2. polling alone: the rule removed, as many other tickets renamed, spread over two sync periods (one
   every 2 x SYNC_INTERVAL_SECONDS / edits, unless --every is slower), so that when each edit lands in
   its sync period is even, as it is in real life, not bunched before the first sync.
Median, p95 and the slowest, with the machine's load average before and after each run (the figures
move with whatever else the machine runs).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from escalations.benchmarks import (
    background_process,
    celery_worker,
    database_name,
    port_free,
    process_env,
    simulator_process,
    test_database,
)
from escalations.engine import evaluate_escalations
from escalations.models import Escalation, EscalationLevel, EscalationPolicy, Team
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.sync.run import sync_odoo
from escalations.walls import wall_display_create

POLL_SECONDS = 0.05


class Command(BaseCommand):
    help = ("Time an edit in Odoo until the JSON feed shows it (p50, p95), with webhooks and with polling "
            "alone.")

    def add_arguments(self, parser):
        parser.add_argument("--edits", type=int, default=100)
        parser.add_argument("--every", type=float, default=0.2, help="seconds between two edits")
        parser.add_argument("--polling-edits", type=int, default=None,
                            help="edits for the polling run (default: as many as --edits; 0 skips it)")
        parser.add_argument("--tickets", type=int, default=600, help="tickets seeded (about half open)")
        parser.add_argument("--odoo-version", type=int, choices=[17, 18, 19], default=17)
        parser.add_argument("--port", type=int, default=8189, help="the simulator's port")
        parser.add_argument("--web-port", type=int, default=8190, help="the web app's port")

    def handle(self, *args, edits, every, polling_edits, tickets, odoo_version, port, web_port, **options):
        polling_edits = edits if polling_edits is None else polling_edits
        admin_key = secrets.token_urlsafe(16)
        with test_database(), _simulator(port, tickets, odoo_version, admin_key):
            sync_odoo(full=True)
            targets = _escalate_open_tickets()
            if len(targets) < edits + polling_edits:
                raise CommandError(f"Only {len(targets)} tickets in the queue; seed more with --tickets.")
            _, token = wall_display_create(name="Benchmark wall")
            settings.DASHBOARD_BASE_URL = f"http://127.0.0.1:{web_port}"
            self.stdout.write(
                f"Odoo {odoo_version} simulator, {len(targets)} tickets in the queue; database: "
                f"{database_name()}, broker: {settings.CELERY_BROKER_URL.split(':')[0]}; web: Gunicorn, 2 "
                f"processes; worker: Celery prefork, 2 processes, with beat (sync every "
                f"{settings.SYNC_INTERVAL_SECONDS} s); {os.cpu_count()} CPUs")
            editor = OdooClient.connect(OdooConfig(url=settings.ODOO_URL, db=settings.ODOO_DB, user="admin",
                                                   api_key=admin_key, timeout=10))
            feed = Feed(settings.DASHBOARD_BASE_URL, token)
            with _web(web_port), _worker():
                call_command("odoo_webhooks", "install", admin_key=admin_key, stdout=StringIO())
                self._run("with webhooks", editor, feed, targets[:edits], every, wait=30)
                if polling_edits:
                    call_command("odoo_webhooks", "remove", admin_key=admin_key, stdout=StringIO())
                    spread = max(every, 2 * settings.SYNC_INTERVAL_SECONDS / polling_edits)
                    wait = 2 * settings.SYNC_INTERVAL_SECONDS + 30
                    self._run("polling alone", editor, feed, targets[edits:edits + polling_edits], spread,
                              wait=wait)

    def _run(self, label: str, editor: OdooClient, feed: Feed, targets: list[int], every: float, *,
             wait: float) -> None:
        load = os.getloadavg()[0]
        stamp = secrets.token_hex(3)
        titles = {odoo_id: f"Benchmark {stamp} #{i}" for i, odoo_id in enumerate(targets)}
        watcher = feed.watch(titles)
        started = time.monotonic()
        for i, odoo_id in enumerate(targets):
            time.sleep(max(0.0, started + i * every - time.monotonic()))
            watcher.edited(odoo_id)
            editor.write("helpdesk.ticket", [odoo_id], {"name": titles[odoo_id]})
        seconds, missing = watcher.finish(timeout=wait)
        self._report(label, seconds, missing, len(targets), every, load)

    def _report(self, label, seconds, missing, count, every, load) -> None:
        if not seconds:
            self.stdout.write(f"{label}: none of {count} edits reached the feed")
            return
        seconds.sort()
        p95 = seconds[max(0, round(len(seconds) * 0.95) - 1)]
        self.stdout.write(
            f"{label}: {count} edits, one every {every * 1000:.0f} ms; edit -> JSON feed: median "
            f"{statistics.median(seconds):.2f} s, p95 {p95:.2f} s, slowest {seconds[-1]:.2f} s"
            + (f"; {missing} never seen" if missing else "")
            + f" (load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)")


class Feed:
    """The JSON feed as a wallboard tool reads it, with a display token."""

    def __init__(self, base_url: str, token: str):
        self.url = f"{base_url}/api/queue/?limit=500"
        self.token = token

    def titles(self) -> dict[int, str]:
        request = urllib.request.Request(self.url, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return {row["ticket_id"]: row["title"] for row in json.load(response)["rows"]}

    def watch(self, titles: dict[int, str]) -> Watcher:
        return Watcher(self, titles)


class Watcher:
    """Polls the feed in a thread of its own and notes when each edited ticket shows its new title."""

    def __init__(self, feed: Feed, titles: dict[int, str]):
        self.feed, self.titles = feed, titles
        self.started: dict[int, float] = {}
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def edited(self, odoo_id: int) -> None:
        with self._lock:
            self.started[odoo_id] = time.monotonic()

    def finish(self, *, timeout: float) -> tuple[list[float], int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.seen) < len(self.titles):
            time.sleep(0.1)
        self._stop.set()
        self._thread.join(10)
        return [self.seen[i] - self.started[i] for i in self.seen], len(self.titles) - len(self.seen)

    def _poll(self) -> None:
        while not self._stop.is_set():
            polled = time.monotonic()
            shown = self.feed.titles()
            answered = time.monotonic()  # when a wallboard would have it (at worst the poll's length late)
            with self._lock:
                for odoo_id in self.started:
                    if odoo_id not in self.seen and shown.get(odoo_id) == self.titles[odoo_id]:
                        self.seen[odoo_id] = answered
            self._stop.wait(max(0.0, POLL_SECONDS - (time.monotonic() - polled)))


def _escalate_open_tickets() -> list[int]:
    """Every open ticket escalated (not updated for a minute), so that each is a row of the feed."""
    for team in Team.objects.filter(escalation_policy__isnull=True):
        policy = EscalationPolicy.objects.create(team=team, no_update_after=timedelta(minutes=1))
        EscalationLevel.objects.create(policy=policy, number=1, name="Team lead")
    evaluate_escalations()
    return sorted(Escalation.objects.filter(ended_at__isnull=True).values_list("ticket_id", flat=True))


# -- the processes ---------------------------------------------------------------------------------------


@contextmanager
def _simulator(port: int, tickets: int, version: int, admin_key: str):
    options = ("--odoo-version", str(version), f"--admin-api-key={admin_key}")
    with simulator_process(tickets=tickets, port=port, options=options,
                           log_name="benchmark-push-simulator.log") as simulator:
        yield simulator.url


@contextmanager
def _web(port: int):
    port_free(port)
    command = [sys.executable, "-m", "gunicorn", "dashboard.wsgi", "-c", "gunicorn.conf.py",
               "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    with background_process(command, env=process_env(), log_name="benchmark-push-web.log",
                            ready_url=f"http://127.0.0.1:{port}/healthz") as process:
        yield process


@contextmanager
def _worker():
    schedule = settings.VAR_DIR / "benchmark-push-beat-schedule"
    schedule.unlink(missing_ok=True)
    options = ("--loglevel", "INFO", "--beat", "--schedule", str(schedule))
    with celery_worker(concurrency=2, log_name="benchmark-push-worker.log", options=options) as process:
        _wait_for_log(process, "benchmark-push-worker.log", " ready.")  # Celery's line once it consumes
        yield process


def _wait_for_log(process, log_name: str, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if text in (settings.VAR_DIR / log_name).read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise CommandError(f"The Celery worker did not start; see {settings.VAR_DIR / log_name}")
