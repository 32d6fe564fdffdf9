"""When Odoo refuses an action for good, the action fails with Odoo's reason and the console takes back
its own part of it: an acceptance is undone (with an event saying why), nothing else is; the next sync
shows the ticket as Odoo holds it."""

from datetime import timedelta

import pytest

from escalations.actions import action_accept, action_deescalate, action_escalate, action_reassign
from escalations.engine import escalation_accept, escalation_move, evaluate_escalations
from escalations.models import AuditEntry, EndReason, Escalation, EscalationEvent, OdooAction, Team, Ticket
from escalations.outbox.send import outbox_send
from escalations.sync.run import sync_odoo
from tests.outbox_helpers import free_agent, level_member_who_accepts_by_reassign, odoo_ticket

pytestmark = pytest.mark.django_db
State = OdooAction.State
Kind = EscalationEvent.Kind


def history(escalation) -> list[str]:
    return list(escalation.events.order_by("at", "id").values_list("kind", flat=True))


def _forbid(odoo, ticket, lead):
    odoo.state.forbid("console@example.com", "helpdesk.ticket")


def _delete_ticket(odoo, ticket, lead):
    odoo.state.delete_ticket(ticket.odoo_id)


def _reject_writes(odoo, ticket, lead):
    odoo.faults.set("fail_writes")


def _delete_leads_odoo_user(odoo, ticket, lead):
    odoo.state.call("res.users", "unlink", [[lead.profile.agent.pk]])


@pytest.mark.parametrize("break_odoo, reason", [
    (_forbid, "may not change this ticket"),
    (_delete_ticket, "no longer exists in Odoo"),
    (_reject_writes, "Odoo rejected the change: another change to the same"),
    (_delete_leads_odoo_user, "Odoo rejected the change: The operation cannot be completed"),
], ids=["access-denied", "ticket-deleted", "rejected", "user-gone"])
def test_an_accept_odoo_refuses_is_undone_with_odoos_reason(odoo, ticket, team_lead, escalation, break_odoo,
                                                            reason):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    escalation.refresh_from_db()
    assert escalation.accepted_by == team_lead
    break_odoo(odoo, ticket, team_lead)

    assert outbox_send(action.pk) == State.FAILED

    action.refresh_from_db()
    assert reason in action.last_error
    assert AuditEntry.objects.get(action=action).outcome == AuditEntry.Outcome.FAILED
    escalation.refresh_from_db()
    assert escalation.is_open and (escalation.accepted_at, escalation.accepted_by) == (None, None)
    # Append-only: the acceptance stays in the history, and its undoing is added after it.
    assert history(escalation) == [Kind.RAISED, Kind.ACCEPTED, Kind.ACCEPT_UNDONE]
    undone = escalation.events.get(kind=Kind.ACCEPT_UNDONE)
    assert undone.reason == action.last_error and undone.actor is None and undone.rule == "Odoo refused"
    assert undone.facts == {"action": str(action.action_uid), "kind": "accept"}
    assert undone.get_kind_display() == "Acceptance undone"


def test_an_acceptance_overtaken_meanwhile_is_left_alone(odoo, ticket, team_lead, policy, escalation, agent):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    # Meanwhile the escalation moved up (which clears the acceptance) and someone at L2 accepted it.
    escalation_move(escalation=escalation, level=policy.levels.get(number=2), user=agent, reason="Hard")
    escalation_accept(escalation=escalation, user=agent)
    odoo.faults.set("fail_writes")

    assert outbox_send(action.pk) == State.FAILED
    escalation.refresh_from_db()
    assert escalation.accepted_by == agent and escalation.level.number == 2
    assert not escalation.events.filter(kind=Kind.ACCEPT_UNDONE).exists()


def test_a_refused_accept_of_an_escalation_that_ended_meanwhile_changes_nothing(odoo, ticket, team_lead,
                                                                                escalation):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    Escalation.objects.filter(pk=escalation.pk).update(ended_at=ticket.odoo_write_date,
                                                       end_reason=EndReason.SOLVED)
    odoo.faults.set("fail_writes")
    assert outbox_send(action.pk) == State.FAILED
    escalation.refresh_from_db()
    assert escalation.accepted_by == team_lead  # an ended escalation's history is not rewritten
    assert not escalation.events.filter(kind=Kind.ACCEPT_UNDONE).exists()


