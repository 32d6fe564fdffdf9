"""The outbox's delivery rules against the simulator's real failures: Odoo down then back, a timeout after
Odoo applied the change, each kind of Odoo error, a worker that died mid-send, and per-ticket order."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from escalations.actions import action_accept, action_note, action_reassign
from escalations.models import AuditEntry, OdooAction
from escalations.outbox.send import backoff, outbox_send
from escalations.outbox.sweep import outbox_sweep
from tests.conftest import API_KEY
from tests.outbox_helpers import drain, free_agent, notes, odoo_ticket

pytestmark = pytest.mark.django_db
State = OdooAction.State
LATER = timedelta(hours=1)
# The delivery rules over JSON-RPC (Odoo 17) and JSON-2 (Odoo 19).
BOTH_PROTOCOLS = pytest.mark.parametrize("simulator", [("enterprise", 17), ("enterprise", 19)], indirect=True,
                                         ids=["jsonrpc", "json2"])


@BOTH_PROTOCOLS
def test_odoo_down_keeps_actions_waiting_then_applies_them_once_each_in_order(odoo, ticket, team_lead):
    other = free_agent(ticket.assignee, team_lead.profile.agent)
    odoo.faults.set("refuse")
    made = [
        action_note(ticket=ticket, user=team_lead, body="first"),
        action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date),
        action_reassign(ticket=ticket, user=team_lead, agent=other, seen_write_date=ticket.odoo_write_date),
        action_note(ticket=ticket, user=team_lead, body="last"),
    ]
    first = outbox_send(made[0].pk)
    assert first == State.AWAITING_RETRY
    made[0].refresh_from_db()
    assert "could not be reached" in made[0].last_error and made[0].next_attempt_at > timezone.now()
    # The later actions of the ticket wait for the first one, without touching Odoo.
    assert outbox_send(made[1].pk, now=timezone.now() + LATER) == State.QUEUED

    odoo.faults.clear()
    assert drain() == [State.SENT] * 4
    posted = notes(odoo.state, ticket.odoo_id)
    assert len(posted) == 4
    uids = [str(a.action_uid) for a in made]
    assert [next(u for u in uids if u in m["body"]) for m in posted] == uids  # once each, in order
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == other.pk  # the reassign came last


def test_retries_back_off_exponentially_up_to_a_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 5, 60
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [5, 10, 20, 40, 60, 60]


@BOTH_PROTOCOLS
def test_a_timeout_after_odoo_posted_the_note_does_not_post_it_twice(odoo, settings, ticket, team_lead):
    settings.ODOO_TIMEOUT = 1
    execute = odoo.state.execute

    def slow_after_posting(uid, model, method, args, kwargs):
        result = execute(uid, model, method, args, kwargs)
        if method == "message_post":
            time.sleep(1.5)  # Odoo applied it; the answer comes after the client gave up
        return result

    odoo.state.execute = slow_after_posting
    action = action_note(ticket=ticket, user=team_lead, body="Only once, please")
    assert outbox_send(action.pk) == State.AWAITING_RETRY
    odoo.state.execute = execute

    assert drain() == [State.SENT]
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1
    action.refresh_from_db()
    assert action.attempts == 2 and action.odoo_message_id


@BOTH_PROTOCOLS
@pytest.mark.parametrize("break_odoo, reason", [
    (lambda sim, t: sim.state.forbid("console@example.com", "helpdesk.ticket"), "may not change this ticket"),
    (lambda sim, t: sim.state.delete_ticket(t.odoo_id), "no longer exists in Odoo"),
    (lambda sim, t: sim.faults.set("fail_writes"), "Odoo rejected the change: another change to the same"),
    (lambda sim, t: sim.state.revoke_api_key(API_KEY), "refused the console's login or API key"),
], ids=["access-denied", "deleted", "rejected", "auth"])
def test_odoo_errors_fail_the_action_at_once_with_a_plain_reason(odoo, ticket, team_lead, break_odoo, reason):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    break_odoo(odoo, ticket)

    assert outbox_send(action.pk) == State.FAILED
    action.refresh_from_db()
    assert action.state == State.FAILED and reason in action.last_error and action.attempts == 1
    audit = AuditEntry.objects.get(action=action)
    assert audit.outcome == AuditEntry.Outcome.FAILED and reason in audit.reason
    assert outbox_send(action.pk, now=timezone.now() + LATER) == "skipped"  # final: never retried


def test_a_failed_action_does_not_block_the_next_one_of_the_ticket(odoo, ticket, team_lead):
    odoo.faults.set("fail_writes")
    first = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    assert outbox_send(first.pk) == State.FAILED
    odoo.faults.clear()
    action_note(ticket=ticket, user=team_lead, body="after the failure")
    assert drain() == [State.SENT]


def test_the_sweeper_requeues_an_action_left_inflight_by_a_dead_worker(odoo, settings, ticket, team_lead):
    settings.OUTBOX_LEASE_SECONDS = 60
    action = action_note(ticket=ticket, user=team_lead, body="the worker died after posting")
    # A worker claimed it, posted the note, and was killed before recording anything.
    started = timezone.now() - timedelta(minutes=5)
    OdooAction.objects.filter(pk=action.pk).update(state=State.INFLIGHT, inflight_since=started, attempts=1)
    odoo.state.call("helpdesk.ticket", "message_post", [[ticket.odoo_id]],
                    {"body": action.payload["note"], "subtype_xmlid": "mail.mt_note", "body_is_html": True})
    assert outbox_send(action.pk) == "skipped"  # inflight: not ours to take

    assert outbox_sweep().requeued == 1
    assert drain() == [State.SENT]
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1


def test_the_sweeper_leaves_a_fresh_inflight_action_alone(ticket, team_lead):
    action = action_note(ticket=ticket, user=team_lead, body="being sent right now")
    OdooAction.objects.filter(pk=action.pk).update(state=State.INFLIGHT, inflight_since=timezone.now())
    assert outbox_sweep().requeued == 0


def test_a_sent_action_is_never_sent_again(odoo, ticket, team_lead):
    action = action_note(ticket=ticket, user=team_lead, body="once")
    assert drain() == [State.SENT]
    assert outbox_send(action.pk, now=timezone.now() + LATER) == "skipped"
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1
