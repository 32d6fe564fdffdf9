"""Each action end to end against the simulator over HTTP: the outbox row, the audit entry, the ticket's
fields and the internal note in Odoo afterwards, and the next sync agreeing."""

from datetime import timedelta

import pytest

from escalations.actions import (
    ActionRefused,
    Cancel,
    action_accept,
    action_cancel,
    action_confirm,
    action_deescalate,
    action_escalate,
    action_note,
    action_reassign,
)
from escalations.engine import EscalationChanged
from escalations.models import AuditEntry, EndReason, Escalation, OdooAction, Team, Ticket
from escalations.outbox.send import WAITING_FOR_OLDER
from escalations.permissions import ActionDenied
from escalations.sync.run import sync_odoo
from tests.conftest import FLAVOURS
from tests.outbox_helpers import (
    a_ticket,
    drain,
    free_agent,
    level_member_who_accepts_by_reassign,
    make_lead,
    notes,
    odoo_ticket,
)

pytestmark = pytest.mark.django_db
State = OdooAction.State



def test_accept_assigns_the_ticket_to_the_leads_odoo_user_with_an_internal_note(
    odoo, ticket, team_lead, escalation
):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)

    assert action.state == State.QUEUED
    assert AuditEntry.objects.get(action=action).outcome == AuditEntry.Outcome.QUEUED
    escalation.refresh_from_db()
    assert escalation.accepted_by == team_lead

    assert drain() == [State.SENT]
    action.refresh_from_db()
    assert action.state == State.SENT and action.applied_at and action.odoo_message_id
    assert AuditEntry.objects.get(action=action).outcome == AuditEntry.Outcome.APPLIED
    lead_agent = team_lead.profile.agent
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == lead_agent.pk
    [note] = notes(odoo.state, ticket.odoo_id, str(action.action_uid))
    assert note["subtype_id"][1] == "Note" or note["is_internal"]
    assert "Lena Lead</b> took ownership" in note["body"] and "escalation console" in note["body"]

    sync_odoo()
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == lead_agent.pk


def test_reassign_changes_agent_and_team_in_odoo_and_keeps_the_escalation_open(
    odoo, ticket, team_lead, escalation
):
    other_agent = free_agent(ticket.assignee, team_lead.profile.agent)
    other_team = Team.objects.exclude(pk=ticket.team_id).filter(active=True).first()
    action = action_reassign(ticket=ticket, user=team_lead, agent=other_agent, team=other_team,
                             note="Needs the <b>billing</b> people", seen_write_date=ticket.odoo_write_date)

    assert drain() == [State.SENT]
    remote = odoo_ticket(odoo.state, ticket.odoo_id)
    assert (remote["user_id"][0], remote["team_id"][0]) == (other_agent.pk, other_team.pk)
    [note] = notes(odoo.state, ticket.odoo_id, str(action.action_uid))
    assert "reassigned this ticket to" in note["body"]
    assert "&lt;b&gt;billing&lt;/b&gt;" in note["body"]  # the lead's text is escaped, not markup
    escalation.refresh_from_db()
    assert escalation.is_open and escalation.accepted_at is None

    sync_odoo()
    mirrored = Ticket.objects.get(pk=ticket.pk)
    assert (mirrored.assignee_id, mirrored.team_id) == (other_agent.pk, other_team.pk)


def test_reassign_to_an_archived_agent_is_refused_and_writes_nothing(ticket, team_lead):
    archived = free_agent(ticket.assignee, team_lead.profile.agent)
    archived.active = False
    archived.save()
    with pytest.raises(ActionRefused, match="archived"):
        action_reassign(ticket=ticket, user=team_lead, agent=archived)
    assert not OdooAction.objects.exists() and not AuditEntry.objects.exists()


def test_de_escalate_ends_the_escalation_and_posts_the_reason(odoo, ticket, team_lead, escalation):
    action = action_deescalate(escalation=escalation, user=team_lead, reason="Customer confirmed the fix")

    escalation.refresh_from_db()
    assert escalation.end_reason == EndReason.DE_ESCALATED
    assert drain() == [State.SENT]
    [note] = notes(odoo.state, ticket.odoo_id, str(action.action_uid))
    assert "de-escalated this ticket" in note["body"] and "Customer confirmed the fix" in note["body"]


def test_de_escalate_needs_a_reason(ticket, team_lead, escalation):
    with pytest.raises(ActionRefused):
        action_deescalate(escalation=escalation, user=team_lead, reason="  ")
    assert not OdooAction.objects.exists()


