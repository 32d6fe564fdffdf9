"""Issue 11 §1: Odoo applies a call whose answer never arrives. A retry recognises the action's own effect
(its values already in Odoo, its note's uid in the chatter) and completes it as sent, never stale: every
action kind ends applied exactly once (its values and one note). Cancelling an action that may already
be in Odoo checks Odoo first and never contradicts it."""

from datetime import timedelta

import pytest
from django.urls import reverse

from escalations.actions import (
    Cancel,
    action_accept,
    action_cancel,
    action_deescalate,
    action_escalate,
    action_note,
    action_reassign,
)
from escalations.engine import escalation_raise_manual
from escalations.models import AuditEntry, EscalationEvent, OdooAction, SyncState, Team
from tests.factories import EscalationPolicyFactory
from tests.outbox_helpers import drain, free_agent, notes, odoo_ticket

pytestmark = pytest.mark.django_db
State = OdooAction.State
TICKET = "helpdesk.ticket"
KINDS = ["accept", "reassign", "deescalate", "escalate", "note"]



@pytest.fixture
def policy(ticket):
    policy = EscalationPolicyFactory(team=ticket.team)
    # Escalating and de-escalating move the level's marker in Odoo: a write of their own (a MARK action).
    for number, tag, priority in ((1, "Escalated L1", "2"), (2, "Escalated L2", "3")):
        policy.levels.filter(number=number).update(odoo_tag_name=tag, odoo_priority=priority)
    return policy


@pytest.fixture
def escalation(odoo, policy, ticket, agent):
    escalation = escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=1), user=agent,
                                         reason="VIP")
    # Its level's marker is on the ticket in Odoo, as the engine put it: de-escalating takes it off.
    model = SyncState.load().schema["tag_model"]
    tag = odoo.state.call(model, "create", [{"name": "Escalated L1"}])
    odoo.state.call(TICKET, "write", [[ticket.odoo_id], {"tag_ids": [(4, tag)]}])
    return escalation


def act(kind, *, ticket, lead, policy, escalation, other) -> tuple[OdooAction, dict]:
    """Make the action as the lead would from the page they have open; what Odoo must hold after it.
    De-escalating and escalating write through their marker (a MARK action after the note's)."""
    seen = ticket.odoo_write_date
    if kind == "accept":
        action = action_accept(ticket=ticket, user=lead, seen_write_date=seen)
        return action, {"user_id": lead.profile.agent.pk}
    if kind == "reassign":
        action = action_reassign(ticket=ticket, user=lead, agent=other, note="Knows billing",
                                 seen_write_date=seen)
        return action, {"user_id": other.pk}
    if kind == "deescalate":
        return action_deescalate(escalation=escalation, user=lead, reason="Solved by phone",
                                 seen_write_date=seen), {}
    if kind == "escalate":
        return action_escalate(ticket=ticket, user=lead, level=policy.levels.get(number=2), reason="Angry",
                               seen_write_date=seen), {"priority": "3"}
    return action_note(ticket=ticket, user=lead, body="Called the customer"), {}


def tag_count(odoo, ticket, name: str) -> int:
    model = SyncState.load().schema["tag_model"]
    ids = set(odoo_ticket(odoo.state, ticket.odoo_id, ["tag_ids"])["tag_ids"])
    tags = odoo.state.call(model, "search", [[("name", "=", name)]], {"context": {"active_test": False}})
    return len(tags) if ids & set(tags) else 0


def assert_applied_once(odoo, ticket, action, expected, outcomes):
    assert State.STALE not in outcomes and State.FAILED not in outcomes, outcomes
    assert set(OdooAction.objects.values_list("state", flat=True)) == {State.SENT}
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1
    assert len(notes(odoo.state, ticket.odoo_id)) == 1  # no other note either (markers post none)
    remote = odoo_ticket(odoo.state, ticket.odoo_id, ["user_id", "priority"])
    for field, value in expected.items():
        held = remote[field][0] if field == "user_id" else remote[field]
        assert held == value, (field, remote)
    assert set(AuditEntry.objects.filter(action=action).values_list("outcome", flat=True)) == {
        AuditEntry.Outcome.APPLIED}


# A note alone writes no field: only its message_post can lose an answer.
LOSSES = [(kind, method) for kind in KINDS for method in ("write", "message_post")
          if (kind, method) != ("note", "write")]


