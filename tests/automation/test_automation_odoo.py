"""Automation end to end against the Odoo simulator, in both flavours: a rule assigns new tickets,
the outbox writes them with an internal note naming the rule, the sync reads them back without the
rule firing again, undo restores Odoo, and the outbox refuses anything outside the honest limit."""

from datetime import UTC, timedelta

import pytest

from escalations.automation.rules import rule_problems
from escalations.automation.run import automation_run, plan_pass
from escalations.automation.undo import UndoRefused, undo_change
from escalations.models import AutomationChange, AutomationRule, OdooAction, Stage, Team, Ticket
from escalations.outbox.send import outbox_send
from escalations.sync.run import sync_odoo
from tests.conftest import FLAVOURS
from tests.factories import UserFactory
from tests.outbox_helpers import drain, make_lead, notes, odoo_ticket

pytestmark = pytest.mark.django_db
TICKET = "helpdesk.ticket"


def odoo_now(odoo):
    return odoo.state.clock.now().replace(tzinfo=UTC)


def new_unassigned_tickets(odoo, team_id: int, count: int) -> list[int]:
    """As the mail gateway makes them: by OdooBot, with no assignee."""
    values = {"team_id": team_id, "user_id": False, "description": "<p>Hi</p>"}
    return [odoo.state.call(TICKET, "create", [{"name": f"Cannot log in #{i}", **values}])
            for i in range(count)]


def assign_rule(team: Team, *, now) -> AutomationRule:
    rule = AutomationRule.objects.create(
        name="Round robin for new tickets", enabled=True, enabled_at=now - timedelta(minutes=5),
        trigger=AutomationRule.Trigger.CREATED, action=AutomationRule.Action.ASSIGN,
        assign_method=AutomationRule.AssignMethod.ROUND_ROBIN)
    rule.teams.set([team])
    return rule


def a_team_odoo_leaves_alone() -> Team:
    return Team.objects.filter(odoo_assigns="", members__active=True).distinct().order_by("odoo_id").first()


@pytest.mark.parametrize("simulator", FLAVOURS, indirect=True, ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_a_rule_assigns_new_tickets_in_odoo_with_a_note_and_does_not_fire_on_its_own_write(odoo):
    sync_odoo(full=True)
    team = a_team_odoo_leaves_alone()
    rule = assign_rule(team, now=odoo_now(odoo))
    created = new_unassigned_tickets(odoo, team.odoo_id, 4)
    sync_odoo()

    run = automation_run(now=odoo_now(odoo))
    assert run.changes == 4
    assert set(drain()) == {OdooAction.State.SENT}

    members = set(team.members.filter(active=True).values_list("odoo_id", flat=True))
    assignees = [odoo_ticket(odoo.state, t)["user_id"][0] for t in created]
    assert set(assignees) <= members
    assert max(assignees.count(a) for a in set(assignees)) - min(
        assignees.count(a) for a in members) <= 1  # round robin: within one of even
    (note,) = notes(odoo.state, created[0])
    assert "Round robin for new tickets" in note["body"]
    assert note["subtype_id"][1] == "Note" or note["is_internal"]  # internal: no customer sees it

    # The sync reads the console's writes back: the rule has done its part, nothing fires again.
    sync_odoo()
    assert Ticket.objects.get(pk=created[0]).odoo_write_uid == odoo.state.integration_uid
    odoo.state.clock.advance(timedelta(minutes=30))
    assert automation_run(now=odoo_now(odoo)) is None
    assert rule.changes.count() == 4


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 18)], indirect=True)
def test_undo_restores_odoo_and_is_refused_once_a_person_changed_the_ticket(odoo):
    sync_odoo(full=True)
    team = a_team_odoo_leaves_alone()
    assign_rule(team, now=odoo_now(odoo))
    first, second = new_unassigned_tickets(odoo, team.odoo_id, 2)
    sync_odoo()
    automation_run(now=odoo_now(odoo))
    drain()
    sync_odoo()
    lead = make_lead(UserFactory(username="sup"), supervisor=True)

    change = AutomationChange.objects.get(ticket_id=first)
    undo_change(change, user=lead)
    assert drain() == [OdooAction.State.SENT]
    assert odoo_ticket(odoo.state, first)["user_id"] is False
    assert any("undid the automated change" in n["body"] for n in notes(odoo.state, first))
    with pytest.raises(UndoRefused, match="already been undone"):
        undo_change(AutomationChange.objects.get(pk=change.pk), user=lead)

    # A person picks the other ticket up in Odoo: the undo would overwrite them, so it is refused.
    person = team.members.filter(active=True).order_by("-odoo_id").first()
    odoo.state.clock.advance(timedelta(minutes=2))
    odoo.state.call(TICKET, "write", [[second], {"priority": "2"}], uid=person.odoo_id)
    sync_odoo()
    with pytest.raises(UndoRefused, match="A person has changed this ticket since"):
        undo_change(AutomationChange.objects.get(ticket_id=second), user=lead)
    assert not OdooAction.objects.filter(kind=OdooAction.Kind.UNDO, ticket_id=second).exists()


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 16)], indirect=True)
def test_the_outbox_refuses_an_automated_row_outside_the_honest_limit(odoo):
    sync_odoo(full=True)
    ticket = Ticket.objects.open().select_related("stage").order_by("odoo_id").first()
    closing = Stage.objects.filter(is_closed=True).first()
    before = odoo_ticket(odoo.state, ticket.pk, fields=("stage_id", "description"))
    forged = [
        {"stage_id": closing.pk},  # closing, solving, cancelling
        {"description": "<p>Dear customer, this is solved.</p>"},  # anything but the routine fields
        {"active": False},
    ]
    for values in forged:
        action = OdooAction.objects.create(ticket=ticket, kind=OdooAction.Kind.AUTOMATION,
                                           created_at=ticket.odoo_write_date, payload={"values": values})
        assert outbox_send(action.pk) == OdooAction.State.FAILED
        action.refresh_from_db()
        assert action.last_error.startswith("Refused by the console: Automation")
    assert odoo_ticket(odoo.state, ticket.pk, fields=("stage_id", "description")) == before


