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

from escalations.benchmarks import database_name, test_database
from escalations.engine import evaluate_escalations
from escalations.models import (
    Agent,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    Stage,
    Tag,
    Team,
    Ticket,
    TicketClock,
    TicketStageChange,
)
from escalations.sync import bulk

# Firing tickets per kind, out of every 10 firing ones.
MIX = ["at_risk", "at_risk", "breached", "breached", "no_update", "no_update", "reopened", "unassigned",
       "tagged", "tagged"]


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
            _setup_teams(teams)
            _make_tickets(tickets, firing, now=now)
            self._measure(f"{tickets:,} tickets, {firing:,} firing, first evaluation", now)
            later = now + timedelta(seconds=60)
            self._measure(f"{tickets:,} tickets, second evaluation (nothing new)", later)
            solved = _solve_some(firing // 5)
            self._measure(f"{tickets:,} tickets, 31 minutes later, {solved:,} of the escalated solved",
                          now + timedelta(minutes=31))

            _clear()
            small_firing = firing * small // tickets
            _make_tickets(small, small_firing, now=now)
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


def _setup_teams(count: int) -> None:
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


def _make_tickets(count: int, firing: int, *, now) -> None:
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
        "odoo_write_date": now - timedelta(hours=9 if kind == "no_update" else 1),
        "sla_deadline": None, "synced_at": now, "deleted_at": None,
    }


def _clock(odoo_id: int, *, kind, now) -> dict:
    deadline = now + {"at_risk": timedelta(minutes=30), "breached": timedelta(minutes=-30)}.get(
        kind, timedelta(hours=4))
    return {"ticket_id": odoo_id, "deadline": deadline, "source": TicketClock.Source.ODOO,
            "window_start": now - timedelta(hours=4), "at_risk_at": deadline - timedelta(hours=1),
            "paused": False, "computed_at": now}


def _solve_some(count: int) -> int:
    escalated = Escalation.objects.order_by("ticket_id").values("ticket_id")[:count]
    return Ticket.objects.filter(odoo_id__in=escalated).update(stage_id=2)


def _clear() -> None:
    Escalation.objects.all().delete()
    TicketStageChange.objects.all().delete()
    Ticket.tags.through.objects.all().delete()
    TicketClock.objects.all().delete()
    Ticket.objects.all().delete()