def test_step_down_moves_the_escalation_one_level_down(odoo, ticket, team_lead, policy, escalation):
    action_escalate(ticket=ticket, user=team_lead, level=policy.levels.get(number=2), reason="Hard one")
    action_deescalate(escalation=escalation, user=team_lead, reason="L1 can do it", step_down=True)
    escalation.refresh_from_db()
    assert escalation.is_open and escalation.level.number == 1
    assert drain() == [State.SENT, State.SENT]


def test_escalate_by_hand_raises_an_escalation_and_notes_it_in_odoo(odoo, ticket, team_lead, policy):
    level2 = policy.levels.get(number=2)
    action = action_escalate(ticket=ticket, user=team_lead, level=level2, reason="Key account")

    escalation = Escalation.objects.get(ticket=ticket, ended_at__isnull=True)
    assert escalation.level == level2 and action.escalation == escalation
    assert drain() == [State.SENT]
    [note] = notes(odoo.state, ticket.odoo_id, str(action.action_uid))
    assert "escalated this ticket to L2 Senior support" in note["body"]


def test_a_note_lands_in_the_chatter_as_an_internal_note(odoo, ticket, team_lead):
    action = action_note(ticket=ticket, user=team_lead, body="Called the customer.\nWaiting for logs.")
    assert drain() == [State.SENT]
    [note] = notes(odoo.state, ticket.odoo_id, str(action.action_uid))
    assert "Called the customer." in note["body"] and note["message_type"] == "comment"


def test_accept_without_a_linked_odoo_user_is_refused_clearly(ticket, lead, escalation):
    make_lead(lead, teams=[ticket.team], agent=None)
    with pytest.raises(ActionRefused, match="not linked to an Odoo user"):
        action_accept(ticket=ticket, user=lead)
    escalation.refresh_from_db()
    assert escalation.accepted_at is None and not OdooAction.objects.exists()


def test_a_second_lead_accepting_is_told_who_took_it(ticket, team_lead, outsider, escalation):
    second = make_lead(outsider, teams=[ticket.team],
                       agent=free_agent(ticket.assignee, team_lead.profile.agent))
    action_accept(ticket=ticket, user=team_lead)
    with pytest.raises(EscalationChanged, match="Lena Lead has already accepted"):
        action_accept(ticket=ticket, user=second)
    assert OdooAction.objects.count() == 1


def test_a_double_click_on_accept_queues_one_action(ticket, team_lead, escalation):
    assert action_accept(ticket=ticket, user=team_lead) is not None
    assert action_accept(ticket=ticket, user=team_lead) is None
    assert OdooAction.objects.count() == AuditEntry.objects.count() == 1


def test_lead_of_another_team_and_plain_users_are_refused(ticket, lead, agent, escalation):
    other_team = Team.objects.exclude(pk=ticket.team_id).first()
    make_lead(lead, teams=[other_team], agent=free_agent(ticket.assignee))
    with pytest.raises(ActionDenied):
        action_note(ticket=ticket, user=lead, body="hi")
    with pytest.raises(ActionDenied):
        action_deescalate(escalation=escalation, user=agent, reason="no")
    assert not OdooAction.objects.exists() and not AuditEntry.objects.exists()


def test_a_supervisor_acts_on_every_team(odoo, ticket, outsider):
    make_lead(outsider, supervisor=True)
    action_note(ticket=ticket, user=outsider, body="Supervisor here")
    assert drain() == [State.SENT]


# -- stale view ------------------------------------------------------------------------------------------


def test_a_ticket_changed_in_odoo_since_the_lead_loaded_it_is_held_until_confirmed(
    odoo, ticket, team_lead, escalation
):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    odoo.state.clock.advance(timedelta(minutes=2))
    odoo.state.call("helpdesk.ticket", "write", [[ticket.odoo_id], {"priority": "3"}])

    assert drain() == [State.STALE]
    action.refresh_from_db()
    assert action.state == State.STALE and "the priority is now 3" in action.last_error
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == ticket.assignee_id  # not overwritten
    assert notes(odoo.state, ticket.odoo_id) == []
    assert AuditEntry.objects.get(action=action).outcome == AuditEntry.Outcome.STALE

    assert action_confirm(action=action, user=team_lead)
    assert drain() == [State.SENT]
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == team_lead.profile.agent.pk


