"""The ticket page the notices link to: fields, SLA deadlines, escalation history, link to Odoo."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalations.engine import escalation_accept, escalation_deescalate, escalation_raise_manual
from escalations.models import SlaStatus, SyncState
from escalations.notices.email import ticket_dashboard_url
from tests.factories import EscalationPolicyFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalated(lead):
    SyncState.objects.create(pk=1, server_version="17.0+e")
    policy = EscalationPolicyFactory()
    ticket = TicketFactory(team=policy.team, name="Printer on fire")
    SlaStatus.objects.create(
        ticket=ticket, odoo_id=7, name="Resolve urgent in 4 hours",
        deadline=timezone.now() + timedelta(minutes=40), state=SlaStatus.State.RUNNING,
    )
    escalation = escalation_raise_manual(
        ticket=ticket, level=policy.levels.get(number=1), user=lead, reason="Customer called twice"
    )
    escalation_accept(escalation=escalation, user=lead)
    return ticket


def test_shows_the_ticket_its_sla_and_its_escalation_history(client, lead, escalated):
    client.force_login(lead)
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    assert "Printer on fire" in html
    assert "Resolve urgent in 4 hours" in html and "At risk" in html  # 40 min left, 1 h threshold
    assert "Raised" in html and "Customer called twice" in html
    assert "Accepted" in html and "accepted by Lena Lead" in html
    assert f"/web#id={escalated.odoo_id}&amp;model=helpdesk.ticket" in html


def page_queries(client, ticket) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("ticket", args=[ticket.odoo_id])).status_code == 200
    return len(queries)


def test_runs_the_same_number_of_queries_however_long_the_history(client, lead, escalated):
    client.force_login(lead)
    one = page_queries(client, escalated)
    level = escalated.escalations.get().level
    for n in range(3):
        escalation = escalated.escalations.get(ended_at=None)
        escalation_deescalate(escalation=escalation, user=lead, reason=f"handled {n}")
        escalation_raise_manual(ticket=escalated, level=level, user=lead, reason=f"again {n}")
    assert escalated.escalations.count() == 4
    assert page_queries(client, escalated) == one


def test_unknown_ticket_is_a_404_and_a_visitor_must_log_in(client, lead, escalated):
    assert client.get(reverse("ticket", args=[escalated.odoo_id])).status_code == 302
    client.force_login(lead)
    assert client.get(reverse("ticket", args=[999999])).status_code == 404


def test_the_notice_links_to_this_page(settings, escalated):
    settings.DASHBOARD_BASE_URL = "https://console.example.com/"
    url = ticket_dashboard_url(ticket_id=escalated.odoo_id)
    assert url == f"https://console.example.com/tickets/{escalated.odoo_id}/"


def test_the_page_has_the_sla_timeline_and_the_tickets_queue_row_with_its_actions(client, lead, escalated):
    from tests.outbox_helpers import make_lead

    client.force_login(lead)
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    assert 'class="timeline-bar"' in html and "Resolve urgent in 4 hours" in html and ">Now<" not in html
    assert "mark-now" in html and "mark-escalation" in html
    assert f'id="ticket-{escalated.odoo_id}"' in html and "read only" in html  # not a lead yet
    make_lead(lead, teams=[escalated.team])
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    assert "Reassign…" in html and "Note…" in html and "read only" not in html
