"""`python manage.py benchmark_engine`: the time and SQL query count of one escalation evaluation.

On a throw-away test database:
1. 100,000 open mirrored tickets with their clocks over 20 teams (one policy each, all triggers on),
   5,000 of them firing a trigger (mixed: at risk, breached, no update, reopened, unassigned,
   tagged); one evaluation, timed, with its queries counted;
2. a second evaluation, which must raise nothing;
3. one 31 minutes later, when the first level's time to accept has run out and some tickets were
   solved: it moves up and ends escalations;
4. the same over 10,000 tickets, to show that the query count does not grow with the tickets.
"""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalations.benchmarks import bench_teams_create, bench_tickets_create, database_name, test_database
from escalations.engine import evaluate_escalations
from escalations.models import (
    Escalation,
    Ticket,
    TicketClock,
    TicketStageChange,
)


class Command(BaseCommand):
    help = "Time one escalation evaluation over 100,000 open tickets, 5,000 firing, and count its queries."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=100_000)
        parser.add_argument("--firing", type=int, default=5_000)
        parser.add_argument("--small", type=int, default=10_000, help="tickets of the comparison run")
        parser.add_argument("--teams", type=int, default=20)

    def handle(self, *args, tickets, firing, small, teams, verbosity, **options):
        self.verbosity = verbosity  # 2: print each query with its time
        with test_database():
            now = timezone.now().replace(microsecond=0)
            self.stdout.write(f"database: {database_name()}")
            bench_teams_create(teams)
            bench_tickets_create(tickets, firing, now=now)
            self._measure(f"{tickets:,} tickets, {firing:,} firing, first evaluation", now)
            later = now + timedelta(seconds=60)
            self._measure(f"{tickets:,} tickets, second evaluation (nothing new)", later)
            solved = _solve_some(firing // 5)
            self._measure(f"{tickets:,} tickets, 31 minutes later, {solved:,} of the escalated solved",
                          now + timedelta(minutes=31))

            _clear()
            small_firing = firing * small // tickets
            bench_tickets_create(small, small_firing, now=now)
            self._measure(f"{small:,} tickets, {small_firing:,} firing, first evaluation", now)

    def _measure(self, label: str, now) -> None:
        with CaptureQueriesContext(connection) as queries:
            started = time.monotonic()
            result = evaluate_escalations(now=now)
            seconds = time.monotonic() - started
        if self.verbosity > 1:
            for query in queries.captured_queries:
                self.stdout.write(f"  {query['time']}s {query['sql'][:150]}")
        # The count includes BEGIN and COMMIT, which psycopg 3 reports as queries.
        self.stdout.write(f"{label}: {seconds:.2f}s, {len(queries)} SQL queries; "
                          f"{result.raised} raised, {result.moved_up} moved up, {result.ended} ended")


def _solve_some(count: int) -> int:
    escalated = Escalation.objects.order_by("ticket_id").values("ticket_id")[:count]
    return Ticket.objects.filter(odoo_id__in=escalated).update(stage_id=2)


def _clear() -> None:
    Escalation.objects.all().delete()
    TicketStageChange.objects.all().delete()
    Ticket.tags.through.objects.all().delete()
    TicketClock.objects.all().delete()
    Ticket.objects.all().delete()