@pytest.mark.parametrize("kind, method", LOSSES, ids=[f"{k}-lost-{m}-answer" for k, m in LOSSES])
def test_each_action_after_a_lost_answer_is_applied_once_and_never_stale(
    odoo, ticket, team_lead, policy, escalation, kind, method
):
    other = free_agent(ticket.assignee, team_lead.profile.agent)
    action, expected = act(kind, ticket=ticket, lead=team_lead, policy=policy, escalation=escalation,
                           other=other)
    odoo.state.clock.advance(timedelta(minutes=1))  # the lead acts a minute after the page was loaded
    odoo.faults.set("lose_answer", methods=[method], times=1)

    outcomes = drain()

    assert State.AWAITING_RETRY in outcomes and odoo.faults.active() is None  # an answer was lost
    assert_applied_once(odoo, ticket, action, expected, outcomes)
    if kind == "escalate":
        assert tag_count(odoo, ticket, "Escalated L2") == 1
    if kind == "deescalate":
        assert tag_count(odoo, ticket, "Escalated L1") == 0


@pytest.mark.parametrize("simulator", [("oca", 17)], indirect=True, ids=["oca-17"])
def test_a_retry_of_a_write_odoo_changed_is_changed_by_odoo_not_stale(odoo, ticket, team_lead):
    team = Team.objects.exclude(pk=ticket.team_id).order_by("pk").first()
    odoo.state.call("helpdesk.ticket.team", "write", [[team.pk], {"user_ids": [(3, ticket.assignee_id)]}])
    action = action_reassign(ticket=ticket, user=team_lead, team=team, seen_write_date=ticket.odoo_write_date)
    odoo.faults.set("lose_answer", methods=["write"], times=1)

    assert drain() == [State.AWAITING_RETRY, State.CHANGED]
    action.refresh_from_db()
    assert action.last_error.startswith(f"Odoo took {ticket.assignee.name} off the ticket")
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1


# -- cancel --------------------------------------------------------------------------------------------


def test_cancelling_an_accept_odoo_already_holds_completes_it_and_keeps_the_acceptance(
    odoo, client, ticket, team_lead, escalation
):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    odoo.faults.set("lose_answer", methods=["write"], times=1)
    assert drain(rounds=1) == [State.AWAITING_RETRY]

    client.force_login(team_lead)
    client.get(reverse("tickets"))
    response = client.post(reverse("action-cancel", args=[action.pk]), {"render": "row"},
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "nothing will be written" not in html
    assert "An earlier attempt may already have reached Odoo" in html

    assert drain() == [State.SENT]
    action.refresh_from_db()
    assert action.last_error == "Odoo already held it when it was cancelled, so it stands."
    assert AuditEntry.objects.get(action=action).outcome == AuditEntry.Outcome.APPLIED
    escalation.refresh_from_db()
    assert escalation.accepted_by == team_lead  # Odoo assigned it to them: the acceptance stands
    assert not escalation.events.filter(kind=EscalationEvent.Kind.ACCEPT_UNDONE).exists()
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == team_lead.profile.agent.pk
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1


def test_cancelling_an_accept_odoo_no_longer_holds_cancels_it_and_gives_the_escalation_back(
    odoo, ticket, team_lead, escalation
):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    odoo.faults.set("lose_answer", methods=["write"], times=1)
    assert drain(rounds=1) == [State.AWAITING_RETRY]
    # Meanwhile someone in Odoo gives the ticket back to its assignee: Odoo holds nothing of the action.
    odoo.state.call(TICKET, "write", [[ticket.odoo_id], {"user_id": ticket.assignee_id}])

    assert action_cancel(action=action, user=team_lead) == Cancel.CHECKING
    escalation.refresh_from_db()
    assert escalation.accepted_by == team_lead  # not before Odoo was checked

    assert drain() == [State.CANCELLED]
    action.refresh_from_db()
    assert "Odoo did not hold it" in action.last_error
    assert AuditEntry.objects.get(action=action).outcome == AuditEntry.Outcome.CANCELLED
    escalation.refresh_from_db()
    assert escalation.accepted_by is None
    undone = escalation.events.get(kind=EscalationEvent.Kind.ACCEPT_UNDONE)
    assert undone.actor == team_lead and "Odoo did not hold it" in undone.reason
    assert notes(odoo.state, ticket.odoo_id) == []


def test_cancelling_while_odoo_cannot_be_reached_waits_to_check_it(odoo, ticket, team_lead, escalation):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    odoo.faults.set("lose_answer", methods=["write"], times=1)
    assert drain(rounds=1) == [State.AWAITING_RETRY]
    odoo.faults.set("refuse")
    assert action_cancel(action=action, user=team_lead) == Cancel.CHECKING
    assert drain(rounds=1) == [State.AWAITING_RETRY]
    action.refresh_from_db()
    assert action.last_error.startswith("Cancelling: an earlier attempt may already have reached Odoo")
    escalation.refresh_from_db()
    assert escalation.accepted_by == team_lead

    odoo.faults.clear()
    assert drain() == [State.SENT]  # Odoo held it
