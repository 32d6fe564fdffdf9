"""Odoo changes what the console wrote (odoo.md §8.6): after a reassign or an accept the outbox reads the
ticket back, and when Odoo kept another assignee or team the action ends "changed by Odoo", saying what
Odoo kept on the row and in the audit. An acceptance the ticket did not follow is undone."""

from datetime import timedelta

import pytest
from django.urls import reverse

from escalations.actions import action_accept, action_reassign
from escalations.models import AuditEntry, EscalationEvent, OdooAction, Team, Ticket
from escalations.sync.run import sync_odoo
from tests.outbox_helpers import drain, free_agent, level_member_who_accepts_by_reassign, notes, odoo_ticket

pytestmark = pytest.mark.django_db
State = OdooAction.State
TICKET = "helpdesk.ticket"


def in_odoo(odoo, ticket, values) -> Ticket:
    """Someone changes the ticket in Odoo a minute later; the mirror catches up."""
    odoo.state.clock.advance(timedelta(minutes=1))
    odoo.state.call(TICKET, "write", [[ticket.odoo_id], values])
    sync_odoo()
    return Ticket.objects.select_related("team", "assignee").get(pk=ticket.pk)


def another_team(ticket) -> Team:
    return Team.objects.exclude(pk=ticket.team_id).filter(active=True).order_by("pk").first()


def team_model(odoo) -> str:
    return "helpdesk.team" if odoo.state.flavour == "enterprise" else "helpdesk.ticket.team"


def row_html(client, user, ticket) -> str:
    client.force_login(user)
    response = client.get(reverse("queue-row", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_team_that_assigns_its_tickets_itself_is_said_on_the_row_and_in_the_audit(
    odoo, client, ticket, team_lead, escalation
):
    ticket = in_odoo(odoo, ticket, {"user_id": False})
    team = another_team(ticket)
    mia = free_agent(team_lead.profile.agent)
    odoo.state.call(team_model(odoo), "write", [[team.pk], {
        "auto_assignment": True, "assign_method": "balanced", "member_ids": [(6, 0, [mia.pk])]}])

    action = action_reassign(ticket=ticket, user=team_lead, team=team, seen_write_date=ticket.odoo_write_date)
    assert drain() == [State.CHANGED]

    said = f"Odoo kept {mia.name} as the assignee (the team assigns its tickets itself)."
    action.refresh_from_db()
    assert action.state == State.CHANGED and action.last_error == said and action.applied_at
    audit = AuditEntry.objects.get(action=action)
    assert (audit.outcome, audit.reason) == (AuditEntry.Outcome.CHANGED, said)
    remote = odoo_ticket(odoo.state, ticket.odoo_id)
    assert (remote["team_id"][0], remote["user_id"][0]) == (team.pk, mia.pk)
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1
    html = row_html(client, team_lead, ticket)
    assert "Changed by Odoo" in html and said in html


@pytest.mark.parametrize("simulator", [("oca", 17), ("oca", 18)], indirect=True, ids=["oca-17", "oca-18"])
def test_oca_taking_off_an_assignee_who_is_not_in_the_new_team_is_changed_by_odoo(odoo, ticket, team_lead):
    team = another_team(ticket)
    odoo.state.call(team_model(odoo), "write", [[team.pk], {"user_ids": [(3, ticket.assignee_id)]}])

    action = action_reassign(ticket=ticket, user=team_lead, team=team, seen_write_date=ticket.odoo_write_date)
    assert drain() == [State.CHANGED]

    action.refresh_from_db()
    assert action.last_error == (f"Odoo took {ticket.assignee.name} off the ticket (Odoo unassigns "
                                 "someone who is not a member of the ticket's new team).")
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"] is False


@pytest.mark.parametrize("simulator", [("oca", 16)], indirect=True, ids=["oca-16"])
def test_oca_16_giving_an_unassigned_ticket_to_the_teams_alias_owner_is_changed_by_odoo(odoo, ticket,
                                                                                         team_lead):
    ticket = in_odoo(odoo, ticket, {"user_id": False})
    team = another_team(ticket)
    owner = free_agent(team_lead.profile.agent)
    odoo.state.call(team_model(odoo), "write", [[team.pk], {"alias_user_id": owner.pk}])

    action = action_reassign(ticket=ticket, user=team_lead, team=team, seen_write_date=ticket.odoo_write_date)
    assert drain() == [State.CHANGED]
    action.refresh_from_db()
    said = f"Odoo kept {owner.name} as the assignee (the team assigns its tickets itself)."
    assert action.last_error == said


def test_an_agent_written_with_the_team_is_kept_and_the_reassign_is_sent(odoo, ticket, team_lead):
    team = another_team(ticket)
    mia, other = free_agent(team_lead.profile.agent), free_agent(ticket.assignee, team_lead.profile.agent)
    odoo.state.call(team_model(odoo), "write", [[team.pk], {
        "auto_assignment": True, "member_ids": [(6, 0, [mia.pk])]}])
    action_reassign(ticket=ticket, user=team_lead, agent=other, team=team,
                    seen_write_date=ticket.odoo_write_date)
    assert drain() == [State.SENT]
    assert odoo_ticket(odoo.state, ticket.odoo_id)["user_id"][0] == other.pk


def an_automation_rule_giving_tickets_to(odoo, agent_id: int) -> None:
    """An Odoo automation rule (base.automation, on_user_set) that hands every assigned ticket to one
    person: it runs on the console's RPC write, as such rules do (odoo.md §8.8)."""
    execute = odoo.state.execute

    def with_rule(uid, model, method, args, kwargs):
        result = execute(uid, model, method, args, kwargs)
        if (model, method) == (TICKET, "write") and args[1].get("user_id") not in (None, False, agent_id):
            execute(None, model, "write", [args[0], {"user_id": agent_id}], {})
        return result

    odoo.state.execute = with_rule


def test_an_accept_odoo_gives_to_someone_else_is_changed_and_the_acceptance_undone(odoo, ticket, team_lead,
                                                                                   escalation):
    mia = free_agent(ticket.assignee, team_lead.profile.agent)
    an_automation_rule_giving_tickets_to(odoo, mia.pk)
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)

    assert drain() == [State.CHANGED]
    said = f"Odoo kept {mia.name} as the assignee instead of {team_lead.profile.agent.name}."
    action.refresh_from_db()
    assert action.last_error == said
    escalation.refresh_from_db()
    assert escalation.is_open and escalation.accepted_by is None
    undone = escalation.events.get(kind=EscalationEvent.Kind.ACCEPT_UNDONE)
    assert (undone.reason, undone.rule, undone.actor) == (said, "Changed by Odoo", None)
    assert len(notes(odoo.state, ticket.odoo_id, str(action.action_uid))) == 1  # the lead did act


def test_a_reassign_that_accepted_for_a_member_odoo_gave_to_someone_else_is_undone(odoo, ticket, team_lead,
                                                                                  policy, escalation, agent):
    member_agent = level_member_who_accepts_by_reassign(policy, agent, ticket=ticket, lead=team_lead)
    an_automation_rule_giving_tickets_to(odoo, team_lead.profile.agent.pk)
    action_reassign(ticket=ticket, user=team_lead, agent=member_agent)
    assert drain() == [State.CHANGED]
    escalation.refresh_from_db()
    assert escalation.accepted_at is None
    assert escalation.events.get(kind=EscalationEvent.Kind.ACCEPT_UNDONE).facts["kind"] == "reassign"
