"""The engine's markers in Odoo: every raise, move up and end at a level with a marker queues one MARK
outbox row in the same step (set-based), which the outbox then writes in Odoo; a level may not use the
policy's escalation tag as its marker."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.engine import evaluate_escalations
from escalations.models import EndReason, Escalation, OdooAction, SyncState, Ticket
from escalations.sync.run import sync_odoo
from tests.conftest import T0
from tests.factories import ClosedStageFactory, EscalationPolicyFactory, TicketClockFactory
from tests.outbox_helpers import a_ticket, drain, notes, odoo_ticket

pytestmark = pytest.mark.django_db
MARK = OdooAction.Kind.MARK


def level(policy, number):
    return policy.levels.get(number=number)


def set_marker(level, tag="", priority=""):
    level.odoo_tag_name, level.odoo_priority = tag, priority
    level.save()
    return level


def with_markers(policy, l2_tag="Escalated L2", l2_priority="3"):
    set_marker(level(policy, 1), "Escalated L1", "2")
    set_marker(level(policy, 2), l2_tag, l2_priority)
    return policy


def marks() -> list[dict]:
    return [a.payload["mark"] for a in OdooAction.objects.filter(kind=MARK).order_by("pk")]


def breached(policy):
    return TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(minutes=10)).ticket


# -- queued by the engine -----------------------------------------------------------------------------


def test_a_raise_a_move_up_and_an_end_each_queue_the_marker_change():
    policy = with_markers(EscalationPolicyFactory())
    ticket = breached(policy)

    evaluate_escalations(now=T0)
    escalation = Escalation.objects.get()
    action = OdooAction.objects.get(kind=MARK)
    assert marks() == [{"add": "Escalated L1", "remove": "", "priority": "2"}]
    assert (action.ticket, action.escalation, action.created_by) == (ticket, escalation, None)
    assert (action.state, action.created_at, action.next_attempt_at) == (OdooAction.State.QUEUED, T0, T0)
    assert action.action_uid and action.payload.get("note") is None  # a marker posts no note

    evaluate_escalations(now=T0 + timedelta(minutes=31))  # nobody accepted: up to L2
    assert marks()[1] == {"add": "Escalated L2", "remove": "Escalated L1", "priority": "3"}

    ticket.stage = ClosedStageFactory()
    ticket.save()
    evaluate_escalations(now=T0 + timedelta(minutes=32))  # solved: the tag comes off, the priority stays
    assert marks()[2] == {"add": "", "remove": "Escalated L2", "priority": ""}
    assert len({a.action_uid for a in OdooAction.objects.all()}) == 3
    assert evaluate_escalations(now=T0 + timedelta(minutes=33)).counts() == {"raised": 0, "moved_up": 0,
                                                                              "ended": 0}
    assert OdooAction.objects.count() == 3


def test_levels_without_a_marker_queue_nothing():
    policy = EscalationPolicyFactory()
    ticket = breached(policy)
    evaluate_escalations(now=T0)
    evaluate_escalations(now=T0 + timedelta(minutes=31))
    ticket.stage = ClosedStageFactory()
    ticket.save()
    assert evaluate_escalations(now=T0 + timedelta(minutes=32)).ended == 1
    assert not OdooAction.objects.exists()


def test_moving_up_to_a_level_without_a_tag_takes_the_old_one_off():
    policy = with_markers(EscalationPolicyFactory(), l2_tag="", l2_priority="")
    breached(policy)
    evaluate_escalations(now=T0)
    evaluate_escalations(now=T0 + timedelta(minutes=31))
    assert marks() == [{"add": "Escalated L1", "remove": "", "priority": "2"},
                       {"add": "", "remove": "Escalated L1", "priority": ""}]


def test_a_level_with_only_a_priority_is_marked_and_its_end_changes_nothing():
    policy = EscalationPolicyFactory()
    set_marker(level(policy, 1), priority="3")
    ticket = breached(policy)
    evaluate_escalations(now=T0)
    Ticket.objects.filter(pk=ticket.pk).update(stage=ClosedStageFactory())
    assert evaluate_escalations(now=T0 + timedelta(minutes=1)).ended == 1
    assert marks() == [{"add": "", "remove": "", "priority": "3"}]  # the priority is never lowered


def test_no_marker_is_taken_off_a_ticket_deleted_in_odoo():
    policy = with_markers(EscalationPolicyFactory())
    ticket = breached(policy)
    evaluate_escalations(now=T0)
    Ticket.objects.filter(pk=ticket.pk).update(deleted_at=T0)

    assert evaluate_escalations(now=T0 + timedelta(minutes=1)).ended == 1
    assert Escalation.objects.get().end_reason == EndReason.DELETED
    assert len(marks()) == 1  # only the raise's: the ticket is gone, there is nothing to take off


# -- the marker tag is not the trigger tag ------------------------------------------------------------


def test_a_level_refuses_the_policys_escalation_tag_as_its_marker():
    policy = EscalationPolicyFactory(escalate_tag="Escalate")
    first = level(policy, 1)
    first.odoo_tag_name = "  escalate "
    with pytest.raises(ValidationError) as refused:
        first.full_clean()
    assert "is the tag that escalates a ticket" in str(refused.value.message_dict["odoo_tag_name"])

    first.odoo_tag_name = " Escalated L1 "
    first.full_clean()
    assert first.odoo_tag_name == "Escalated L1"  # trimmed, as Odoo trims a tag's name


# -- end to end: the engine's markers written in Odoo ----------------------------------------------------


def _tag_names(state, ticket_id) -> set[str]:
    ids = odoo_ticket(state, ticket_id, ["tag_ids"])["tag_ids"]
    return {row["name"] for row in state.call(SyncState.load().schema["tag_model"], "read", [ids, ["name"]])}


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("enterprise", 19)], indirect=True,
                         ids=["jsonrpc", "json2"])
def test_the_engines_markers_reach_odoo_and_follow_the_escalation(odoo):
    sync_odoo(full=True)
    ticket = a_ticket()
    policy = with_markers(EscalationPolicyFactory(
        team=ticket.team, on_sla_at_risk=False, on_sla_breached=False, on_reopened=False,
    ))
    state, model = odoo.state, SyncState.load().schema["tag_model"]
    [trigger_tag] = state.call(model, "search", [[("name", "=", "Escalate")]])
    # Each step a minute apart in Odoo: the sync tells writes apart by write_date, to the second.
    state.clock.advance(timedelta(minutes=1))
    state.call("helpdesk.ticket", "write", [[ticket.odoo_id], {"tag_ids": [(4, trigger_tag)],
                                                                "priority": "0"}])
    sync_odoo()
    before = _tag_names(state, ticket.odoo_id)
    now = timezone.now()

    evaluate_escalations(now=now)  # the agent's "Escalate" tag raises it at L1
    escalation = Escalation.objects.get(ticket=ticket)
    assert OdooAction.objects.filter(escalation=escalation, kind=MARK).count() == 1
    state.clock.advance(timedelta(minutes=1))
    assert set(drain()) == {OdooAction.State.SENT}
    assert _tag_names(state, ticket.odoo_id) == before | {"Escalated L1"}
    assert odoo_ticket(state, ticket.odoo_id)["priority"] == "2"
    assert notes(state, ticket.odoo_id) == []  # no chatter note for a marker

    evaluate_escalations(now=now + timedelta(minutes=31))  # not accepted in time: up to L2
    state.clock.advance(timedelta(minutes=1))
    drain()
    assert _tag_names(state, ticket.odoo_id) == before | {"Escalated L2"}
    assert odoo_ticket(state, ticket.odoo_id)["priority"] == "3"

    policy.active = False
    policy.save()
    evaluate_escalations(now=now + timedelta(minutes=32))  # out of scope: ended, the tag comes off
    state.clock.advance(timedelta(minutes=1))
    drain()
    assert _tag_names(state, ticket.odoo_id) == before
    assert odoo_ticket(state, ticket.odoo_id)["priority"] == "3"
    assert len(state.call(model, "search", [[("name", "=", "Escalated L1")]])) == 1

    sync_odoo()
    mirrored = Ticket.objects.get(pk=ticket.pk)
    assert {t.name for t in mirrored.tags.all()} == before and mirrored.priority == "3"
