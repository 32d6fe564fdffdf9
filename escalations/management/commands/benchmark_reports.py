"""`python manage.py benchmark_reports`: how long the Reports page takes over a year of history.

On a throw-away test database: 100,000 tickets over 365 days (their SLA records and stage paths),
20,000 escalations with their events, 60,000 write-backs and the automation ledger
(escalations.reports.sample_history, in bulk). Then the rollup's first, full pass, and an incremental
one after 200 tickets changed; then the page through Django's full stack (middleware, session, view,
template) with the test client, as a logged-in supervisor: the default 8 weeks, 52 weeks, one team, a
section's CSV and the tickets behind a bar. Median and p95 over the runs, and the SQL queries of one
request.
"""

import time
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalations.benchmarks import database_name, measure_page, test_database
from escalations.models import ReportFact, Team, Ticket
from escalations.reports.rollup import report_rollup
from escalations.reports.sample_history import history_create


class Command(BaseCommand):
    help = "Time the Reports page over a year of history (median and p95)."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=100_000)
        parser.add_argument("--escalations", type=int, default=20_000)
        parser.add_argument("--actions", type=int, default=60_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--runs", type=int, default=30)

    def handle(self, *args, tickets, escalations, actions, days, runs, **options):
        with test_database():
            now = timezone.now().replace(microsecond=0)
            started = time.perf_counter()
            made = history_create(tickets=tickets, escalations=escalations, actions=actions, days=days,
                                  now=now)
            self.stdout.write(
                f"database: {database_name()}; {made.tickets:,} tickets over {days} days, "
                f"{made.escalations:,} escalations ({made.events:,} events), {made.actions:,} write-backs, "
                f"{made.automated:,} automated changes, made in {time.perf_counter() - started:.1f} s")
            self._rollup(now)
            client = Client(SERVER_NAME="localhost")
            client.force_login(User.objects.create_superuser("bench", "bench@example.com", None))
            page = reverse("reports")
            self._measure(client, "reports page, 8 weeks, all teams", page, {}, runs)
            self._measure(client, "reports page, 52 weeks, all teams", page, {"weeks": 52}, runs)
            team = Team.objects.order_by("pk").values_list("pk", flat=True).first()
            self._measure(client, "reports page, 8 weeks, one team", page, {"team": team}, runs)
            self._measure(client, "CSV of the escalations section, 8 weeks", reverse(
                "report-csv", args=["escalations"]), {}, runs)
            week = (timezone.localdate() - timedelta(days=7)).isoformat()
            self._measure(client, "tickets behind a bar (breached SLAs, one week)", reverse("report-tickets"),
                          {"figure": "sla", "key": "breached", "first": week,
                           "last": timezone.localdate().isoformat()}, runs)

    def _rollup(self, now) -> None:
        started = time.perf_counter()
        report_rollup(now=now, full=True)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum would have done after the first pass
        self.stdout.write(f"rollup, first (full) pass: {time.perf_counter() - started:.2f} s, "
                          f"{ReportFact.objects.count():,} rows")
        changed = list(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:200])
        Ticket.objects.filter(pk__in=changed).update(synced_at=now + timedelta(minutes=1))
        queries = []
        started = time.perf_counter()
        def count(execute, sql, *rest):
            queries.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            result = report_rollup(now=now + timedelta(minutes=5))
        self.stdout.write(f"rollup, a pass after 200 tickets changed: {time.perf_counter() - started:.2f} s, "
                          f"{result.tickets} tickets rebuilt, {len(queries)} SQL queries")

    def _measure(self, client: Client, label: str, path: str, params: dict, runs: int) -> None:
        measure_page(self.stdout, client, label, path, params, runs)
