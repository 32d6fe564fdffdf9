"""An action is stale when Odoo holds other values than the lead saw, not when Odoo's write_date moved:
a cron or a recompute rewriting unchanged values (OCA 16's SLA cron does, every 5 minutes) or a change to
a field the console does not show must not hold a lead's action; a change to what they saw must."""

from datetime import timedelta

import pytest

from escalations.actions import action_accept, action_reassign
from escalations.models import OdooAction
from tests.conftest import FLAVOURS
from tests.outbox_helpers import a_ticket, drain, free_agent, make_lead, odoo_ticket

pytestmark = pytest.mark.django_db
State = OdooAction.State
TICKET = "helpdesk.ticket"


def later_in_odoo(odoo, ticket, values) -> None:
    odoo.state.clock.advance(timedelta(minutes=5))
    odoo.state.call(TICKET, "write", [[ticket.odoo_id], values])


@pytest.mark.parametrize("simulator", FLAVOURS, indirect=True, ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_odoo_rewriting_unchanged_values_does_not_hold_the_action(odoo, lead):
    from escalations.sync.run import sync_odoo

    sync_odoo(full=True)
    ticket = a_ticket()
    team_lead = make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    # Odoo writes unchanged values and stamps write_date all the same (a cron, a recompute, an import).
    later_in_odoo(odoo, ticket, {"priority": ticket.priority, "name": ticket.name})
    assert odoo_ticket(odoo.state, ticket.odoo_id)["write_date"] > ticket.odoo_write_date.strftime("%F %T")

    assert drain() == [State.SENT]
    action.refresh_from_db()
    assert action.last_error == "" and action.stale_changes == []


def test_a_change_to_a_field_the_console_does_not_show_does_not_hold_the_action(odoo, ticket, team_lead):
    action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    later_in_odoo(odoo, ticket, {"description": "<p>The customer sent a screenshot</p>"})
    assert drain() == [State.SENT]


@pytest.mark.parametrize("values, said", [
    (lambda t, other: {"stage_id": next(s for s in stages(t) if s != t.stage_id)}, "the stage is now"),
    (lambda t, other: {"name": "Printer on fire, again"}, "the title is now Printer on fire, again"),
    (lambda t, other: {"user_id": other}, "the assignee is now"),
], ids=["stage", "title", "assignee"])
def test_a_change_to_what_the_lead_saw_holds_the_action(odoo, ticket, team_lead, values, said):
    other = free_agent(ticket.assignee, team_lead.profile.agent).pk
    action = action_reassign(ticket=ticket, user=team_lead, agent=team_lead.profile.agent,
                             seen_write_date=ticket.odoo_write_date)
    later_in_odoo(odoo, ticket, values(ticket, other))
    assert drain() == [State.STALE]
    action.refresh_from_db()
    assert said in action.last_error


def stages(ticket) -> list[int]:
    from escalations.models import Stage

    return list(Stage.objects.filter(is_closed=False).values_list("pk", flat=True))


def test_another_person_assigning_the_ticket_holds_an_accept(odoo, ticket, team_lead):
    """The accept writes the assignee too, but someone else's assignee is not the one the lead saw."""
    other = free_agent(ticket.assignee, team_lead.profile.agent)
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    later_in_odoo(odoo, ticket, {"user_id": other.pk})
    assert drain() == [State.STALE]
    action.refresh_from_db()
    assert f"the assignee is now {other.name} (was {ticket.assignee.name})" in action.last_error


def test_odoo_already_holding_the_value_the_action_writes_does_not_hold_it(odoo, ticket, team_lead):
    action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    later_in_odoo(odoo, ticket, {"user_id": team_lead.profile.agent.pk})
    assert drain() == [State.SENT]


def test_the_leads_own_action_synced_since_the_page_does_not_hold_the_next_one(odoo, ticket, team_lead):
    from escalations.sync.run import sync_odoo

    page = ticket.odoo_write_date
    action_accept(ticket=ticket, user=team_lead, seen_write_date=page)
    odoo.state.clock.advance(timedelta(minutes=1))
    assert drain() == [State.SENT]
    sync_odoo()  # the mirror now holds the accept, newer than the lead's page
    other = free_agent(ticket.assignee, team_lead.profile.agent)
    action_reassign(ticket=ticket, user=team_lead, agent=other, seen_write_date=page)
    assert drain() == [State.SENT]


def test_another_leads_action_since_the_page_holds_this_one(odoo, ticket, team_lead, outsider):
    from escalations.sync.run import sync_odoo

    page = ticket.odoo_write_date
    second = make_lead(outsider, teams=[ticket.team],
                       agent=free_agent(ticket.assignee, team_lead.profile.agent))
    action_accept(ticket=ticket, user=second, seen_write_date=page)
    odoo.state.clock.advance(timedelta(minutes=1))
    assert drain() == [State.SENT]
    sync_odoo()
    action = action_reassign(ticket=ticket, user=team_lead, agent=team_lead.profile.agent,
                             seen_write_date=page)
    assert drain() == [State.STALE]
    action.refresh_from_db()
    assert "after you loaded the page" in action.last_error
