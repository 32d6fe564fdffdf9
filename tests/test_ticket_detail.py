"""The ticket page the notices link to: fields, SLA deadlines, escalation history, link to Odoo."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
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


def test_runs_exactly_sixteen_queries(client, lead, escalated, django_assert_num_queries):
    # session and user 2, the ticket 1, its tags, escalations, events (with actors and levels), levels and
    # acceptors 5, the sync state 1, the SLA reading (policy, its paused stages, SLA rows, stage
    # changes) 4, the queue row 1 and its write-backs 1, the viewer's groups (read once for the
    # permission check and the top bar's links) and the teams they lead 2.
    # The conversation is not read here: it loads after the page, from Odoo.
    client.force_login(lead)
    with django_assert_num_queries(16):
        assert client.get(reverse("ticket", args=[escalated.odoo_id])).status_code == 200


def test_unknown_ticket_is_a_404_and_a_visitor_must_log_in(client, lead, escalated):
    assert client.get(reverse("ticket", args=[escalated.odoo_id])).status_code == 302
    client.force_login(lead)
    assert client.get(reverse("ticket", args=[999999])).status_code == 404


def test_the_notice_links_to_this_page(settings, escalated):
    settings.DASHBOARD_BASE_URL = "https://console.example.com/"
    url = ticket_dashboard_url(ticket_id=escalated.odoo_id)
    assert url == f"https://console.example.com/tickets/{escalated.odoo_id}/"


def test_the_page_has_a_bar_per_sla_deadline_and_the_tickets_queue_row_with_actions(client, lead, escalated):
    from tests.outbox_helpers import make_lead

    client.force_login(lead)
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    assert 'class="sla-bar band-' in html and "Resolve urgent in 4 hours" in html
    assert html.count('class="sla-tick sla-tick-') == 3 and ">100%</text>" in html
    assert f'id="ticket-{escalated.odoo_id}"' in html and "read only" in html  # not a lead yet
    make_lead(lead, teams=[escalated.team])
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    assert "Reassign…" in html and "Note…" in html and "read only" not in html


def test_a_bar_shows_time_used_against_time_allowed(client, lead, escalated):
    deadline = escalated.sla_statuses.get().deadline
    escalated.created_at = deadline - timedelta(hours=4)
    escalated.save()
    client.force_login(lead)
    with time_machine.travel(deadline - timedelta(minutes=40), tick=False):  # 40 min left of 4 h
        html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    assert 'aria-label="Resolve urgent in 4 hours: 83 % of the time allowed used"' in html
    assert 'class="sla-fill" x="0" y="4" width="69.44%"' in html  # 83.3 % on a scale to 120 %
    assert "3h 20m used of 4h 00m (83 %)" in html


def test_a_reached_sla_says_when_it_was_reached_and_whether_in_time_not_time_left(client, lead, escalated):
    deadline = timezone.now() - timedelta(hours=1)
    SlaStatus.objects.create(ticket=escalated, odoo_id=8, name="First answer in 1 hour", deadline=deadline,
                             reached_at=deadline - timedelta(minutes=25), state=SlaStatus.State.MET)
    SlaStatus.objects.create(ticket=escalated, odoo_id=9, name="Resolve normal in 1 day", deadline=deadline,
                             reached_at=deadline + timedelta(minutes=10), state=SlaStatus.State.FAILED)
    client.force_login(lead)
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    met = html[html.index("First answer in 1 hour"):html.index("Resolve normal in 1 day")]
    failed = html[html.index("Resolve normal in 1 day"):html.index("<h2>Escalations")]
    assert "Reached" in met and "<strong>in time</strong>: 25m before" in met and " left" not in met
    assert "<strong>late</strong>: 10m after" in failed and " left" not in failed


def test_times_are_24_hour_with_the_zone_named_and_nothing_is_styled_inline(client, lead, escalated):
    client.force_login(lead)
    client.cookies["tz"] = "Europe/Brussels"
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    event = escalated.escalations.get().events.first()
    local = timezone.localtime(event.at, ZoneInfo("Europe/Brussels"))
    assert f">{local:%a} {local.day} {local:%b %H:%M} CET</time>" in html
    assert " AM<" not in html and " PM<" not in html
    page = html[html.index('<div class="ticket-page">'):]
    assert "style=" not in page


def test_the_history_speaks_words_and_names_never_codes_or_usernames(client, lead, escalated):
    from escalations.engine import evaluate_escalations
    from escalations.models import OdooAction
    from escalations.sla import refresh_clocks

    # An escalation the engine raised on its own, and a write-back by a lead.
    escalation = escalated.escalations.get()
    escalation_deescalate(escalation=escalation, user=lead, reason="handled")
    escalated.sla_statuses.update(deadline=timezone.now() + timedelta(minutes=5))  # breached after that
    refresh_clocks()
    assert evaluate_escalations(now=timezone.now() + timedelta(minutes=10)).raised == 1
    OdooAction.objects.create(ticket=escalated, kind=OdooAction.Kind.NOTE, created_by=lead,
                              created_at=timezone.now(), state=OdooAction.State.SENT)
    client.force_login(lead)
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    page = html[html.index('<div class="ticket-page">'):html.index('<aside class="ticket-side">')]
    assert "(SLA breached)" in page and "Note by Lena Lead" in page
    for code in ("sla_breached", "sla_at_risk", "no_update", "de_escalated", "out_of_scope"):
        assert code not in page.replace("badge-", "").replace("sla-", ""), code
    assert "by Lena Lead" in page and "by lead" not in page


def test_the_page_loads_the_conversation_after_itself(client, lead, escalated):
    client.force_login(lead)
    html = client.get(reverse("ticket", args=[escalated.odoo_id])).content.decode()
    url = reverse("ticket-conversation", args=[escalated.odoo_id])
    assert f'hx-get="{url}" hx-trigger="load"' in html and f'href="{url}"' in html