def test_a_reassign_that_accepted_for_a_level_member_is_undone_when_odoo_refuses(
    odoo, ticket, team_lead, policy, escalation, agent
):
    member_agent = level_member_who_accepts_by_reassign(policy, agent, ticket=ticket, lead=team_lead)
    action = action_reassign(ticket=ticket, user=team_lead, agent=member_agent)
    escalation.refresh_from_db()
    assert escalation.accepted_by == agent
    odoo.state.forbid("console@example.com", "helpdesk.ticket")

    assert outbox_send(action.pk) == State.FAILED
    escalation.refresh_from_db()
    assert escalation.accepted_at is None
    assert escalation.events.get(kind=Kind.ACCEPT_UNDONE).facts["kind"] == "reassign"


def test_after_a_failed_reassign_the_next_sync_leaves_the_mirror_matching_odoo(odoo, ticket, team_lead,
                                                                               escalation):
    other_agent = free_agent(ticket.assignee, team_lead.profile.agent)
    other_team = Team.objects.exclude(pk=ticket.team_id).filter(active=True).first()
    action = action_reassign(ticket=ticket, user=team_lead, agent=other_agent, team=other_team,
                             seen_write_date=ticket.odoo_write_date)
    odoo.faults.set("fail_writes")
    assert outbox_send(action.pk) == State.FAILED
    odoo.faults.clear()
    # Meanwhile an agent in Odoo gives the ticket to someone else again (a minute later, to the second).
    third = free_agent(ticket.assignee, team_lead.profile.agent, other_agent)
    odoo.state.clock.advance(timedelta(minutes=1))
    odoo.state.call("helpdesk.ticket", "write", [[ticket.odoo_id], {"user_id": third.pk}])

    sync_odoo()

    remote = odoo_ticket(odoo.state, ticket.odoo_id)
    mirrored = Ticket.objects.get(pk=ticket.pk)
    assert (mirrored.assignee_id, mirrored.team_id) == (remote["user_id"][0], remote["team_id"][0])
    assert (mirrored.assignee_id, mirrored.team_id) == (third.pk, ticket.team_id)
    escalation.refresh_from_db()
    assert escalation.is_open and history(escalation) == [Kind.RAISED]  # nothing to undo: no acceptance


def test_a_refused_de_escalation_by_hand_stands(odoo, ticket, team_lead, escalation):
    action = action_deescalate(escalation=escalation, user=team_lead, reason="Customer is happy")
    odoo.state.forbid("console@example.com", "helpdesk.ticket")
    assert outbox_send(action.pk) == State.FAILED
    escalation.refresh_from_db()
    assert escalation.end_reason == EndReason.DE_ESCALATED  # the lead's decision is the console's own
    assert history(escalation) == [Kind.RAISED, Kind.DE_ESCALATED]


def test_an_escalation_by_hand_on_a_ticket_deleted_in_odoo_is_ended_by_the_next_sync(odoo, ticket, team_lead,
                                                                                    policy):
    policy.levels.filter(number=1).update(odoo_tag_name="Escalated L1")
    escalate = action_escalate(ticket=ticket, user=team_lead, level=policy.levels.get(number=1), reason="VIP")
    mark = OdooAction.objects.get(kind=OdooAction.Kind.MARK)
    odoo.state.delete_ticket(ticket.odoo_id)

    assert outbox_send(escalate.pk) == State.FAILED
    assert outbox_send(mark.pk) == State.FAILED  # the failure before it does not hold it up
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.is_open  # not undone: the next sync finds the ticket gone, and the engine ends it

    sync_odoo()
    result = evaluate_escalations()
    escalation.refresh_from_db()
    assert result.ended_ids == [escalation.pk] and escalation.end_reason == EndReason.DELETED
    # No marker to take off a ticket that is gone (other tickets of the team were raised meanwhile).
    assert OdooAction.objects.filter(ticket=ticket, kind=OdooAction.Kind.MARK).count() == 1


def test_a_lead_cancelling_a_stale_accept_gives_the_escalation_back(odoo, ticket, team_lead, escalation):
    from escalations.actions import Cancel, action_cancel
    from tests.outbox_helpers import drain

    action = action_accept(ticket=ticket, user=team_lead,
                           seen_write_date=ticket.odoo_write_date - timedelta(hours=1))
    assert drain() == [State.STALE]
    assert action_cancel(action=action, user=team_lead) == Cancel.DONE

    escalation.refresh_from_db()
    assert escalation.is_open and escalation.accepted_by is None
    undone = escalation.events.get(kind=Kind.ACCEPT_UNDONE)
    assert undone.actor == team_lead and undone.rule == "" and "not written to Odoo" in undone.reason
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == ticket.assignee_id
