"""`python manage.py benchmark_actions`: how long an action takes from the click to being applied in
Odoo, and the outbox's throughput with several sending processes.

Runs the simulator in its own process on loopback, then on a throw-away test database:
1. latency: 200 notes and reassignments, one at a time; each is made as the view makes it (the domain
   function: role check, outbox row, audit entry, one transaction) and sent at once by
   `outbox_send` as a worker would, without the broker hop; median and p95 of click -> `applied_at`;
2. throughput: 400 actions on distinct tickets queued first, then sent by 4 processes (each runs
   `outbox_send` over its share, as 4 Celery worker processes would); actions per second.
Each send logs in to Odoo first (3 requests) and then reads, writes and posts (4 to 5 requests).
"""

import multiprocessing
import statistics
import time

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connections

from escalations import actions as domain
from escalations.benchmarks import database_name, simulator_process, test_database
from escalations.models import Agent, OdooAction, Profile, Ticket
from escalations.outbox import outbox_send
from escalations.sync import sync_odoo


class Command(BaseCommand):
    help = "Time click -> applied in Odoo (median, p95) over 200 actions, and the outbox's throughput."

    def add_arguments(self, parser):
        parser.add_argument("--actions", type=int, default=200)
        parser.add_argument("--throughput-actions", type=int, default=400)
        parser.add_argument("--workers", type=int, default=4)
        parser.add_argument("--port", type=int, default=8179)

    def handle(self, *args, actions: int, throughput_actions: int, workers: int, port: int, **options):
        tickets = 2 * max(actions, throughput_actions) + 200  # about half are open
        with test_database(), simulator_process(tickets=tickets, port=port):
            sync_odoo(full=True)
            user = _supervisor()
            # The benchmark sends by itself; nothing should also go to a broker.
            saved_enqueue, domain.outbox_enqueue = domain.outbox_enqueue, lambda *a, **k: None
            try:
                self.stdout.write(f"database: {database_name()}, "
                                  f"simulator on loopback, {Ticket.objects.count()} tickets mirrored")
                self._latency(user, actions)
                self._throughput(user, throughput_actions, workers)
            finally:
                domain.outbox_enqueue = saved_enqueue

    def _latency(self, user, count: int) -> None:
        agents = list(Agent.objects.filter(active=True, login__contains="@").exclude(profile__isnull=False))
        seconds = []
        for i, ticket in enumerate(Ticket.objects.open().order_by("odoo_id")[:count]):
            started = time.monotonic()
            if i % 2:
                target = next(a for a in agents if a.pk != ticket.assignee_id)
                action = domain.action_reassign(ticket=ticket, user=user, agent=target,
                                                 seen_write_date=ticket.odoo_write_date)
            else:
                action = domain.action_note(ticket=ticket, user=user, body=f"benchmark note {i}")
            state = outbox_send(action.pk)
            seconds.append(time.monotonic() - started)
            if state != OdooAction.State.SENT:
                error = OdooAction.objects.get(pk=action.pk).last_error
                self.stdout.write(f"  action {action.pk} ended {state}: {error}")
        seconds.sort()
        p95 = seconds[max(0, round(len(seconds) * 0.95) - 1)]
        self.stdout.write(f"click -> applied in Odoo over {len(seconds)} actions: "
                          f"median {statistics.median(seconds) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")

    def _throughput(self, user, count: int, workers: int) -> None:
        OdooAction.objects.all().delete()
        tickets = list(Ticket.objects.open().order_by("-odoo_id")[:count])
        ids = [domain.action_note(ticket=t, user=user, body="throughput").pk for t in tickets]
        connections.close_all()  # each process opens its own connection
        started = time.monotonic()
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers) as pool:
            pool.map(_send_share, [ids[i::workers] for i in range(workers)])
        elapsed = time.monotonic() - started
        sent = OdooAction.objects.filter(state=OdooAction.State.SENT).count()
        self.stdout.write(f"outbox throughput with {workers} processes: {sent} of {len(ids)} actions "
                          f"applied in {elapsed:.2f}s, {sent / elapsed:.0f} actions/s")


def _send_share(ids: list[int]) -> None:
    connections.close_all()
    for pk in ids:
        outbox_send(pk)
    connections.close_all()


def _supervisor() -> User:
    user = User.objects.create_superuser("benchmark", "benchmark@example.com", None,
                                         first_name="Bench", last_name="Mark")
    Profile.objects.create(user=user, agent=Agent.objects.filter(active=True, login__contains="@").first())
    return user
