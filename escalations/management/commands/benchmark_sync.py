"""`python manage.py benchmark_sync`: what the sync costs compared with the bare Odoo reads.

Runs the simulator in its own process (as Odoo would be), then on a throw-away test database:
1. the raw odoorpc `search_read` of the same fields in the same keyset pages (tickets and their SLA
   records), with no processing: the floor any sync must pay;
2. the full sync of the same tickets into an empty mirror;
3. an incremental sync after 200 tickets changed in Odoo;
4. a tie: that many tickets changed in one transaction, so that they share one write_date second
   across several pages; the incremental sync must end, reading each of them a bounded number of times;
5. churn: every ticket rewritten unchanged in one transaction (as OCA 16's SLA cron does to every
   open ticket), then an incremental sync, which should write nothing, against the raw fetch of the
   pages it reads.

Times are wall-clock, with our own process's CPU time beside them: on a machine shared with other
work, the wall-clock figures move with the load (printed first).
"""

import json
import os
import statistics
import time
import urllib.request
from dataclasses import dataclass

import odoorpc
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.models import Max

from escalations.benchmarks import (
    cpu_seconds,
    database_backend_pid,
    database_name,
    simulator_process,
    test_database,
)
from escalations.models import SlaStatus, SyncState, Ticket, TicketClock, TicketStageChange
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.schema import detect_schema
from escalations.sync.pages import Position
from escalations.sync.run import incremental_start, sync_odoo


@dataclass
class Timed:
    seconds: float
    cpu: float  # this process's CPU time over the same span
    rpc_calls: int = 0
    odoo_cpu: float | None = None  # the simulator's
    database_cpu: float | None = None  # PostgreSQL's server process's (SQLite works in ours)


