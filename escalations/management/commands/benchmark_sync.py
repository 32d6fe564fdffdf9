"""`python manage.py benchmark_sync`: what the sync costs compared with the bare Odoo reads.

Runs the simulator in its own process (as Odoo would be), then on a throw-away test database:
1. the raw odoorpc `search_read` of the same fields in the same keyset pages (tickets and their SLA
   records), with no processing: the floor any sync must pay;
2. the full sync of the same tickets into the mirror;
3. an incremental sync after 200 tickets changed in Odoo.
"""

import statistics
import time

import odoorpc
from django.conf import settings
from django.core.management.base import BaseCommand

from escalations.benchmarks import database_name, simulator_process, test_database
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.schema import detect_schema
from escalations.sync.pages import Position
from escalations.sync.run import sync_odoo


class Command(BaseCommand):
    help = "Time the full sync of 20,000 simulator tickets against the raw fetch, and an incremental sync."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=20_000)
        parser.add_argument("--changes", type=int, default=200)
        parser.add_argument("--port", type=int, default=8169)
        parser.add_argument("--repeat", type=int, default=3, help="raw fetch and full sync runs (median)")

    def handle(self, *args, tickets, changes, port, repeat, **options):
        with test_database(), simulator_process(tickets=tickets, port=port):
            config = OdooConfig.from_settings()
            raw = [self._raw_fetch(config) for _ in range(repeat)]
            fulls = []
            for _ in range(repeat):
                _empty_mirror()
                fulls.append(sync_odoo(full=True))
            raw_s = statistics.median(r[0] for r in raw)
            full_s = statistics.median(r.seconds for r in fulls)
            clock_s = statistics.median(r.clock_seconds for r in fulls)
            self.stdout.write(f"tickets: {fulls[0].created}, pages of {settings.SYNC_PAGE_SIZE}, "
                              f"database: {database_name()}")
            self.stdout.write(f"raw odoorpc search_read (same fields, same pages): {raw_s:.2f}s "
                              f"({raw[0][1]} RPC calls)")
            self.stdout.write(
                f"full sync: {full_s:.2f}s ({fulls[0].rpc_calls} RPC calls), of which {clock_s:.2f}s "
                f"computing {fulls[0].clocks} SLA clocks"
            )
            self.stdout.write(f"ratio full sync / raw fetch: {full_s / raw_s:.2f} (goal <= 1.5); "
                              f"mirror alone: {(full_s - clock_s) / raw_s:.2f}")

            self._change_tickets(config, changes)
            incremental = sync_odoo()
            self.stdout.write(
                f"incremental sync of {changes} changed tickets out of {tickets}: "
                f"{incremental.rpc_calls} RPC calls, {incremental.seconds:.2f}s "
                f"({incremental.updated} updated)"
            )

    def _raw_fetch(self, config: OdooConfig) -> tuple[float, int]:
        client = OdooClient.connect(config)
        schema = detect_schema(client)
        fields = schema.ticket_read_fields()
        odoo = odoorpc.ODOO("127.0.0.1", port=int(config.url.rsplit(":", 1)[1]), timeout=60)
        odoo.login(config.db, config.user, config.api_key)
        started = time.monotonic()
        calls, position = 0, Position()
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
        return time.monotonic() - started, calls

    def _change_tickets(self, config: OdooConfig, changes: int) -> None:
        client = OdooClient.connect(config)
        time.sleep(1.1)  # a later write_date second than everything already mirrored
        ids = client.search("helpdesk.ticket", [])[:changes]
        for start in range(0, len(ids), 50):
            client.write("helpdesk.ticket", ids[start:start + 50], {"priority": "2"})


def _empty_mirror():
    from escalations.models import SyncState, Ticket

    Ticket.objects.all().delete()
    SyncState.objects.all().delete()
