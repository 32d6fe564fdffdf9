"""The queue's read model (escalations.queue): urgency order, counts, filters, the second tab."""

from datetime import timedelta

import pytest

from escalations.models import OdooAction, TicketClock, Trigger
from escalations.queue import QueueFilters, at_risk_not_escalated, escalation_queue, queue_row
from escalations.sla import AT_RISK, BREACHED, NO_SLA, ON_TRACK
from tests.conftest import T0
from tests.factories import (
    AgentFactory,
    EscalationPolicyFactory,
    ProfileFactory,
    TicketClockFactory,
    UserFactory,
)
from tests.queue_helpers import escalated

pytestmark = pytest.mark.django_db


def refs(queue):
    return [row.ticket.reference for row in queue.rows]


def test_most_urgent_first_breached_then_least_time_left_and_no_sla_last(level1):
    on_track = escalated(level1, left=timedelta(hours=5), reference="ON")
    none = escalated(level1, left=None, reference="NONE")
    late = escalated(level1, left=timedelta(minutes=-90), reference="LATE")
    later = escalated(level1, left=timedelta(minutes=-5), reference="LATER")
    risky = escalated(level1, left=timedelta(minutes=30), reference="RISK")

    queue = escalation_queue(now=T0)

    assert refs(queue) == ["LATE", "LATER", "RISK", "ON", "NONE"]
    assert [row.sla for row in queue.rows] == [BREACHED, BREACHED, AT_RISK, ON_TRACK, NO_SLA]
    assert queue.counts == {"total": 5, "unassigned": 0, "unaccepted": 5, BREACHED: 2, AT_RISK: 1,
                            ON_TRACK: 1, "paused": 0, NO_SLA: 1}
    assert queue.rows[0].waiting_since == late.raised_at
    assert {on_track.pk, none.pk, later.pk, risky.pk} < {row.escalation.pk for row in queue.rows}


def test_filters_by_team_level_state_and_mine(level1, policy):
    level2 = policy.levels.get(number=2)
    other_level = EscalationPolicyFactory().levels.get(number=1)
    me = UserFactory()
    profile = ProfileFactory(user=me)
    level2.members.add(me)
    escalated(level1, left=timedelta(minutes=-1), reference="A")  # breached, level 1
    escalated(level2, left=timedelta(minutes=10), reference="B")  # at risk, level 2, waiting for me
    escalated(other_level, left=timedelta(hours=4), reference="C", assignee=profile.agent)  # mine: assigned
    escalated(other_level, left=timedelta(hours=4), reference="D", accepted_by=me)  # mine: I accepted
    escalated(level1, left=timedelta(hours=4), reference="E", accepted_by=UserFactory())

    assert refs(escalation_queue(now=T0, filters=QueueFilters(team_id=policy.team_id))) == ["A", "B", "E"]
    assert refs(escalation_queue(now=T0, filters=QueueFilters(level=2))) == ["B"]
    by_state = escalation_queue(now=T0, filters=QueueFilters(sla=BREACHED))
    assert refs(by_state) == ["A"] and by_state.total == 1 and by_state.counts["total"] == 5
    assert sorted(refs(escalation_queue(now=T0, filters=QueueFilters(mine=True), user=me))) == ["B", "C", "D"]
    assert refs(escalation_queue(now=T0, team_ids=[other_level.policy.team_id])) == ["C", "D"]


def test_counts_cover_every_row_while_the_page_is_limited(level1):
    for minutes in range(12):
        escalated(level1, left=timedelta(minutes=minutes * 20 - 60), assignee=None)
    first = escalation_queue(now=T0, limit=5)
    second = escalation_queue(now=T0, limit=5, offset=5)
    assert len(first.rows) == 5 and first.counts["total"] == 12 and first.total == 12
    assert first.rows[-1].deadline <= second.rows[0].deadline


def test_the_version_changes_with_what_is_shown_not_with_time(level1, lead):
    escalation = escalated(level1)
    before = escalation_queue(now=T0).version
    assert escalation_queue(now=T0 + timedelta(seconds=30)).version == before
    escalation.accepted_by, escalation.accepted_at = lead, T0
    escalation.save()
    assert escalation_queue(now=T0).version != before


def test_at_risk_tab_lists_tickets_at_risk_that_no_escalation_covers(level1):
    escalated(level1, left=timedelta(minutes=10), reference="ESCALATED")
    at_risk = TicketClockFactory(deadline=T0 + timedelta(minutes=20)).ticket
    breached = TicketClockFactory(deadline=T0 - timedelta(minutes=20)).ticket
    TicketClockFactory(deadline=T0 + timedelta(hours=5))  # on track: not listed

    queue = at_risk_not_escalated(now=T0)

    assert [row.ticket.pk for row in queue.rows] == [breached.pk, at_risk.pk]
    assert [row.sla for row in queue.rows] == [BREACHED, AT_RISK] and queue.rows[0].escalation is None
    assert queue.counts["total"] == 2