class Command(BaseCommand):
    help = (
        "Time the full sync of 20,000 simulator tickets against the raw fetch; an incremental sync, "
        "the churn of every ticket rewritten unchanged, and a tie of tickets written in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=20_000)
        parser.add_argument("--changes", type=int, default=200)
        parser.add_argument("--tie", type=int, default=1_200, help="tickets written in one transaction")
        parser.add_argument("--port", type=int, default=8169)
        # Five: on a 2-CPU machine shared with other work, one run's ratio moves by a fifth or more.
        parser.add_argument("--repeat", type=int, default=5, help="raw fetch and full sync runs (median)")

    def handle(self, *args, tickets, changes, tie, port, repeat, **options):
        with test_database(), simulator_process(tickets=tickets, port=port) as simulator:
            self.url, self.simulator_pid = simulator.url, simulator.pid
            self.config = OdooConfig.from_settings()
            self.stdout.write(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs); "
                              f"pages of {settings.SYNC_PAGE_SIZE}, database: {database_name()}")
            self._full(repeat)
            self._incremental(changes, tickets)
            self._tie(tie)
            self._churn(tickets)
            self.stdout.write(f"load average after: {os.getloadavg()[0]:.2f}")

    def _full(self, repeat: int) -> None:
        raw = [self._raw_fetch(Position()) for _ in range(repeat)]
        fulls = []
        for _ in range(repeat):
            _empty_mirror()
            fulls.append(self._timed_sync(full=True))
        raw_s, raw_cpu = _median(raw)
        full_s, full_cpu = _median(t for t, _ in fulls)
        result = fulls[0][1]
        clock_s = statistics.median(r.clock_seconds for _, r in fulls)
        self.stdout.write(f"raw odoorpc search_read (same fields, same pages): {raw_s:.2f}s, "
                          f"CPU {raw_cpu:.2f}s ({raw[0].rpc_calls} RPC calls)")
        self.stdout.write(
            f"full sync of {result.created} tickets into an empty mirror: {full_s:.2f}s, CPU {full_cpu:.2f}s "
            f"({result.rpc_calls} RPC calls), of which {clock_s:.2f}s on {result.clocks} SLA clocks"
        )
        spread = sorted(t.seconds / raw_s for t, _ in fulls)
        self.stdout.write(f"ratio full sync / raw fetch: {full_s / raw_s:.2f} (goal <= 1.5); each of the "
                          f"{repeat} syncs: {', '.join(f'{r:.2f}' for r in spread)}")
        self._cpu_floor(raw, [t for t, _ in fulls], raw_s)
        again, result = self._timed_sync(full=True)
        self.stdout.write(f"full sync again, over the mirror it made: {again.seconds:.2f}s, "
                          f"CPU {again.cpu:.2f}s (ratio {again.seconds / raw_s:.2f}; {result.clocks} clocks "
                          "written)")

    def _cpu_floor(self, raw: list[Timed], fulls: list[Timed], raw_s: float) -> None:
        """The CPU time the three processes spent on the full sync: on this machine's CPUs, the sync
        cannot take less than their sum shared out over all of them, however well it overlaps."""
        if any(t.odoo_cpu is None for t in [*raw, *fulls]):
            return  # /proc unreadable: not on Linux
        ours = statistics.median(t.cpu for t in fulls)
        odoo = statistics.median(t.odoo_cpu for t in fulls)
        database = statistics.median(t.database_cpu or 0.0 for t in fulls)
        cpus = os.cpu_count()
        floor = (ours + odoo + database) / cpus
        postgresql = connection.vendor == "postgresql"
        where = f", PostgreSQL's server process {database:.2f}s" if postgresql else " (with SQLite's)"
        self.stdout.write(
            f"CPU of the full sync: ours {ours:.2f}s{where}, the simulator {odoo:.2f}s; on {cpus} CPUs "
            f"at least {floor:.2f}s, ratio {floor / raw_s:.2f}, with every CPU busy throughout "
            f"(the raw fetch: ours {statistics.median(t.cpu for t in raw):.2f}s, the simulator "
            f"{statistics.median(t.odoo_cpu for t in raw):.2f}s)"
        )

    def _incremental(self, changes: int, tickets: int) -> None:
        client = OdooClient.connect(self.config)
        time.sleep(1.1)  # a later write_date second than everything already mirrored
        ids = client.search("helpdesk.ticket", [])[:changes]
        for start in range(0, len(ids), 50):
            client.write("helpdesk.ticket", ids[start:start + 50], {"priority": "2"})
        timed, result = self._timed_sync(full=False)
        self.stdout.write(f"incremental sync of {changes} changed tickets out of {tickets}: "
                          f"{result.rpc_calls} RPC calls, {timed.seconds:.2f}s ({result.updated} updated)")

    def _churn(self, tickets: int) -> None:
        # A first rewrite recomputes the seeded SLA statuses as Odoo would (some lose their deadline in
        # a stage their policy excludes): real changes, mirrored here unmeasured. The clock then stands
        # still, so that no deadline passes between the rewrite measured and its sync.
        self._control({"rewrite_tickets": {}})
        sync_odoo()
        self._control({"freeze": True})
        self._control({"rewrite_tickets": {}})
        raw = self._raw_fetch(incremental_start(SyncState.load()))
        before = _marks()
        timed, result = self._timed_sync(full=False)
        written = _written_since(before)
        self._control({"freeze": False})
        self.stdout.write(
            f"churn, all {tickets} tickets rewritten unchanged in one transaction: incremental sync "
            f"{timed.seconds:.2f}s, CPU {timed.cpu:.2f}s ({result.rpc_calls} RPC calls), wrote "
            + ", ".join(f"{count} {what}" for what, count in written.items())
        )
        self.stdout.write(f"raw fetch of the same pages: {raw.seconds:.2f}s, CPU {raw.cpu:.2f}s "
                          f"({raw.rpc_calls} RPC calls); ratio {timed.seconds / raw.seconds:.2f} "
                          "(goal <= 1.3)")

    def _tie(self, count: int) -> None:
        self._control({"rewrite_tickets": {"count": count, "values": {"name": "Written in one transaction"}}})
        timed, result = self._timed_sync(full=False)
        self.stdout.write(
            f"tie, {count} tickets changed in one transaction (one write_date), pages of "
            f"{settings.SYNC_PAGE_SIZE}: the incremental sync ended in {timed.seconds:.2f}s after "
            f"{result.rpc_calls} RPC calls, {result.pages} pages, {result.updated} tickets updated"
        )

    def _timed_sync(self, *, full: bool):
        backend = database_backend_pid()
        odoo_cpu, database_cpu = cpu_seconds(self.simulator_pid), cpu_seconds(backend)
        started, cpu = time.monotonic(), time.process_time()
        result = sync_odoo(full=full)
        timed = Timed(time.monotonic() - started, time.process_time() - cpu, result.rpc_calls,
                      odoo_cpu=_spent(odoo_cpu, cpu_seconds(self.simulator_pid)),
                      database_cpu=_spent(database_cpu, cpu_seconds(backend)))
        return timed, result

    def _raw_fetch(self, start: Position) -> Timed:
        """The bare odoorpc reads of the pages a sync starting at `start` reads."""
        client = OdooClient.connect(self.config)
        schema = detect_schema(client)
        fields = schema.ticket_read_fields()
        odoo = odoorpc.ODOO("127.0.0.1", port=int(self.config.url.rsplit(":", 1)[1]), timeout=60)
        odoo.login(self.config.db, self.config.user, self.config.api_key)
        odoo_cpu = cpu_seconds(self.simulator_pid)
        started, cpu = time.monotonic(), time.process_time()
        calls, position = 0, start
        while position is not None:
            rows = odoo.execute_kw(
                "helpdesk.ticket", "search_read", [position.domain()],
                {"fields": fields, "order": position.order, "limit": settings.SYNC_PAGE_SIZE,
                 "context": {"active_test": False}},
            )
            calls += 1
            if rows and schema.sla_model:
                ticket_ids = [r["id"] for r in rows]
                odoo.execute_kw(schema.sla_model, "search_read", [[("ticket_id", "in", ticket_ids)]],
                                {"fields": schema.sla_fields})
                calls += 1
            full = len(rows) >= settings.SYNC_PAGE_SIZE
            position = position.after(rows, full=full, write_field="write_date")
        return Timed(time.monotonic() - started, time.process_time() - cpu, calls,
                     odoo_cpu=_spent(odoo_cpu, cpu_seconds(self.simulator_pid)))

    def _control(self, payload: dict) -> dict:
        request = urllib.request.Request(
            f"{self.url}/__simulator__/control", data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.load(response)


def _spent(before: float | None, after: float | None) -> float | None:
    """CPU seconds between two readings of cpu_seconds (None when either could not be read)."""
    return None if before is None or after is None else after - before


def _median(timings) -> tuple[float, float]:
    timings = list(timings)
    return statistics.median(t.seconds for t in timings), statistics.median(t.cpu for t in timings)


def _empty_mirror():
    if connection.vendor == "postgresql":
        # TRUNCATE, not DELETE: each run then starts from the same fresh tables, not from the dead rows
        # of the run before (which made every later run slower than the first).
        with connection.cursor() as cursor:
            cursor.execute(f'TRUNCATE "{Ticket._meta.db_table}" CASCADE')
    else:
        Ticket.objects.all().delete()
    SyncState.objects.all().delete()


def _marks() -> dict:
    return {
        "synced_at": Ticket.objects.aggregate(m=Max("synced_at"))["m"],
        "sla": SlaStatus.objects.aggregate(m=Max("id"))["m"] or 0,
        "stage": TicketStageChange.objects.aggregate(m=Max("id"))["m"] or 0,
        "clock": TicketClock.objects.aggregate(m=Max("computed_at"))["m"],
    }


def _written_since(marks: dict) -> dict[str, int]:
    """Rows the sync wrote: tickets whose synced_at moved, SLA and stage rows inserted, clocks computed."""
    return {
        "ticket rows": Ticket.objects.filter(synced_at__gt=marks["synced_at"]).count(),
        "SLA rows": SlaStatus.objects.filter(id__gt=marks["sla"]).count(),
        "stage history rows": TicketStageChange.objects.filter(id__gt=marks["stage"]).count(),
        "clocks": TicketClock.objects.filter(computed_at__gt=marks["clock"]).count(),
    }
