"""The outbox through a real Celery worker (with beat) on Redis: Odoo stopped while actions are made,
then back; a worker killed with SIGKILL after Odoo applied an action, then a new worker finishing it
(each action kind killed between its write and its note: applied once, never stale); an accept Odoo
refuses, failed and undone; the engine's marker written in Odoo."""

import threading
from datetime import timedelta

import pytest

from escalations.actions import (
    action_accept,
    action_deescalate,
    action_escalate,
    action_note,
    action_reassign,
)
from escalations.engine import escalation_raise_manual, evaluate_escalations
from escalations.models import AuditEntry, EscalationEvent, OdooAction, SyncState
from escalations.sync.run import sync_odoo
from tests import workers
from tests.factories import EscalationPolicyFactory
from tests.outbox_helpers import free_agent, notes, odoo_ticket
from tests.workers import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
State = OdooAction.State


@pytest.fixture
def start_worker(odoo, tmp_path):
    started = []

    def start():
        env = workers.outbox_worker_env(odoo, tmp_path)
        worker = workers.start_worker(env, beat_schedule=tmp_path / f"beat-schedule-{len(started)}")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        workers.stop_worker(worker)



def states():
    return list(OdooAction.objects.order_by("pk").values_list("state", flat=True))


def test_actions_made_while_odoo_is_stopped_are_applied_once_each_in_order_when_it_is_back(
    odoo, ticket, team_lead, start_worker
):
    other = free_agent(ticket.assignee, team_lead.profile.agent)
    odoo.faults.set("refuse")
    start_worker()
    made = [
        action_note(ticket=ticket, user=team_lead, body="first, while Odoo is down"),
        action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date),
        action_reassign(ticket=ticket, user=team_lead, agent=other, seen_write_date=ticket.odoo_write_date),
        action_note(ticket=ticket, user=team_lead, body="last"),
    ]
    assert wait_for(lambda: OdooAction.objects.filter(pk=made[0].pk, state=State.AWAITING_RETRY).exists())
    assert State.SENT not in states()

    odoo.faults.clear()
    assert wait_for(lambda: states() == [State.SENT] * 4), states()
    posted = notes(odoo.state, ticket.odoo_id)
    uids = [str(a.action_uid) for a in made]
    assert [next(u for u in uids if u in m["body"]) for m in posted] == uids
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == other.pk
    assert set(AuditEntry.objects.values_list("outcome", flat=True)) == {AuditEntry.Outcome.APPLIED}


def test_a_worker_killed_after_odoo_applied_the_action_is_finished_by_the_sweeper_once(
    odoo, ticket, team_lead, start_worker
):
    posted, execute = threading.Event(), odoo.state.execute

    def post_then_stall(uid, model, method, args, kwargs):
        result = execute(uid, model, method, args, kwargs)
        if method == "message_post":
            posted.set()
            threading.Event().wait(1.5)  # the worker is killed before the answer arrives
        return result

    odoo.state.execute = post_then_stall
    worker = start_worker()
    action = action_note(ticket=ticket, user=team_lead, body="survives a SIGKILL")
    assert posted.wait(40), "the worker never sent the note"
    workers.kill_worker(worker)
    odoo.state.execute = execute
    action.refresh_from_db()
    assert action.state == State.INFLIGHT

    start_worker()
    assert wait_for(lambda: states() == [State.SENT]), states()
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1
    action.refresh_from_db()
    assert action.attempts == 2


def stall_after(odoo, method: str) -> threading.Event:
    """Odoo runs `method` on a ticket, then its answer is slow: the worker is killed before it arrives."""
    reached, execute = threading.Event(), odoo.state.execute

    def run_then_stall(uid, model, called, args, kwargs):
        result = execute(uid, model, called, args, kwargs)
        if (model, called) == ("helpdesk.ticket", method) and not reached.is_set():
            reached.set()
            threading.Event().wait(1.5)
        return result

    odoo.state.execute = run_then_stall
    return reached


# Killed after Odoo applied the first of the action's calls: the write (then the note is still to post),
# or, for the actions that write no field, the note itself.
KILLED_AFTER = {"accept": "write", "reassign": "write", "deescalate": "message_post",
                "escalate": "message_post", "note": "message_post"}


