"""The automation pages through Django's test client: the rules list (and its query count), the rule
form checked by the domain, who may write, the preview that writes nothing, switching, the ledger's
pages and undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from escalations.automation.run import automation_run
from escalations.models import AutomationChange, AutomationRule, AutomationRun, OdooAction, Ticket
from tests.factories import ClosedStageFactory, StageFactory, TagFactory, TeamFactory, TicketFactory
from tests.outbox_helpers import make_lead

pytestmark = pytest.mark.django_db
Outcome = AutomationChange.Outcome
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def boss(db):
    user = User.objects.create_user("boss", password="x", first_name="Sue", last_name="Pervisor")
    return make_lead(user, supervisor=True)


@pytest.fixture
def reader(db):
    return User.objects.create_user("reader", password="x")


@pytest.fixture
def team():
    return TeamFactory(name="Hardware")


@pytest.fixture
def tickets(team):
    """Three Medium tickets of the team, one already Urgent, one of another team."""
    mine = [TicketFactory(team=team, name=f"Printer jam {n}") for n in range(3)]
    TicketFactory(team=team, priority="3", name="Already urgent")
    TicketFactory(team=TeamFactory(name="Software"), name="Other team's ticket")
    return mine


def urgent_rule(team, **fields) -> AutomationRule:
    rule = AutomationRule.objects.create(**{
        "name": "Hardware is urgent", "trigger": "schedule", "every_minutes": 60,
        "action": "set_priority", "set_priority": "3", **fields})
    rule.teams.set([team])
    return rule


def form_data(**fields) -> dict:
    return {"name": "A rule", "trigger": "schedule", "every_minutes": "60", "action": "set_priority",
            "set_priority": "3", "assign_method": "round_robin", **fields}


# -- the rules list -----------------------------------------------------------------------------------


def test_rules_list_describes_each_rule_with_its_figures_in_a_fixed_number_of_queries(
        client, boss, team, tickets, django_assert_num_queries):
    tag = TagFactory(name="printer")
    urgent_rule(team)
    tagger = AutomationRule.objects.create(name="Tag printers", trigger="created", action="add_tags",
                                           title_keywords="printer, toner", priorities=["2", "3"])
    tagger.add_tags.set([tag])
    AutomationRule.objects.create(name="Move waiting", trigger="idle", idle_minutes=120, action="move",
                                  move_to=StageFactory(name="Waiting"), enabled=True)
    assert automation_run().changes == 5  # the move rule is on, and the tickets idle for days
    client.force_login(boss)
    # user (the session is cached); the figures; the rules and their five parts; move_to; the honest limit
    # (the console's uid, a count); Odoo's assigning teams; the last pass; the supervisor check; the key
    # alert.
    with django_assert_num_queries(15):
        response = client.get(reverse("automation"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "team Hardware" in html and "Every 1 hour" in html and "Set priority Urgent" in html
    assert "priority High or Urgent" in html and "title with “printer” or “toner”" in html
    assert "Add tag printer" in html and "Move to Waiting" in html and "Assignee idle 2 hours" in html
    assert "all open tickets" in html  # the idle rule's empty scope
    assert "Tickets closed with no person's activity after automation: <b>0</b>" in html
    assert "Odoo assigns no team's tickets itself" in html
    assert html.count(">Switch on<") == 2 and html.count(">Switch off<") == 1
    assert reverse("automation-new") in html


def test_rules_list_shows_figures_odoo_assigning_teams_the_cap_and_closed_tickets(
        client, reader, team, tickets):
    TeamFactory(name="Billing", odoo_assigns="balanced")
    rule = urgent_rule(team, enabled=True, enabled_at=timezone.now())
    run = automation_run()
    assert run.changes == 3
    AutomationRun.objects.create(started_at=timezone.now() + timedelta(minutes=1), capped=True, cap=50,
                                 changes=50)
    closing = ClosedStageFactory(name="Solved")
    Ticket.objects.filter(pk=tickets[0].pk).update(stage=closing)
    client.force_login(reader)
    html = client.get(reverse("automation")).content.decode()
    row = html[html.index(f'id="rule-{rule.pk}"'):]
    assert '<td class="num" data-label="Passes">1</td>' in row
    assert f'?rule={rule.pk}">3</a>' in row
    assert "Odoo assigns these teams' tickets itself: Billing (balanced)" in html
    assert "stopped at its cap of 50 changes" in html
    assert "Tickets closed with no person's activity after automation: 1." in html
    assert reverse("ticket", args=[tickets[0].pk]) in html
    # A reader reads: no button that writes.
    assert ">Switch off<" not in html and reverse("automation-new") not in html


def test_the_list_needs_a_login(client):
    response = client.get(reverse("automation"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# -- the rule form -------------------------------------------------------------------------------------


def test_a_new_rule_is_saved_off_and_goes_to_its_preview(client, boss, team):
    client.force_login(boss)
    response = client.post(reverse("automation-new"), form_data(teams=[team.pk], priorities=["0", "1"]))
    rule = AutomationRule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("automation-preview", args=[rule.pk])
    assert not rule.enabled and rule.created_by == boss
    assert list(rule.teams.all()) == [team] and rule.priorities == ["0", "1"] and rule.set_priority == "3"


def test_editing_a_rule_that_is_on_switches_it_off_and_says_so(client, boss, team):
    rule = urgent_rule(team, enabled=True, enabled_at=timezone.now())
    client.force_login(boss)
    edit = reverse("automation-edit", args=[rule.pk])
    assert "Saving a change switches it off" in client.get(edit).content.decode()
    response = client.post(edit, form_data(name="Renamed", teams=[team.pk]), follow=True)
    rule.refresh_from_db()
    assert rule.name == "Renamed" and not rule.enabled
    assert "Saved and switched off" in response.content.decode()


def test_a_rule_moving_tickets_to_a_closing_stage_is_refused_on_its_field(client, boss):
    solved = ClosedStageFactory(name="Solved")
    client.force_login(boss)
    response = client.post(reverse("automation-new"), form_data(action="move", move_to=solved.pk))
    assert response.status_code == 400
    assert "move_to" in response.context["form"].errors
    assert not AutomationRule.objects.exists()


def test_the_domain_s_problems_land_on_their_fields(client, boss):
    client.force_login(boss)
    response = client.post(reverse("automation-new"), form_data(set_priority="", every_minutes=""))
    errors = response.context["form"].errors
    assert errors["set_priority"] == ["Choose the priority to set."]
    assert errors["every_minutes"] == ["Say how often the rule runs, in minutes (5 or more)."]
    assert "Choose the priority to set." in response.content.decode()


def test_an_assign_rule_on_a_team_odoo_assigns_itself_is_refused_with_the_team_s_name(client, boss):
    billing = TeamFactory(name="Billing", odoo_assigns="balanced")
    client.force_login(boss)
    response = client.post(reverse("automation-new"), form_data(action="assign", teams=[billing.pk]))
    assert response.status_code == 400
    [error] = response.context["form"].errors["teams"]
    assert "Odoo already assigns the tickets of Billing itself (balanced)" in error
    assert not AutomationRule.objects.exists()


@pytest.mark.parametrize("who", ["reader", "lead"])
def test_only_supervisors_write_rules(client, team, reader, who):
    user = reader if who == "reader" else make_lead(User.objects.create_user("tl"), teams=[team])
    rule = urgent_rule(team)
    client.force_login(user)
    assert client.get(reverse("automation-new")).status_code == 403
    assert client.post(reverse("automation-new"), form_data()).status_code == 403
    assert client.get(reverse("automation-edit", args=[rule.pk])).status_code == 403
    assert client.post(reverse("automation-switch", args=[rule.pk]), {"on": "1"}).status_code == 403
    rule.refresh_from_db()
    assert not rule.enabled and AutomationRule.objects.count() == 1
    assert client.get(reverse("automation-preview", args=[rule.pk])).status_code == 200  # reading is fine


# -- the preview ---------------------------------------------------------------------------------------


def test_the_preview_lists_what_the_rule_would_do_and_writes_nothing(client, reader, team, tickets):
    rule = urgent_rule(team)
    client.force_login(reader)
    response = client.get(reverse("automation-preview", args=[rule.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for ticket in tickets:
        assert f'href="{reverse("ticket", args=[ticket.pk])}">{ticket.reference}</a>' in html
    assert html.count("Priority Medium → Urgent") == 3
    assert "Already urgent" not in html and "Other team" not in html
    assert "<b>3</b> tickets changed" in html
    assert not OdooAction.objects.exists() and not AutomationChange.objects.exists()
    assert not AutomationRun.objects.exists()
    rule.refresh_from_db()
    assert not rule.enabled and rule.enabled_at is None


def test_the_preview_of_a_created_rule_that_is_off_looks_back_a_day(client, reader, team):
    TicketFactory(team=team, created_at=timezone.now() - timedelta(hours=2), name="New this morning")
    TicketFactory(team=team, created_at=timezone.now() - timedelta(days=3), name="Old one")
    rule = urgent_rule(team, trigger="created")
    client.force_login(reader)
    html = client.get(reverse("automation-preview", args=[rule.pk])).content.decode()
    assert "As if it had been switched on a day ago" in html
    assert "New this morning" in html and "Old one" not in html


def test_the_preview_says_why_an_assign_rule_does_nothing(client, reader):
    billing = TeamFactory(name="Billing", odoo_assigns="randomly")
    rule = AutomationRule.objects.create(name="Assign billing", action="assign", trigger="created")
    rule.teams.set([billing])
    client.force_login(reader)
    html = client.get(reverse("automation-preview", args=[rule.pk])).content.decode()
    assert "Nothing would happen." in html and "Odoo already assigns the tickets of Billing" in html


# -- switching -----------------------------------------------------------------------------------------


def test_a_supervisor_switches_a_rule_on_and_off(client, boss, team):
    rule = urgent_rule(team)
    client.force_login(boss)
    response = client.post(reverse("automation-switch", args=[rule.pk]), {"on": "1"}, follow=True)
    rule.refresh_from_db()
    assert rule.enabled and rule.enabled_at is not None
    assert "is on: it acts from the next pass" in response.content.decode()
    client.post(reverse("automation-switch", args=[rule.pk]), {"on": "0"})
    rule.refresh_from_db()
    assert not rule.enabled


def test_a_rule_with_a_problem_stays_off_with_the_reason(client, boss, team):
    rule = urgent_rule(team, set_priority="")
    client.force_login(boss)
    response = client.post(reverse("automation-switch", args=[rule.pk]), {"on": "1"}, follow=True)
    assert response.status_code == 200
    assert "stays off: Choose the priority to set." in response.content.decode()
    rule.refresh_from_db()
    assert not rule.enabled


def test_a_forged_switch_is_a_400_not_a_500(client, boss, team):
    rule = urgent_rule(team)
    client.force_login(boss)
    assert client.post(reverse("automation-switch", args=[rule.pk]), {"on": "yes"}).status_code == 400


# -- the ledger ----------------------------------------------------------------------------------------


def ledger_rows(rule, tickets, count: int, *, state=OdooAction.State.QUEUED) -> list[AutomationChange]:
    now = timezone.now()
    rows = []
    for n in range(count):
        ticket = tickets[n % len(tickets)]
        action = OdooAction.objects.create(
            ticket=ticket, kind=OdooAction.Kind.AUTOMATION, created_at=now, state=state,
            payload={"values": {"priority": "3"}}, applied_at=now if state == "sent" else None,
            applied_write_date=ticket.odoo_write_date if state == "sent" else None)
        rows.append(AutomationChange.objects.create(
            rule=rule, ticket=ticket, action="set_priority", occasion_at=now - timedelta(hours=n),
            before={"priority": "1"}, after={"priority": "3"}, summary=f"Priority Medium → Urgent #{n}",
            at=now - timedelta(minutes=n), odoo_action=action))
    return rows


def test_the_ledger_pages_fifty_rows_newest_first_in_a_fixed_number_of_queries(
        client, boss, team, tickets, django_assert_num_queries):
    rule = urgent_rule(team)
    ledger_rows(rule, tickets, 53)
    client.force_login(boss)
    # user (the session is cached); the supervisor check; the count; the page's rows with all they show;
    # the key alert.
    with django_assert_num_queries(5):
        first = client.get(reverse("automation-ledger")).content.decode()
    assert first.count('class="ledger-row') == 50
    assert first.index("Urgent #0<") < first.index("Urgent #1<") and "Urgent #50<" not in first
    assert "Page 1 of 2" in first and "Pending" in first
    second = client.get(reverse("automation-ledger"), {"page": "2"}).content.decode()
    assert second.count('class="ledger-row') == 3 and "Urgent #52<" in second
    assert client.get(reverse("automation-ledger"), {"page": "abc"}).status_code == 200
    past_the_end = client.get(reverse("automation-ledger"), {"page": "99999999999999999999"})
    assert "Page 2 of 2" in past_the_end.content.decode()


def test_the_ledger_filters_by_rule(client, reader, team, tickets):
    rule, other = urgent_rule(team), urgent_rule(team, name="Other rule")
    ledger_rows(rule, tickets, 2)
    AutomationChange.objects.create(rule=other, ticket=tickets[0], action="set_priority",
                                    summary="Other's change", occasion_at=timezone.now(), at=timezone.now(),
                                    outcome=Outcome.HANDED)
    client.force_login(reader)
    html = client.get(reverse("automation-ledger"), {"rule": other.pk}).content.decode()
    assert "Other&#x27;s change" in html and "Urgent #0" not in html and "Handed to a person" in html
    assert client.get(reverse("automation-ledger"), {"rule": "9999"}).status_code == 404
    assert client.get(reverse("automation-ledger"), {"rule": "x"}).status_code == 200


def test_undo_is_refused_in_the_row_while_the_change_waits_for_odoo(client, boss, team, tickets):
    [change] = ledger_rows(urgent_rule(team), tickets, 1)
    client.force_login(boss)
    html = client.get(reverse("automation-ledger")).content.decode()
    assert ">Undo</button>" not in html  # nothing applied, nothing to take back
    response = client.post(reverse("automation-undo", args=[change.pk]), **HTMX)
    assert response.status_code == 409
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="change-{change.pk}"')
    assert "has not been applied in Odoo (yet)" in body
    change.refresh_from_db()
    assert change.outcome == Outcome.QUEUED and not OdooAction.objects.filter(kind="undo").exists()


def test_undo_of_an_applied_change_queues_the_undo_and_swaps_the_row(client, boss, team, tickets):
    [change] = ledger_rows(urgent_rule(team), tickets, 1, state=OdooAction.State.SENT)
    client.force_login(boss)
    assert ">Undo</button>" in client.get(reverse("automation-ledger")).content.decode()
    response = client.post(reverse("automation-undo", args=[change.pk]), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Undone by Sue Pervisor" in body and ">Undo</button>" not in body
    undo = OdooAction.objects.get(kind=OdooAction.Kind.UNDO)
    assert undo.payload["values"] == {"priority": "1"} and undo.created_by == boss
    change.refresh_from_db()
    assert change.outcome == Outcome.UNDONE and change.undo_action == undo
    again = client.post(reverse("automation-undo", args=[change.pk]), **HTMX)  # a double click
    assert again.status_code == 409 and "already been undone" in again.content.decode()
    assert OdooAction.objects.filter(kind=OdooAction.Kind.UNDO).count() == 1


def test_undo_without_htmx_redirects_back_with_the_message(client, boss, team, tickets):
    [change] = ledger_rows(urgent_rule(team), tickets, 1, state=OdooAction.State.SENT)
    client.force_login(boss)
    back = reverse("automation-ledger") + "?page=1"
    response = client.post(reverse("automation-undo", args=[change.pk]), {"next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert "Undone: it will show in Odoo within seconds." in response.content.decode()


def test_undo_by_someone_who_may_not_act_on_the_ticket_is_a_403(client, reader, team, tickets):
    [change] = ledger_rows(urgent_rule(team), tickets, 1, state=OdooAction.State.SENT)
    other_lead = make_lead(User.objects.create_user("tl"), teams=[TeamFactory()])
    for user in (reader, other_lead):
        client.force_login(user)
        assert ">Undo</button>" not in client.get(reverse("automation-ledger")).content.decode()
        assert client.post(reverse("automation-undo", args=[change.pk])).status_code == 403
        htmx = client.post(reverse("automation-undo", args=[change.pk]), **HTMX)
        assert htmx.status_code == 403 and "a team you do not lead" in htmx.content.decode()
    change.refresh_from_db()
    assert change.outcome == Outcome.QUEUED and not OdooAction.objects.filter(kind="undo").exists()


def test_a_lead_of_the_ticket_s_team_may_undo(client, team, tickets):
    [change] = ledger_rows(urgent_rule(team), tickets, 1, state=OdooAction.State.SENT)
    client.force_login(make_lead(User.objects.create_user("tl"), teams=[team]))
    assert client.post(reverse("automation-undo", args=[change.pk]), **HTMX).status_code == 200
    assert OdooAction.objects.filter(kind=OdooAction.Kind.UNDO).count() == 1


@pytest.mark.parametrize("forged", [
    {"teams": ["99999999999999999999"]}, {"move_to": "99999999999999999999", "action": "move"},
    {"customers": ["-1"]}, {"priorities": ["9"]}, {"every_minutes": "1e9"}, {"trigger": "reply"},
    {"action": "close"}, {"set_priority": "\x00"}, {"action": "add_tags", "add_tags": ["9" * 5000]},
    {"stages": ["١٢"]},
])
def test_a_forged_rule_form_is_a_400_with_nothing_saved(client, boss, forged):
    client.force_login(boss)
    response = client.post(reverse("automation-new"), form_data(**forged))
    assert response.status_code == 400
    assert not AutomationRule.objects.exists()
