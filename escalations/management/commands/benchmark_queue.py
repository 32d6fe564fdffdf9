"""`python manage.py benchmark_queue`: how long the supervisor's queue page takes with 5,000 open escalations.

On a throw-away test database: 20 teams with a two-level policy each, 20,000 open tickets of which
5,000 fire a trigger; one evaluation raises their escalations; a few hundred write-backs wait in the
outbox. Then each page is requested through Django's full stack (middleware, session, view, template)
with the test client, as a logged-in supervisor: the page, its polling partial when something changed,
the same poll when nothing changed (204: answered from the change stamp, before the queue is read),
a filtered view, the second tab; then the wall display and the JSON feed with a display token. Median
and p95 over the runs, and the SQL queries of one request.
"""

import statistics
import time

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalations.benchmarks import (
    analyze_tables,
    bench_teams_create,
    bench_tickets_create,
    database_name,
    measure_page,
    test_database,
)
from escalations.engine import evaluate_escalations
from escalations.models import Escalation, OdooAction, SyncState, WallDisplay


class Command(BaseCommand):
    help = "Time the escalation queue page with 5,000 open escalations (median and p95)."

    def add_arguments(self, parser):
        parser.add_argument("--escalations", type=int, default=5_000)
        parser.add_argument("--tickets", type=int, default=20_000)
        parser.add_argument("--runs", type=int, default=50)

    def handle(self, *args, escalations, tickets, runs, **options):
        with test_database():
            now = timezone.now().replace(microsecond=0)
            bench_teams_create(20)
            bench_tickets_create(tickets, escalations, now=now)
            evaluate_escalations(now=now)
            _pending_actions(300, now=now)
            analyze_tables()
            open_count = Escalation.objects.filter(ended_at__isnull=True).count()
            self.stdout.write(f"database: {database_name()}; {open_count:,} open escalations, "
                              f"{tickets:,} open tickets, {OdooAction.objects.count()} pending write-backs")
            client = Client(SERVER_NAME="localhost")
            client.force_login(User.objects.create_superuser("bench", "bench@example.com", None))
            queue = reverse("queue")
            SyncState.load()  # as after the first sync: the stamp reads its row
            self._measure(client, "queue page", queue, {}, runs)
            self._measure(client, "polling partial, something changed", queue, {"since": "old"}, runs,
                          htmx=True)
            # The stamp the page carries now: the minute is part of it, so one read seconds earlier, before
            # the runs above, could belong to the minute before.
            page = client.get(queue)
            since = page.content.decode().split("since=")[1].split('"')[0].split("&")[0]
            self._measure(client, "polling partial, nothing changed (204)", queue, {"since": since}, runs,
                          htmx=True)
            self._measure(client, "filtered: one team, breached", queue, {"team": 3, "sla": "breached"}, runs)
            self._measure(client, "second tab: at risk, not escalated", queue, {"tab": "at_risk"}, runs)
            display = WallDisplay(name="Benchmark wall")
            token = display.new_token()
            display.save()
            wall = Client(SERVER_NAME="localhost")  # no session: a screen in the support room
            wall.get(reverse("wall", args=[token]))  # its token traded for the display's pass (a cookie)
            self._measure(wall, "wall display, all teams", reverse("wall-screen"), {}, runs)
            self._measure(wall, "JSON feed, 100 rows", reverse("api-queue"), {"token": token}, runs)
            _unchanged_polls(self.stdout, wall, token, runs)

    def _measure(self, client: Client, label: str, path: str, params: dict, runs: int, htmx=False) -> None:
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        measure_page(self.stdout, client, label, path, params, runs, **headers)


def _pending_actions(count: int, *, now) -> None:
    """Write-backs still on their way, so that the rows show them (bulk: no task is enqueued)."""
    escalations = Escalation.objects.filter(ended_at__isnull=True).order_by("ticket__clock__deadline")[:count]
    OdooAction.objects.bulk_create([
        OdooAction(ticket_id=e.ticket_id, escalation=e, kind=OdooAction.Kind.ACCEPT, created_at=now,
                   state=OdooAction.State.AWAITING_RETRY, last_error="Odoo could not be reached: timeout",
                   payload={"values": {}})
        for e in escalations
    ])


# -- the wall's and the feed's unchanged polls: answered from the change stamp ---------------------------


def _unchanged_polls(out, client: Client, token: str, runs: int) -> None:
    """What fifty screens polling cost: the wall's poll with the version on screen (204) and the feed's
    with its ETag (304), each from the display (its pass, or the feed's token) and the queue's change
    stamp, without reading the queue."""
    wall = reverse("wall-screen")  # with the pass the client got for the token
    version = client.get(wall).content.decode().split('data-version="', 1)[1].split('"', 1)[0]
    etag = client.get(reverse("api-queue"), {"token": token})["ETag"]
    _time_poll(out, client, "wall display, unchanged poll (204)", wall, {"v": version},
               {"HTTP_HX_REQUEST": "true"}, runs)
    _time_poll(out, client, "JSON feed, unchanged (304)", reverse("api-queue"), {"token": token},
               {"HTTP_IF_NONE_MATCH": etag}, runs)


def _time_poll(out, client: Client, label: str, path: str, params: dict, headers: dict, runs: int) -> None:
    for _ in range(3):
        client.get(path, params, **headers)
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        response = client.get(path, params, **headers)
    times, statuses = [], set()
    for _ in range(runs):
        started = time.perf_counter()
        statuses.add(client.get(path, params, **headers).status_code)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    # A new minute moves the stamp: one run in a few may re-read the queue (a 200 among the 204s).
    out.write(f"{label}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms ({runs} runs, "
              f"HTTP {response.status_code}, statuses seen {sorted(statuses)}, {len(queries)} SQL queries)")
