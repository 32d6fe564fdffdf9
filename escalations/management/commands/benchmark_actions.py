"""`python manage.py benchmark_actions`: how long an action takes from the click to being applied in
Odoo, and the outbox's throughput with 4 Celery worker processes.

Runs the simulator in its own process on loopback (as Odoo would be), then on a throw-away test
database, with a real Celery worker (prefork, `--workers` processes) on the configured broker:
1. latency: 200 notes and reassignments, one at a time; each is made as the view makes it (the domain
   function: role check, outbox row, audit entry, one transaction, the task enqueued on commit), then
   the benchmark waits until the worker has applied it in Odoo; median and p95 of click -> `applied_at`
   (both timestamps from this machine's clock);
2. throughput: 400 notes on distinct tickets saved first, then enqueued at once; actions per second
   from the first enqueue to the last `applied_at`.
Each send logs in to Odoo first (3 requests) and then reads, writes and posts (4 to 5 requests).
"""

import statistics
import time

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone

from escalations import actions as domain
from escalations.benchmarks import celery_worker, database_name, simulator_process, test_database
from escalations.enqueue import SEND_ODOO_ACTION, enqueue
from escalations.models import Agent, OdooAction, Profile, Ticket
from escalations.sync.run import sync_odoo

SENT = OdooAction.State.SENT


class Command(BaseCommand):
    help = "Time click -> applied in Odoo (median, p95) over 200 actions, and the outbox's throughput."

    def add_arguments(self, parser):
        parser.add_argument("--actions", type=int, default=200)
        parser.add_argument("--throughput-actions", type=int, default=400)
        parser.add_argument("--workers", type=int, default=4, help="the Celery worker's processes")
        parser.add_argument("--port", type=int, default=8179)

    def handle(self, *args, actions: int, throughput_actions: int, workers: int, port: int, **options):
        tickets = 2 * max(actions, throughput_actions) + 200  # about half are open
        with test_database(), simulator_process(tickets=tickets, port=port):
            sync_odoo(full=True)
            user = _supervisor()
            broker = settings.CELERY_BROKER_URL.split(":")[0]
            self.stdout.write(f"database: {database_name()}, broker: {broker}, simulator on loopback, "
                              f"{Ticket.objects.count()} tickets mirrored")
            with celery_worker(concurrency=workers, log_name="benchmark-worker.log"):
                self._latency(user, actions)
                self._throughput(user, throughput_actions, workers)

    def _latency(self, user, count: int) -> None:
        agents = list(Agent.objects.filter(active=True, login__contains="@").exclude(profile__isnull=False))
        seconds = []
        for i, ticket in enumerate(Ticket.objects.open().order_by("odoo_id")[:count]):
            clicked = timezone.now()
            if i % 2:
                target = next(a for a in agents if a.pk != ticket.assignee_id)
                action = domain.action_reassign(ticket=ticket, user=user, agent=target,
                                                 seen_write_date=ticket.odoo_write_date)
            else:
                action = domain.action_note(ticket=ticket, user=user, body=f"benchmark note {i}")
            applied = _wait_applied(action.pk, timeout=30 if i else 60)  # the first waits for the worker
            seconds.append((applied - clicked).total_seconds())
        seconds.sort()
        p95 = seconds[max(0, round(len(seconds) * 0.95) - 1)]
        median = statistics.median(seconds) * 1000
        self.stdout.write(f"click -> applied in Odoo over {len(seconds)} actions, through the broker and a "
                          f"worker: median {median:.0f} ms, p95 {p95 * 1000:.0f} ms")

    def _throughput(self, user, count: int, workers: int) -> None:
        tickets = list(Ticket.objects.open().order_by("-odoo_id")[:count])
        saved, domain.enqueue_on_commit = domain.enqueue_on_commit, lambda *a, **k: None
        try:  # saved first, so that the clock starts with every action waiting
            ids = [domain.action_note(ticket=t, user=user, body="throughput").pk for t in tickets]
        finally:
            domain.enqueue_on_commit = saved
        started = timezone.now()
        for pk in ids:
            enqueue(SEND_ODOO_ACTION, pk)
        batch = OdooAction.objects.filter(pk__in=ids)
        deadline = time.monotonic() + 300
        while batch.filter(state=SENT).count() < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        sent = batch.filter(state=SENT).count()
        elapsed = (batch.aggregate(last=Max("applied_at"))["last"] - started).total_seconds()
        self.stdout.write(f"outbox throughput with a {workers}-process Celery worker: {sent} of {len(ids)} "
                          f"actions applied in {elapsed:.2f}s, {sent / elapsed:.0f} actions/s")


def _wait_applied(action_id: int, *, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        action = OdooAction.objects.only("state", "applied_at", "last_error").get(pk=action_id)
        if action.state == SENT:
            return action.applied_at
        if action.is_final:
            raise CommandError(f"Action {action_id} ended {action.state}: {action.last_error}")
        time.sleep(0.002)
    raise CommandError(f"Action {action_id} was not applied within {timeout:.0f}s (see the worker's log)")


def _supervisor() -> User:
    user = User.objects.create_superuser("benchmark", "benchmark@example.com", None,
                                         first_name="Bench", last_name="Mark")
    Profile.objects.create(user=user, agent=Agent.objects.filter(active=True, login__contains="@").first())
    return user


