"""The admin: policies set up with their levels (their clocks follow at once), escalations and their
history read-only."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from escalations.engine import evaluate_escalations
from escalations.models import EscalationPolicy, SlaStatus, TicketClock
from tests.conftest import T0
from tests.factories import EscalationPolicyFactory, TeamFactory, TicketClockFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "a-long-password"))
    return client


def policy_form(team, **values):
    form = {
        "team": team.pk, "active": "on", "at_risk_within": "02:00:00", "on_sla_at_risk": "on",
        "on_sla_breached": "on", "on_reopened": "on", "escalate_tag": "Escalate", "allow_manual": "on",
        "levels-TOTAL_FORMS": "2", "levels-INITIAL_FORMS": "0", "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "1000",
        "levels-0-number": "1", "levels-0-name": "Team lead", "levels-0-accept_within": "00:30:00",
        "levels-1-number": "2", "levels-1-name": "Senior support",
    }
    return {**form, **values}


def test_saving_a_policy_with_its_levels_refreshes_its_teams_clocks(admin_client):
    ticket = TicketFactory()
    SlaStatus.objects.create(ticket=ticket, odoo_id=1, name="4 hours", deadline=T0 + timedelta(hours=3))

    response = admin_client.post(reverse("admin:escalations_escalationpolicy_add"), policy_form(ticket.team))

    assert response.status_code == 302, response.content.decode()[:2000]
    policy = EscalationPolicy.objects.get(team=ticket.team)
    assert list(policy.levels.values_list("number", "name")) == [(1, "Team lead"), (2, "Senior support")]
    assert TicketClock.objects.get(ticket=ticket).at_risk_at == T0 + timedelta(hours=1)
    # A policies page opened before this save would now be refused rather than undo it.
    assert policy.revision == 1


def test_the_unassigned_trigger_needs_both_its_priority_and_its_delay(admin_client):
    team = TeamFactory()
    response = admin_client.post(
        reverse("admin:escalations_escalationpolicy_add"), policy_form(team, unassigned_priority="3")
    )
    assert response.status_code == 200 and "Set both the priority and the delay" in response.content.decode()
    assert not EscalationPolicy.objects.exists()


def test_escalations_and_their_history_are_shown_and_cannot_be_changed(admin_client):
    policy = EscalationPolicyFactory()
    TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(minutes=1))
    escalation_id = evaluate_escalations(now=T0).raised_ids[0]

    page = admin_client.get(reverse("admin:escalations_escalation_change", args=[escalation_id]))
    assert page.status_code == 200 and "sla_breached" in page.content.decode()
    events = admin_client.get(reverse("admin:escalations_escalationevent_changelist"))
    assert events.status_code == 200
    assert admin_client.get(reverse("admin:escalations_escalationevent_add")).status_code == 403
    event_id = policy.escalations.get().events.get().pk
    delete_url = reverse("admin:escalations_escalationevent_delete", args=[event_id])
    delete = admin_client.post(delete_url, {"post": "yes"})
    assert delete.status_code == 403
    assert policy.escalations.get().events.count() == 1


def test_a_levels_marker_in_odoo_is_set_up_with_the_policy(admin_client):
    team = TeamFactory()
    response = admin_client.post(reverse("admin:escalations_escalationpolicy_add"), policy_form(
        team, **{"levels-1-odoo_tag_name": "Escalated L2", "levels-1-odoo_priority": "3"}))
    assert response.status_code == 302, response.content.decode()[:2000]
    senior = EscalationPolicy.objects.get(team=team).levels.get(number=2)
    assert (senior.odoo_tag_name, senior.odoo_priority) == ("Escalated L2", "3")


def test_a_level_may_not_mark_with_the_policys_escalation_tag(admin_client):
    team = TeamFactory()
    response = admin_client.post(reverse("admin:escalations_escalationpolicy_add"), policy_form(
        team, escalate_tag="Escalate", **{"levels-0-odoo_tag_name": "ESCALATE"}))
    assert response.status_code == 200
    assert "is the tag that escalates a ticket in this policy" in response.content.decode()
    assert not EscalationPolicy.objects.exists()
