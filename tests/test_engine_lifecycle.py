"""What people do to an escalation: raise one by hand, accept it, move it, de-escalate it; a double
click or two leads at once change it once, and the loser is told why."""

from datetime import timedelta

import pytest

from escalations.engine import (
    EscalationAlreadyOpen,
    EscalationChanged,
    EscalationError,
    escalation_accept,
    escalation_deescalate,
    escalation_move,
    escalation_raise_manual,
    evaluate_escalations,
)
from escalations.models import EndReason, Escalation, Trigger
from tests.conftest import T0
from tests.factories import ClosedStageFactory, EscalationPolicyFactory, TicketClockFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return EscalationPolicyFactory()


@pytest.fixture
def ticket(policy):
    return TicketFactory(team=policy.team)


def level(policy, number):
    return policy.levels.get(number=number)


@pytest.fixture
def escalation(policy, ticket, agent):
    return escalation_raise_manual(ticket=ticket, level=level(policy, 1), user=agent, reason="VIP", now=T0)


def test_an_agent_escalates_a_ticket_by_hand(policy, ticket, agent):
    escalation = escalation_raise_manual(
        ticket=ticket, level=level(policy, 2), user=agent, reason="Customer threatens to leave", now=T0
    )
    escalation.refresh_from_db()
    assert (escalation.trigger, escalation.level) == (Trigger.MANUAL, level(policy, 2))
    assert escalation.raised_at == T0
    assert escalation.facts == {"reason": "Customer threatens to leave"}
    event = escalation.events.get()
    assert (event.kind, event.actor, event.reason, event.to_level) == (
        "raised", agent, "Customer threatens to leave", level(policy, 2))


def test_escalating_by_hand_is_refused_while_one_is_open(escalation, policy, ticket, lead):
    with pytest.raises(EscalationAlreadyOpen, match="already has an open escalation"):
        escalation_raise_manual(ticket=ticket, level=level(policy, 2), user=lead, reason="again", now=T0)
    assert Escalation.objects.count() == 1


def test_escalating_by_hand_is_refused_when_the_policy_does_not_allow_it(policy, ticket, agent):
    policy.allow_manual = False
    policy.save()
    with pytest.raises(EscalationError, match="does not allow escalation by hand"):
        escalation_raise_manual(ticket=ticket, level=level(policy, 1), user=agent, reason="", now=T0)


def test_escalating_by_hand_is_refused_for_another_teams_level_or_a_closed_ticket(policy, ticket, agent):
    other = EscalationPolicyFactory()
    with pytest.raises(EscalationError, match="another team's"):
        escalation_raise_manual(ticket=ticket, level=level(other, 1), user=agent, reason="", now=T0)
    ticket.stage = ClosedStageFactory()
    ticket.save()
    with pytest.raises(EscalationError, match="closed"):
        escalation_raise_manual(ticket=ticket, level=level(policy, 1), user=agent, reason="", now=T0)


def test_a_lead_accepts_and_a_double_click_changes_nothing(escalation, lead):
    escalation_accept(escalation=escalation, user=lead, now=T0 + timedelta(minutes=1))
    again = escalation_accept(escalation=escalation, user=lead, now=T0 + timedelta(minutes=2))
    assert (again.accepted_by, again.accepted_at) == (lead, T0 + timedelta(minutes=1))
    assert escalation.events.filter(kind="accepted").count() == 1


def test_of_two_leads_accepting_the_second_is_told_who_was_first(escalation, lead, outsider):
    stale_copy = Escalation.objects.get(pk=escalation.pk)
    escalation_accept(escalation=escalation, user=lead, now=T0)
    with pytest.raises(EscalationChanged, match="Lena Lead has already accepted"):
        escalation_accept(escalation=stale_copy, user=outsider, now=T0)
    assert Escalation.objects.get().accepted_by == lead


def test_moving_up_by_hand_resets_acceptance_and_records_both_levels(escalation, policy, lead):
    escalation_accept(escalation=escalation, user=lead, now=T0)
    moved = escalation_move(escalation=escalation, level=level(policy, 2), user=lead, reason="Needs a DBA",
                            now=T0 + timedelta(minutes=5))
    assert (moved.level, moved.accepted_by) == (level(policy, 2), None)
    assert moved.level_since == T0 + timedelta(minutes=5)
    event = moved.events.get(kind="moved_up")
    assert (event.from_level, event.to_level, event.actor, event.reason) == (
        level(policy, 1), level(policy, 2), lead, "Needs a DBA")

    down = escalation_move(escalation=moved, level=level(policy, 1), user=lead, reason="DBA done", now=T0)
    assert down.level == level(policy, 1)
    assert down.events.filter(kind="moved_down").count() == 1


def test_a_move_from_a_stale_page_changes_nothing(escalation, policy, lead, outsider):
    stale_copy = Escalation.objects.get(pk=escalation.pk)
    escalation_move(escalation=escalation, level=level(policy, 2), user=lead, reason="", now=T0)
    with pytest.raises(EscalationChanged, match="now at L2"):
        escalation_move(escalation=stale_copy, level=level(policy, 2), user=outsider, reason="", now=T0)
    assert Escalation.objects.get().events.filter(kind="moved_up").count() == 1


def test_moving_to_a_level_of_another_policy_or_the_same_level_is_refused(escalation, policy, lead):
    with pytest.raises(EscalationError, match="already at"):
        escalation_move(escalation=escalation, level=level(policy, 1), user=lead, reason="", now=T0)
    with pytest.raises(EscalationError, match="not a level of this"):
        escalation_move(escalation=escalation, level=level(EscalationPolicyFactory(), 2), user=lead,
                        reason="", now=T0)


def test_de_escalating_needs_a_reason_and_ends_the_escalation_once(escalation, lead, outsider):
    with pytest.raises(EscalationError, match="Say why"):
        escalation_deescalate(escalation=escalation, user=lead, reason="  ", now=T0)
    stale_copy = Escalation.objects.get(pk=escalation.pk)

    ended = escalation_deescalate(escalation=escalation, user=lead, reason="Solved on the phone", now=T0)
    assert (ended.ended_at, ended.end_reason) == (T0, EndReason.DE_ESCALATED)
    event = ended.events.get(kind="de_escalated")
    assert (event.actor, event.reason, event.from_level) == (lead, "Solved on the phone", ended.level)

    with pytest.raises(EscalationChanged, match="already ended"):
        escalation_deescalate(escalation=stale_copy, user=outsider, reason="me too", now=T0)
    with pytest.raises(EscalationChanged, match="already ended"):
        escalation_accept(escalation=stale_copy, user=outsider, now=T0)
    assert ended.events.count() == 2  # raised, de-escalated


def test_a_lead_accepting_while_the_engine_moves_it_up_gets_a_clear_answer(policy, lead):
    TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(minutes=1))
    evaluate_escalations(now=T0)
    seen = Escalation.objects.get()
    evaluate_escalations(now=T0 + timedelta(minutes=31))  # moved up to level 2 meanwhile
    # Accepting is about the escalation, not the level the lead saw: still open and unaccepted.
    accepted = escalation_accept(escalation=seen, user=lead, now=T0 + timedelta(minutes=32))
    assert (accepted.level, accepted.accepted_by) == (level(policy, 2), lead)
