"""A lead's escalate and de-escalate move the level's marker in Odoo (a tag and a priority), through the
outbox, on every helpdesk flavour; the tag is found or created once, whatever the timing, and the
priority is only ever raised."""

import time
from datetime import timedelta

import pytest

from escalations.actions import action_accept, action_deescalate, action_escalate, action_note
from escalations.models import Escalation, OdooAction, SyncState, Ticket
from escalations.outbox.send import outbox_send
from escalations.sync.run import sync_odoo
from tests.conftest import FLAVOURS, JSON2_FLAVOURS
from tests.factories import EscalationPolicyFactory
from tests.outbox_helpers import a_ticket, drain, free_agent, make_lead, notes, odoo_ticket

pytestmark = pytest.mark.django_db
State = OdooAction.State
MARK = OdooAction.Kind.MARK


def with_markers(policy):
    for number, tag, priority in ((1, "Escalated L1", "2"), (2, "Escalated L2", "3")):
        policy.levels.filter(number=number).update(odoo_tag_name=tag, odoo_priority=priority)
    return policy


@pytest.fixture
def marked(policy):
    return with_markers(policy)


def tag_model() -> str:
    return SyncState.load().schema["tag_model"]


def tag_names(state, ticket_id) -> set[str]:
    ids = odoo_ticket(state, ticket_id, ["tag_ids"])["tag_ids"]
    return {row["name"] for row in state.call(tag_model(), "read", [ids, ["name"]])}


def tags_named(state, name) -> list[int]:
    return state.call(tag_model(), "search", [[("name", "=ilike", name)]],
                      {"context": {"active_test": False}})


def set_in_odoo(odoo, ticket, values):
    # A minute on, so that the sync tells this write from the next (write_date is to the second).
    odoo.state.clock.advance(timedelta(minutes=1))
    odoo.state.call("helpdesk.ticket", "write", [[ticket.odoo_id], values])


@pytest.mark.parametrize("simulator", FLAVOURS + JSON2_FLAVOURS, indirect=True,
                         ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_the_marker_follows_the_escalation_by_hand_on_each_helpdesk(odoo, lead):
    sync_odoo(full=True)
    ticket = a_ticket()
    policy = with_markers(EscalationPolicyFactory(team=ticket.team))
    team_lead = make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))
    set_in_odoo(odoo, ticket, {"priority": "0"})
    before = tag_names(odoo.state, ticket.odoo_id)
    level1, level2 = policy.levels.get(number=1), policy.levels.get(number=2)

    escalate = action_escalate(ticket=ticket, user=team_lead, level=level1, reason="Key account")
    mark = OdooAction.objects.get(kind=MARK)
    assert (mark.escalation, mark.created_by, mark.pk > escalate.pk) == (escalate.escalation, team_lead, True)
    assert drain() == [State.SENT, State.SENT]
    assert tag_names(odoo.state, ticket.odoo_id) == before | {"Escalated L1"}
    assert odoo_ticket(odoo.state, ticket.odoo_id)["priority"] == "2"
    assert len(notes(odoo.state, ticket.odoo_id)) == 1  # the lead's note; the marker posts none

    odoo.state.clock.advance(timedelta(minutes=1))
    action_escalate(ticket=ticket, user=team_lead, level=level2, reason="Needs a specialist")
    assert drain() == [State.SENT, State.SENT]
    assert tag_names(odoo.state, ticket.odoo_id) == before | {"Escalated L2"}
    assert odoo_ticket(odoo.state, ticket.odoo_id)["priority"] == "3"

    escalation = Escalation.objects.get(ticket=ticket)
    odoo.state.clock.advance(timedelta(minutes=1))
    action_deescalate(escalation=escalation, user=team_lead, reason="L1 can finish it", step_down=True)
    odoo.state.clock.advance(timedelta(minutes=1))
    action_deescalate(escalation=escalation, user=team_lead, reason="Fixed")
    assert drain() == [State.SENT] * 4
    assert tag_names(odoo.state, ticket.odoo_id) == before  # "Escalated L1" put back, then taken off
    assert odoo_ticket(odoo.state, ticket.odoo_id)["priority"] == "3"  # never lowered
    assert len(tags_named(odoo.state, "Escalated L1")) == 1  # found again, not created twice

    sync_odoo()
    mirrored = Ticket.objects.get(pk=ticket.pk)
    assert {tag.name for tag in mirrored.tags.all()} == before and mirrored.priority == "3"


def test_an_existing_tag_of_the_same_name_in_another_case_is_used(odoo, ticket, team_lead, marked):
    existing = odoo.state.call(tag_model(), "create", [{"name": "escalated l1"}])
    action_escalate(ticket=ticket, user=team_lead, level=marked.levels.get(number=1), reason="VIP")
    assert drain() == [State.SENT, State.SENT]
    assert existing in odoo_ticket(odoo.state, ticket.odoo_id, ["tag_ids"])["tag_ids"]
    assert tags_named(odoo.state, "Escalated L1") == [existing]