def test_a_stale_action_can_be_cancelled_and_then_nothing_is_written(odoo, ticket, team_lead):
    action = action_reassign(ticket=ticket, user=team_lead, agent=team_lead.profile.agent,
                             seen_write_date=ticket.odoo_write_date - timedelta(hours=1))
    assert drain() == [State.STALE]
    later = action_note(ticket=ticket, user=team_lead, body="after the reassign")
    assert drain(rounds=1) == [State.QUEUED]  # in order: it waits behind the stale one, and says so
    later.refresh_from_db()
    assert later.last_error == WAITING_FOR_OLDER
    assert action_cancel(action=action, user=team_lead) == Cancel.DONE
    assert drain() == [State.SENT]  # the note, no longer held; the cancelled reassign is never sent
    action.refresh_from_db()
    later.refresh_from_db()
    assert action.state == State.CANCELLED and later.last_error == ""
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == ticket.assignee_id
    assert len(notes(odoo.state, ticket.odoo_id)) == 1


def test_the_consoles_own_earlier_write_does_not_make_the_next_action_stale(odoo, ticket, team_lead):
    seen = ticket.odoo_write_date
    other = free_agent(ticket.assignee, team_lead.profile.agent)
    action_accept(ticket=ticket, user=team_lead, seen_write_date=seen)
    odoo.state.clock.advance(timedelta(minutes=1))
    action_reassign(ticket=ticket, user=team_lead, agent=other, seen_write_date=seen)
    assert drain() == [State.SENT, State.SENT]
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == other.pk


def test_reassigning_to_a_level_member_accepts_for_them_when_the_policy_says_so(
    odoo, ticket, team_lead, policy, escalation, agent
):
    member_agent = level_member_who_accepts_by_reassign(policy, agent, ticket=ticket, lead=team_lead)

    action = action_reassign(ticket=ticket, user=team_lead, agent=member_agent)
    escalation.refresh_from_db()
    assert escalation.accepted_by == agent
    assert drain() == [State.SENT]
    [note] = notes(odoo.state, ticket.odoo_id, str(action.action_uid))
    assert "who accepts the escalation" in note["body"]


def test_without_the_policy_option_reassigning_leaves_the_escalation_unaccepted(
    ticket, team_lead, policy, escalation, agent
):
    member_agent = free_agent(ticket.assignee, team_lead.profile.agent)
    make_lead(agent, teams=[], agent=member_agent)
    policy.levels.get(number=1).members.add(agent)
    action_reassign(ticket=ticket, user=team_lead, agent=member_agent)
    escalation.refresh_from_db()
    assert escalation.accepted_at is None


@pytest.mark.parametrize("simulator", FLAVOURS, indirect=True, ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_accept_and_a_note_reach_each_helpdesk_flavour_and_version(odoo, lead):
    sync_odoo(full=True)
    ticket = a_ticket()
    team_lead = make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))
    accept = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    note = action_note(ticket=ticket, user=team_lead, body="Checked <the> logs")

    assert drain() == [State.SENT, State.SENT]
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == team_lead.profile.agent.pk
    [posted] = notes(odoo.state, ticket.odoo_id, str(note.action_uid))
    assert "<b>Lena Lead</b>" in posted["body"]  # our HTML kept, on 16 and on 17+ (body_is_html)
    assert "Checked &lt;the&gt; logs" in posted["body"]
    assert len(notes(odoo.state, ticket.odoo_id, str(accept.action_uid))) == 1


def test_accept_again_from_a_page_the_back_button_restored_changes_nothing(odoo, client, ticket, team_lead,
                                                                          escalation):
    """The first accept has reached Odoo; the browser's Back restores the old row with its Accept
    button. The second click must not write the ticket again nor post a second note."""
    seen = ticket.odoo_write_date.isoformat()
    client.force_login(team_lead)
    first = client.post(f"/tickets/{ticket.pk}/accept/", {"seen_write_date": seen, "render": "row"},
                        HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert drain() == [State.SENT]

    again = client.post(f"/tickets/{ticket.pk}/accept/", {"seen_write_date": seen, "render": "row"},
                        HTTP_HX_REQUEST="true")

    assert again.status_code == 200 and "Nothing to change" in again.content.decode()
    assert OdooAction.objects.filter(ticket=ticket, kind=OdooAction.Kind.ACCEPT).count() == 1
    assert drain() == []
    assert len(notes(odoo.state, ticket.pk, "took ownership")) == 1
