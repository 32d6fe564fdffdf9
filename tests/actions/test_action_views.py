"""The action endpoints through the test client: POST with CSRF only, refused across teams or forged
(nothing written: no outbox row, no audit entry, nothing in Odoo), bad input a 400, never a 500."""

import pytest
from django.test import Client
from django.urls import reverse

from escalations.models import AuditEntry, Escalation, OdooAction, Team
from tests.factories import EscalationPolicyFactory
from tests.outbox_helpers import drain, free_agent, make_lead, notes, odoo_ticket

pytestmark = pytest.mark.django_db



def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def post_with_csrf(client: Client, url: str, data: dict, **headers):
    client.get(reverse("tickets"))  # sets the csrftoken cookie, as loading the page does
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, **headers)


def nothing_written(odoo, ticket):
    assert not OdooAction.objects.exists() and not AuditEntry.objects.exists()
    assert notes(odoo.state, ticket.odoo_id) == []
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == ticket.assignee_id


def test_accept_through_the_view_queues_the_action_and_odoo_gets_it(odoo, ticket, team_lead, escalation):
    client = csrf_client(team_lead)
    response = post_with_csrf(client, reverse("action-accept", args=[ticket.pk]),
                              {"seen_write_date": ticket.odoo_write_date.isoformat()}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"You took this ticket" in response.content
    assert b"Pending" in response.content
    assert drain() == [OdooAction.State.SENT]
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == team_lead.profile.agent.pk


def test_a_plain_form_post_redirects_with_a_message(ticket, team_lead):
    client = csrf_client(team_lead)
    response = post_with_csrf(client, reverse("action-note", args=[ticket.pk]), {"body": "hello"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b"Note added" in page.content


def test_a_forged_post_without_the_csrf_token_is_refused(odoo, ticket, team_lead, escalation):
    client = csrf_client(team_lead)
    response = client.post(reverse("action-accept", args=[ticket.pk]), {})
    assert response.status_code == 403
    escalation.refresh_from_db()
    assert escalation.accepted_at is None
    nothing_written(odoo, ticket)


@pytest.mark.parametrize("name, data", [
    ("action-accept", {}), ("action-note", {"body": "sneaky"}), ("action-deescalate", {"reason": "because"}),
    ("action-reassign", {"note": "x"}),
])
def test_a_lead_of_another_team_is_refused_and_nothing_is_written(odoo, ticket, lead, escalation, name, data):
    other_team = Team.objects.exclude(pk=ticket.team_id).first()
    make_lead(lead, teams=[other_team], agent=free_agent(ticket.assignee))
    response = post_with_csrf(csrf_client(lead), reverse(name, args=[ticket.pk]), data)
    assert response.status_code == 403
    escalation.refresh_from_db()
    assert escalation.is_open and escalation.accepted_at is None
    nothing_written(odoo, ticket)


def test_a_user_without_a_role_only_reads(odoo, ticket, outsider, escalation):
    response = post_with_csrf(csrf_client(outsider), reverse("action-note", args=[ticket.pk]), {"body": "hi"})
    assert response.status_code == 403
    nothing_written(odoo, ticket)


def test_get_is_not_allowed_and_anonymous_posts_go_to_the_login(client, ticket):
    assert client.get(reverse("action-accept", args=[ticket.pk])).status_code == 405
    response = client.post(reverse("action-accept", args=[ticket.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("name, data", [
    ("action-accept", {"seen_write_date": "yesterday-ish"}),
    ("action-reassign", {"agent": "999999"}),
    ("action-escalate", {"level": "abc", "reason": "x"}),
    ("action-deescalate", {"reason": ""}),
    ("action-note", {"body": ""}),
])
def test_bad_input_is_a_400_with_a_message_not_a_500(odoo, ticket, team_lead, escalation, name, data):
    response = post_with_csrf(csrf_client(team_lead), reverse(name, args=[ticket.pk]), data,
                              HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and b"Please check the form" in response.content
    nothing_written(odoo, ticket)


def test_unknown_ticket_is_a_404(team_lead):
    response = post_with_csrf(csrf_client(team_lead), reverse("action-note", args=[1_000_000]), {"body": "x"})
    assert response.status_code == 404


def test_the_second_lead_is_told_who_took_the_ticket(ticket, team_lead, outsider, escalation):
    second = make_lead(outsider, teams=[ticket.team],
                       agent=free_agent(ticket.assignee, team_lead.profile.agent))
    post_with_csrf(csrf_client(team_lead), reverse("action-accept", args=[ticket.pk]), {})
    response = post_with_csrf(csrf_client(second), reverse("action-accept", args=[ticket.pk]), {},
                              HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and b"Lena Lead has already accepted" in response.content
    assert OdooAction.objects.count() == 1


def test_escalate_to_a_level_of_another_teams_policy_is_refused(ticket, team_lead):
    foreign = EscalationPolicyFactory(team=Team.objects.exclude(pk=ticket.team_id).first()).levels.first()
    response = post_with_csrf(csrf_client(team_lead), reverse("action-escalate", args=[ticket.pk]),
                              {"level": foreign.pk, "reason": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and not Escalation.objects.exists() and not OdooAction.objects.exists()


def test_confirm_and_cancel_of_a_stale_action(odoo, ticket, team_lead):
    client = csrf_client(team_lead)
    post_with_csrf(client, reverse("action-reassign", args=[ticket.pk]),
                   {"agent": team_lead.profile.agent.pk, "seen_write_date": "2000-01-01T00:00:00Z"})
    assert drain() == [OdooAction.State.STALE]
    action = OdooAction.objects.get()
    response = post_with_csrf(client, reverse("action-confirm", args=[action.pk]), {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert drain() == [OdooAction.State.SENT]
    response = post_with_csrf(client, reverse("action-cancel", args=[action.pk]), {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and b"Too late" in response.content


def test_the_ticket_list_shows_actions_still_pending_in_odoo(ticket, team_lead):
    client = csrf_client(team_lead)
    post_with_csrf(client, reverse("action-note", args=[ticket.pk]), {"body": "later"})
    page = client.get(reverse("tickets"))
    assert b"Note: Pending" in page.content