def test_a_tag_whose_name_only_matches_as_a_wildcard_is_not_taken(odoo, ticket, team_lead, marked):
    # `=ilike` reads "_" as any character: "Escalated_L1" must not pick up "EscalatedXL1".
    lookalike = odoo.state.call(tag_model(), "create", [{"name": "EscalatedXL1"}])
    marked.levels.filter(number=1).update(odoo_tag_name="Escalated_L1")
    action_escalate(ticket=ticket, user=team_lead, level=marked.levels.get(number=1), reason="VIP")
    assert drain() == [State.SENT, State.SENT]
    assert "Escalated_L1" in tag_names(odoo.state, ticket.odoo_id)
    assert lookalike not in odoo_ticket(odoo.state, ticket.odoo_id, ["tag_ids"])["tag_ids"]


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 19)], indirect=True,
                         ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_a_timeout_after_odoo_created_the_tag_does_not_create_it_twice(odoo, settings, ticket, team_lead,
                                                                      marked):
    settings.ODOO_TIMEOUT = 1
    execute, tags = odoo.state.execute, tag_model()  # read here: the wrapper runs in the server's thread

    def slow_after_creating_a_tag(uid, model, method, args, kwargs):
        result = execute(uid, model, method, args, kwargs)
        if (model, method) == (tags, "create"):
            time.sleep(1.5)  # Odoo created it; the answer comes after the client gave up
        return result

    escalate = action_escalate(ticket=ticket, user=team_lead, level=marked.levels.get(number=1), reason="VIP")
    mark = OdooAction.objects.get(kind=MARK)
    assert outbox_send(escalate.pk) == State.SENT
    odoo.state.execute = slow_after_creating_a_tag
    assert outbox_send(mark.pk) == State.AWAITING_RETRY
    odoo.state.execute = execute

    assert drain() == [State.SENT]
    [tag] = tags_named(odoo.state, "Escalated L1")
    assert tag in odoo_ticket(odoo.state, ticket.odoo_id, ["tag_ids"])["tag_ids"]
    mark.refresh_from_db()
    assert mark.attempts == 2 and mark.odoo_message_id is None


def test_a_tag_another_worker_created_meanwhile_is_used(odoo, ticket, team_lead, marked):
    """Enterprise refuses a second tag of a name; the refused create looks again and uses the winner's."""
    execute, other = odoo.state.execute, {}

    def another_worker_creates_it_first(uid, model, method, args, kwargs):
        if (model, method) == ("helpdesk.tag", "create") and not other:
            other["id"] = execute(None, model, "create", [{"name": "Escalated L1"}], {})
        return execute(uid, model, method, args, kwargs)

    odoo.state.execute = another_worker_creates_it_first
    action_escalate(ticket=ticket, user=team_lead, level=marked.levels.get(number=1), reason="VIP")
    assert drain() == [State.SENT, State.SENT]
    odoo.state.execute = execute
    assert tags_named(odoo.state, "Escalated L1") == [other["id"]]
    assert other["id"] in odoo_ticket(odoo.state, ticket.odoo_id, ["tag_ids"])["tag_ids"]


def test_a_marker_with_nothing_to_change_writes_nothing(odoo, ticket, team_lead, marked):
    tag = odoo.state.call(tag_model(), "create", [{"name": "Escalated L1"}])
    set_in_odoo(odoo, ticket, {"priority": "3", "tag_ids": [(4, tag)]})
    written = odoo_ticket(odoo.state, ticket.odoo_id)["write_date"]
    odoo.state.clock.advance(timedelta(minutes=1))

    action_escalate(ticket=ticket, user=team_lead, level=marked.levels.get(number=1), reason="VIP")
    assert drain() == [State.SENT, State.SENT]
    remote = odoo_ticket(odoo.state, ticket.odoo_id)
    assert remote["priority"] == "3" and remote["write_date"] == written  # not lowered, not even touched


def test_a_marker_waits_for_the_older_actions_of_its_ticket(odoo, ticket, team_lead, marked):
    odoo.faults.set("refuse")
    note = action_note(ticket=ticket, user=team_lead, body="before the escalation")
    action_escalate(ticket=ticket, user=team_lead, level=marked.levels.get(number=1), reason="VIP")
    assert outbox_send(note.pk) == State.AWAITING_RETRY
    mark = OdooAction.objects.get(kind=MARK)
    assert outbox_send(mark.pk) == State.QUEUED  # behind the note, without touching Odoo

    odoo.faults.clear()
    assert drain() == [State.SENT] * 3
    assert "Escalated L1" in tag_names(odoo.state, ticket.odoo_id)


def test_the_markers_own_write_does_not_make_the_leads_next_action_stale(odoo, ticket, team_lead, marked):
    seen = ticket.odoo_write_date  # the page the lead has open
    action_escalate(ticket=ticket, user=team_lead, level=marked.levels.get(number=1), reason="VIP",
                    seen_write_date=seen)
    odoo.state.clock.advance(timedelta(minutes=1))
    assert drain() == [State.SENT, State.SENT]
    assert odoo_ticket(odoo.state, ticket.odoo_id)["write_date"] > seen.strftime("%Y-%m-%d %H:%M:%S")

    action_accept(ticket=ticket, user=team_lead, seen_write_date=seen)
    assert drain() == [State.SENT]
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == team_lead.profile.agent.pk
