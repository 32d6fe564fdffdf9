"""`python manage.py benchmark_automation`: one automation pass over 100,000 open tickets with 20 rules.

On a throw-away test database: 20 teams of 5 agents each, 100,000 open tickets, and 20 rules of every
kind (assign new tickets by round robin and by load, set priority from title keywords and from the
customer on a schedule, add tags, move, remind idle assignees, hand over to escalation), all on. It
times the planning of every rule (what a preview does for one) and a whole pass (planning, then the
writes up to the per-pass cap), with their SQL queries, then the same over 10,000 tickets: the query
count does not grow with the tickets.
"""

import os
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalations.automation.run import automation_run, enabled_rules, plan_pass
from escalations.benchmarks import bench_teams_create, bench_tickets_create, database_name, test_database
from escalations.models import (
    Agent,
    AutomationChange,
    AutomationRule,
    AutomationRun,
    Customer,
    OdooAction,
    Stage,
    SyncState,
    Tag,
    Team,
    Ticket,
    TicketClock,
    TicketStageChange,
)

Action, Trigger = AutomationRule.Action, AutomationRule.Trigger


class Command(BaseCommand):
    help = "Time one automation pass with 20 rules over 100,000 open tickets, and count its queries."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=100_000)
        parser.add_argument("--small", type=int, default=10_000, help="tickets of the comparison run")
        parser.add_argument("--new", type=int, default=2_000, help="tickets created since the rules")

    def handle(self, *args, tickets, small, new, **options):
        with test_database():
            now = timezone.now().replace(microsecond=0)
            self.stdout.write(f"database: {database_name()}, per-pass cap {settings.AUTOMATION_RUN_CAP}")
            bench_teams_create(20)
            _people_and_rules(now)
            for count in (tickets, small):
                _clear()
                bench_tickets_create(count, 0, now=now)
                _recent(new * count // tickets, now)
                self._measure(f"{count:,} open tickets, 20 rules", now)

    def _measure(self, label: str, now) -> None:
        rules = list(enabled_rules())
        timings = []
        for _ in range(3):  # the median of three: the first also warms the database's caches
            with CaptureQueriesContext(connection) as queries:
                started, cpu = time.monotonic(), time.process_time()
                plans = plan_pass(rules, now=now)
                timings.append((time.monotonic() - started, time.process_time() - cpu))
        planned, planned_cpu = sorted(timings)[1]
        matched = sum(len(p.items) for p in plans)
        self.stdout.write(f"{label}: planning every rule whole (as 20 previews) {planned:.2f}s "
                          f"({planned_cpu:.2f}s of our CPU, median of 3), {len(queries)} SQL queries, "
                          f"{matched:,} tickets matched; load {os.getloadavg()[0]:.1f}")
        with CaptureQueriesContext(connection) as queries:
            started = time.monotonic()
            run = automation_run(now=now)
            seconds = time.monotonic() - started
        self.stdout.write(f"{label}: whole pass {seconds:.2f}s, {len(queries)} SQL queries; "
                          f"{run.changes} changes (capped: {run.capped}), {run.handed} handed to people")


def _people_and_rules(now) -> None:
    SyncState.objects.update_or_create(pk=1, defaults={"odoo_uid": 2})
    Stage.objects.create(odoo_id=3, name="Waiting on customer")
    Tag.objects.create(odoo_id=3, name="Outage")
    Customer.objects.create(odoo_id=1, name="Acme")
    for team in Team.objects.all():
        team.members.set([Agent.objects.create(odoo_id=team.pk * 100 + i, name=f"Agent {team.pk}.{i}")
                          for i in range(5)])
    since = now - timedelta(hours=1)
    teams = list(Team.objects.order_by("pk"))
    kinds = [
        dict(trigger=Trigger.CREATED, action=Action.ASSIGN),
        dict(trigger=Trigger.CREATED, action=Action.ASSIGN, assign_method="least_loaded",
             max_open_per_agent=900),
        dict(trigger=Trigger.SCHEDULE, every_minutes=60, action=Action.SET_PRIORITY, set_priority="3",
             title_keywords="outage, down, cannot log in"),
        dict(trigger=Trigger.SCHEDULE, every_minutes=60, action=Action.SET_PRIORITY, set_priority="2"),
        dict(trigger=Trigger.CHANGED, action=Action.ADD_TAGS),
        dict(trigger=Trigger.IDLE, idle_minutes=90, action=Action.REMIND),
        dict(trigger=Trigger.SCHEDULE, every_minutes=30, action=Action.MOVE),
        dict(trigger=Trigger.IDLE, idle_minutes=600, action=Action.ESCALATE, escalate_level=1),
    ]
    for number in range(20):
        kind = kinds[number % len(kinds)]
        rule = AutomationRule.objects.create(name=f"Rule {number}", enabled=True, enabled_at=since,
                                             move_to_id=3 if kind["action"] == Action.MOVE else None, **kind)
        rule.teams.set(teams[number % 20: number % 20 + 3])
        if kind["action"] == Action.ADD_TAGS:
            rule.add_tags.set([3])
        if kind["action"] == Action.SET_PRIORITY and "title_keywords" not in kind:
            rule.customers.set([1])


def _recent(count: int, now) -> None:
    """Tickets created, and changed by people, since the rules were switched on."""
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True)[:count])
    Ticket.objects.filter(pk__in=ids).update(created_at=now - timedelta(minutes=30), assignee=None,
                                             odoo_write_date=now - timedelta(minutes=30))
    Ticket.objects.filter(pk__in=ids[::3]).update(customer_id=1, odoo_write_uid=7)


def _clear() -> None:
    AutomationChange.objects.all().delete()
    AutomationRun.objects.all().delete()
    OdooAction.objects.all().delete()
    TicketStageChange.objects.all().delete()
    Ticket.tags.through.objects.all().delete()
    TicketClock.objects.all().delete()
    Ticket.objects.all().delete()