@pytest.mark.parametrize("simulator", [("enterprise", 17)], indirect=True)
def test_an_assignment_rule_is_refused_on_a_team_odoo_assigns_itself(odoo):
    sync_odoo(full=True)
    team = a_team_odoo_leaves_alone()
    odoo.state.call("helpdesk.team", "write", [[team.odoo_id], {"auto_assignment": True,
                                                                "assign_method": "balanced"}])
    sync_odoo()
    problems = rule_problems(AutomationRule(action=AutomationRule.Action.ASSIGN), team_ids=[team.pk],
                             add_tag_ids=[])
    assert team.name in problems["teams"] and "balanced" in problems["teams"]
    rule = assign_rule(team, now=odoo_now(odoo))
    new_unassigned_tickets(odoo, team.odoo_id, 2)
    sync_odoo()
    (plan,) = plan_pass([rule], now=odoo_now(odoo))
    assert plan.refused and not plan.items
    assert automation_run(now=odoo_now(odoo)) is None


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 16)], indirect=True)
def test_a_vip_customer_or_a_long_thread_found_in_odoo_hands_the_ticket_to_a_person(odoo, settings):
    settings.AUTOMATION_LONG_THREAD = 3
    sync_odoo(full=True)
    team = a_team_odoo_leaves_alone()
    rule = assign_rule(team, now=odoo_now(odoo))
    harbor = [("parent_id.name", "=", "Harbor Insurance")]  # the seed's VIP company
    vip_contact = odoo.state.call("res.partner", "search", [harbor])[0]
    vip, chatty, plain = new_unassigned_tickets(odoo, team.odoo_id, 3)
    odoo.state.call(TICKET, "write", [[vip], {"partner_id": vip_contact}])
    for n in range(4):
        odoo.state.call(TICKET, "message_post", [[chatty]], {  # as the mail gateway files an email
            "body": f"<p>Any news? ({n})</p>", "message_type": "email", "subtype_xmlid": "mail.mt_comment"})
    sync_odoo()

    assert automation_run(now=odoo_now(odoo)).changes == 3
    drain()

    outcome = {c.ticket_id: (c.outcome, c.summary) for c in rule.changes.all()}
    assert outcome[vip] == ("handed", "Handed to a person: the customer is tagged VIP in Odoo")
    assert outcome[chatty] == ("handed",
                               "Handed to a person: the conversation with the customer is long (4 messages)")
    assert outcome[plain][0] == "queued"
    assert odoo_ticket(odoo.state, vip)["user_id"] is False
    assert odoo_ticket(odoo.state, chatty)["user_id"] is False
    assert odoo_ticket(odoo.state, plain)["user_id"]
    odoo.state.clock.advance(timedelta(hours=2))
    sync_odoo()
    assert automation_run(now=odoo_now(odoo)) is None  # handed once: the rule leaves them alone
