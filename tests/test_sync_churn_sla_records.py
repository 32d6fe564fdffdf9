"""Churn that changes nothing, where Odoo keeps SLA records: Enterprise's `_sla_apply` deletes a
ticket's unreached SLA statuses and creates them again, with new ids and the same values, whenever
its priority, team or tags are written, changed or not. A mass edit that rewrites every ticket
unchanged must still write nothing in the console, and commit nothing page by page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations.models import SlaStatus, Ticket, TicketClock
from escalations.sync.run import sync_odoo
from tests.test_sync_churn import mirror_writes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "simulator", [("enterprise", 17), ("oca", 17)], indirect=True, ids=["enterprise-17", "oca-17"]
)
def test_tickets_rewritten_unchanged_in_one_transaction_write_nothing(odoo, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    state = odoo.state
    sync_odoo(full=True)
    before = {
        "tickets": dict(Ticket.objects.values_list("odoo_id", "synced_at")),
        "sla": sorted(SlaStatus.objects.values_list("id", flat=True)),
        "clocks": dict(TicketClock.objects.values_list("ticket_id", "computed_at")),
    }
    sla_model = "helpdesk.sla.status" if state.flavour == "enterprise" else "helpdesk.ticket.sla"
    sla_ids = set(state.store.tables[sla_model])
    state.clock.advance(timedelta(minutes=5))
    rewritten = state.rewrite_tickets()
    if state.flavour == "enterprise":  # the simulator recreates them as Odoo does
        assert set(state.store.tables[sla_model]) != sla_ids

    with CaptureQueriesContext(connection) as queries:
        result = sync_odoo()

    assert (result.created, result.updated, result.clocks) == (0, 0, 0)
    assert result.unchanged == len(rewritten)
    assert mirror_writes(queries.captured_queries) == []
    # Bulk writes (COPY on PostgreSQL) do not show among the captured queries: the rows tell.
    assert dict(Ticket.objects.values_list("odoo_id", "synced_at")) == before["tickets"]
    assert sorted(SlaStatus.objects.values_list("id", flat=True)) == before["sla"]
    assert dict(TicketClock.objects.values_list("ticket_id", "computed_at")) == before["clocks"]


@pytest.mark.parametrize("simulator", [("enterprise", 17)], indirect=True, ids=["enterprise-17"])
def test_pages_with_nothing_to_write_move_the_cursor_once(odoo, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    settings.SYNC_PAGE_SIZE = 10
    sync_odoo(full=True)
    odoo.state.clock.advance(timedelta(minutes=5))
    rewritten = odoo.state.rewrite_tickets()

    with CaptureQueriesContext(connection) as queries:
        result = sync_odoo()

    assert result.pages > 3 and (result.created, result.updated) == (0, 0)
    assert result.unchanged >= len(rewritten)  # a page inside one second is read twice
    # Each page's cursor in its own transaction would be a commit (a disk flush on SQLite) per page.
    cursor_moves = [q for q in queries.captured_queries if "cursor_write_date" in q["sql"]
                    and q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(cursor_moves) == 1