def test_the_at_risk_tab_leaves_out_a_ticket_odoo_no_longer_shows_the_console(level1):
    hidden = TicketClockFactory(deadline=T0 - timedelta(minutes=20)).ticket
    shown = TicketClockFactory(deadline=T0 - timedelta(minutes=10)).ticket
    hidden.invisible_since = T0 - timedelta(hours=1)
    hidden.save()

    queue = at_risk_not_escalated(now=T0)

    assert [row.ticket.pk for row in queue.rows] == [shown.pk] and queue.counts["total"] == 1


def test_one_row_for_a_ticket_with_or_without_an_open_escalation(level1):
    escalation = escalated(level1, left=timedelta(minutes=-3))
    row = queue_row(escalation.ticket_id, now=T0)
    assert row.escalation == escalation and row.sla == BREACHED
    escalation.ended_at = T0
    escalation.save()
    assert queue_row(escalation.ticket_id, now=T0).escalation is None
    assert queue_row(999_999, now=T0) is None


def raised_for(escalation, trigger, **facts):
    """The escalation as the engine would have raised it for `trigger`, with the facts it stores."""
    escalation.trigger = trigger
    escalation.facts = {key: value.isoformat() for key, value in facts.items()}
    escalation.save()
    return escalation


def only_row(queue):
    assert len(queue.rows) == 1
    return queue.rows[0]


@pytest.mark.parametrize("trigger, fact", [
    (Trigger.SLA_BREACHED, "deadline"), (Trigger.SLA_AT_RISK, "at_risk_at"),
    (Trigger.NO_UPDATE, "last_update"), (Trigger.UNASSIGNED, "created_at"), (Trigger.REOPENED, "reopened_at"),
])
def test_attention_counts_from_the_moment_the_trigger_fired_for_and_the_level_apart(level1, trigger, fact):
    # Breached three days ago, noticed (raised) five minutes ago, moved to its level a minute ago.
    escalation = escalated(level1, left=timedelta(days=-3), raised=T0 - timedelta(minutes=5))
    escalation.level_since = T0 - timedelta(minutes=1)
    raised_for(escalation, trigger, **{fact: T0 - timedelta(days=3)})

    row = only_row(escalation_queue(now=T0))

    assert row.attention_since == T0 - timedelta(days=3)
    assert row.at_level_since == T0 - timedelta(minutes=1)


def test_attention_of_a_manual_escalation_counts_from_when_it_was_raised(level1):
    escalated(level1, raised=T0 - timedelta(minutes=20))
    assert only_row(escalation_queue(now=T0)).attention_since == T0 - timedelta(minutes=20)


def test_a_row_raised_for_its_sla_says_when_its_sla_changed_since(level1):
    breached_at = T0 - timedelta(hours=2)
    still = raised_for(escalated(level1, left=-timedelta(hours=2), reference="STILL"), Trigger.SLA_BREACHED,
                       deadline=breached_at)
    moved = raised_for(escalated(level1, left=timedelta(hours=5), reference="MOVED"), Trigger.SLA_BREACHED,
                       deadline=breached_at)
    met = raised_for(escalated(level1, left=None, reference="MET"), Trigger.SLA_BREACHED,
                     deadline=breached_at)
    TicketClock.objects.filter(ticket=still.ticket).update(deadline=breached_at)
    manual = escalated(level1, left=timedelta(hours=5), reference="MANUAL")

    rows = {row.ticket.reference: row for row in escalation_queue(now=T0).rows}

    assert rows["STILL"].sla == BREACHED and rows["STILL"].sla_changed == ""
    assert rows["MOVED"].sla == ON_TRACK and rows["MOVED"].sla_changed == "new deadline"
    assert rows["MET"].sla == NO_SLA and rows["MET"].sla_changed == "met"
    assert rows["MANUAL"].sla_changed == ""  # not raised for its SLA: nothing to reconcile
    assert {still.pk, moved.pk, met.pk, manual.pk} == {row.escalation.pk for row in rows.values()}


def test_the_assignee_an_action_on_its_way_sets_shows_until_it_lands(level1):
    escalation = escalated(level1, reference="MOVING")
    target = AgentFactory(name="Zoe Zimmer")
    action = OdooAction.objects.create(
        ticket=escalation.ticket, escalation=escalation, kind=OdooAction.Kind.REASSIGN, created_at=T0,
        state=OdooAction.State.AWAITING_RETRY, payload={"values": {"user_id": target.pk}})
    OdooAction.objects.create(ticket=escalation.ticket, kind=OdooAction.Kind.NOTE, created_at=T0,
                              payload={"values": {}})

    assert only_row(escalation_queue(now=T0)).pending_assignee == "Zoe Zimmer"
    action.state = OdooAction.State.SENT
    action.save()
    assert only_row(escalation_queue(now=T0)).pending_assignee == ""  # in Odoo: the mirror says it