@pytest.mark.parametrize("kind", list(KILLED_AFTER))
def test_each_action_killed_between_its_write_and_its_note_is_applied_once_never_stale(
    odoo, ticket, team_lead, agent, start_worker, kind
):
    policy = EscalationPolicyFactory(team=ticket.team)
    escalation = escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=1), user=agent,
                                         reason="VIP")
    other = free_agent(ticket.assignee, team_lead.profile.agent)
    odoo.state.clock.advance(timedelta(minutes=1))  # the lead acts a minute after loading the page
    execute = odoo.state.execute
    reached = stall_after(odoo, KILLED_AFTER[kind])
    worker = start_worker()
    seen, expected = ticket.odoo_write_date, {}
    if kind == "accept":
        action = action_accept(ticket=ticket, user=team_lead, seen_write_date=seen)
        expected = {"user_id": team_lead.profile.agent.pk}
    elif kind == "reassign":
        action = action_reassign(ticket=ticket, user=team_lead, agent=other, seen_write_date=seen)
        expected = {"user_id": other.pk}
    elif kind == "deescalate":
        action = action_deescalate(escalation=escalation, user=team_lead, reason="Solved",
                                   seen_write_date=seen)
    elif kind == "escalate":
        action = action_escalate(ticket=ticket, user=team_lead, level=policy.levels.get(number=2),
                                 reason="Angry", seen_write_date=seen)
    else:
        action = action_note(ticket=ticket, user=team_lead, body="Called them")
    assert reached.wait(40), "the worker never reached Odoo"
    workers.kill_worker(worker)
    odoo.state.execute = execute
    assert OdooAction.objects.get(pk=action.pk).state == State.INFLIGHT

    start_worker()
    assert wait_for(lambda: states() == [State.SENT]), states()
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1
    assert len(notes(odoo.state, ticket.odoo_id)) == 1
    remote = odoo_ticket(odoo.state, ticket.odoo_id)
    assert all(remote[field][0] == value for field, value in expected.items()), remote
    action.refresh_from_db()
    assert action.attempts == 2 and action.stale_changes == []


def test_an_accept_odoo_refuses_is_failed_and_undone_by_the_worker(odoo, ticket, team_lead, agent,
                                                                   start_worker):
    policy = EscalationPolicyFactory(team=ticket.team)
    escalation = escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=1), user=agent,
                                         reason="VIP")
    odoo.state.forbid("console@example.com", "helpdesk.ticket")
    start_worker()
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)

    assert wait_for(lambda: states() == [State.FAILED]), states()
    escalation.refresh_from_db()
    assert escalation.accepted_at is None
    undone = escalation.events.get(kind=EscalationEvent.Kind.ACCEPT_UNDONE)
    action.refresh_from_db()
    assert "may not change this ticket" in undone.reason == action.last_error


def test_the_engines_marker_is_written_in_odoo_by_the_worker(odoo, ticket, start_worker):
    policy = EscalationPolicyFactory(team=ticket.team, on_sla_at_risk=False, on_sla_breached=False,
                                     on_reopened=False)
    policy.levels.filter(number=1).update(odoo_tag_name="Escalated L1", odoo_priority="3")
    model = SyncState.load().schema["tag_model"]
    [trigger] = odoo.state.call(model, "search", [[("name", "=", "Escalate")]])
    odoo.state.clock.advance(timedelta(minutes=1))
    odoo.state.call("helpdesk.ticket", "write", [[ticket.odoo_id], {"tag_ids": [(4, trigger)]}])
    sync_odoo()
    start_worker()

    evaluate_escalations()  # raises the tagged ticket at L1; its marker is enqueued once that commits
    mark = OdooAction.objects.get(ticket=ticket, kind=OdooAction.Kind.MARK)
    assert wait_for(lambda: OdooAction.objects.get(pk=mark.pk).state == State.SENT)
    remote = odoo_ticket(odoo.state, ticket.odoo_id, ["tag_ids", "priority"])
    [marker] = odoo.state.call(model, "search", [[("name", "=", "Escalated L1")]])
    assert marker in remote["tag_ids"] and remote["priority"] == "3"
