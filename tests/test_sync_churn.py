"""Churn that changes nothing (odoo.md §8.3): OCA helpdesk_mgmt_sla 16.0's cron rewrites every open
ticket under a policy every 5 minutes, unchanged, so all their write_dates move. A sync that re-reads
them must write no row, recompute no clock, raise no escalation and send no notice."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations.engine import evaluate_escalations
from escalations.models import Escalation, Notice, Ticket, TicketClock
from escalations.sync.run import sync_odoo
from tests.factories import EscalationPolicyFactory

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def mirror_writes(queries) -> list[str]:
    """SQL statements that wrote mirror tables (the sync cursor and health row aside)."""
    return [
        q["sql"] for q in queries
        if q["sql"].lstrip().upper().startswith(WRITES) and "escalations_syncstate" not in q["sql"]
    ]


@pytest.mark.parametrize("simulator", [("oca", 16)], indirect=True, ids=["oca-16"])
def test_the_oca16_sla_cron_rewriting_every_open_ticket_changes_nothing_in_the_console(odoo, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    state = odoo.state
    state.run_sla_cron()
    sync_odoo(full=True)
    EscalationPolicyFactory(team=Ticket.objects.open().exclude(sla_deadline=None).first().team)
    evaluate_escalations()
    before = {
        "tickets": dict(Ticket.objects.values_list("odoo_id", "odoo_write_date")),
        "clocks": dict(TicketClock.objects.values_list("ticket_id", "computed_at")),
        "escalations": Escalation.objects.count(), "notices": Notice.objects.count(),
    }
    state.clock.advance(timedelta(minutes=5))
    rewritten = state.run_sla_cron()
    assert rewritten > 10

    with CaptureQueriesContext(connection) as queries:
        result = sync_odoo()
    evaluation = evaluate_escalations()

    assert result.unchanged == rewritten and (result.updated, result.created) == (0, 0)
    assert mirror_writes(queries.captured_queries) == []
    assert result.clocks == 0
    assert dict(Ticket.objects.values_list("odoo_id", "odoo_write_date")) == before["tickets"]
    assert dict(TicketClock.objects.values_list("ticket_id", "computed_at")) == before["clocks"]
    assert (Escalation.objects.count(), Notice.objects.count()) == (before["escalations"], before["notices"])
    assert evaluation.raised == 0


@pytest.mark.parametrize("simulator", [("oca", 16)], indirect=True, ids=["oca-16"])
def test_a_real_change_among_the_churn_is_still_mirrored(odoo, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    state = odoo.state
    state.run_sla_cron()
    sync_odoo(full=True)
    state.clock.advance(timedelta(minutes=5))
    state.run_sla_cron()
    target = Ticket.objects.open().exclude(sla_deadline=None).first()
    state.call("helpdesk.ticket", "write", [[target.odoo_id], {"priority": "3"}])

    result = sync_odoo()

    assert result.updated == 1
    target.refresh_from_db()
    assert target.priority == "3"
