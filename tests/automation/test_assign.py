"""Who an "assign" rule gives each ticket to (escalations.automation.assign): round robin or least
loaded over the team's available agents, the cap, leaves, and teams Odoo assigns itself."""

from collections import Counter
from datetime import timedelta
from itertools import count

import pytest

from escalations.automation.assign import assignees, odoo_assigning_teams, refuse_odoo_assigned
from escalations.models import AutomationRule, CalendarLeave, Team, Ticket, WorkingCalendar
from escalations.sync.run import sync_odoo
from tests.conftest import T0
from tests.factories import AgentFactory, ClosedStageFactory, StageFactory, TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db

ROUND_ROBIN, LEAST_LOADED = AutomationRule.AssignMethod.ROUND_ROBIN, AutomationRule.AssignMethod.LEAST_LOADED
_ticket_ids = count(500_000)


def rule(method=ROUND_ROBIN, cap=None, **kw) -> AutomationRule:
    return AutomationRule.objects.create(
        name="Spread the queue", action=AutomationRule.Action.ASSIGN, assign_method=method,
        max_open_per_agent=cap, **kw,
    )


def team_of(size: int, **kw) -> tuple[Team, list[int]]:
    """A team of `size` active agents (each with a resource), and their ids in order."""
    team = TeamFactory(**kw)
    agents = AgentFactory.create_batch(size)
    for agent in agents:
        agent.resource_odoo_id = 9000 + agent.odoo_id
        agent.save()
    team.members.set(agents)
    return team, sorted(a.odoo_id for a in agents)


def new_tickets(team: Team, n: int) -> list[tuple[int, int]]:
    return [(next(_ticket_ids), team.odoo_id) for _ in range(n)]


def open_tickets(loads: dict[int, int], team: Team) -> None:
    """Open tickets already assigned: {agent id: how many}."""
    stage = StageFactory()
    Ticket.objects.bulk_create(
        Ticket(odoo_id=next(_ticket_ids), name="Old one", team=team, stage=stage, assignee_id=agent,
               odoo_write_date=T0)
        for agent, n in loads.items() for _ in range(n)
    )


def loads_after(result, start: dict[int, int] | None = None) -> Counter:
    """Open tickets per agent once the tickets given are added to `start`."""
    return Counter(a for a in result.agents.values() if a is not None) + Counter(start or {})


def spread(counts: dict[int, int], agents: list[int]) -> int:
    return max(counts.get(a, 0) for a in agents) - min(counts.get(a, 0) for a in agents)


# -- spreading --


def test_round_robin_spreads_a_thousand_tickets_within_one_of_even_in_id_order():
    team, agents = team_of(7)
    tickets = new_tickets(team, 1000)
    result = assignees(rule(), tickets, now=T0)
    assert [result.agents[t] for t, _ in tickets[:8]] == agents + agents[:1]
    given = loads_after(result)
    assert sum(given.values()) == 1000 and spread(given, agents) <= 1
    assert result.last_assigned == {str(team.odoo_id): result.agents[tickets[-1][0]]}


def test_least_loaded_levels_unequal_backlogs_then_stays_within_one_of_even():
    team, agents = team_of(3)
    start = dict(zip(agents, [0, 50, 200], strict=True))
    open_tickets(start, team)
    tickets = new_tickets(team, 1000)
    result = assignees(rule(LEAST_LOADED), tickets, now=T0)
    # 1,250 open tickets in all: every agent ends with 416 or 417, whatever they started with.
    assert spread(loads_after(result, start), agents) <= 1
    # The first 50 go to the idle agent alone, until the first two are level.
    assert {result.agents[t] for t, _ in tickets[:50]} == {agents[0]}
    assert result.last_assigned == {}  # round robin's pointer is left as it was


def test_least_loaded_cannot_level_a_backlog_bigger_than_the_new_tickets_and_says_so_honestly():
    team, agents = team_of(3)
    start = dict(zip(agents, [0, 0, 500], strict=True))
    open_tickets(start, team)
    given = loads_after(assignees(rule(LEAST_LOADED), new_tickets(team, 100), now=T0))
    assert given == {agents[0]: 50, agents[1]: 50}  # the overloaded agent gets none


def test_least_loaded_counts_only_open_tickets_across_all_teams():
    team, agents = team_of(2)
    other = TeamFactory()
    open_tickets({agents[0]: 3}, other)  # another team's open tickets are load too
    closed = ClosedStageFactory()
    busy_elsewhere = team.members.get(odoo_id=agents[1])
    for kw in ({"stage": closed}, {"active": False}, {"deleted_at": T0}):
        TicketFactory.create_batch(5, team=team, assignee=busy_elsewhere, **kw)
    result = assignees(rule(LEAST_LOADED), new_tickets(team, 3), now=T0)
    assert loads_after(result) == {agents[1]: 3}


def test_least_loaded_counts_an_agent_of_two_teams_once():
    shared = AgentFactory(odoo_id=1)
    first, second = TeamFactory(), TeamFactory()
    a, b = AgentFactory(), AgentFactory()
    first.members.set([shared, a])
    second.members.set([shared, b])
    pairs = zip(new_tickets(first, 150), new_tickets(second, 150), strict=True)
    tickets = [t for pair in pairs for t in pair]
    given = loads_after(assignees(rule(LEAST_LOADED), tickets, now=T0))
    assert spread(given, [shared.odoo_id, a.odoo_id, b.odoo_id]) <= 1


# -- who is available --


@pytest.mark.parametrize("method", [ROUND_ROBIN, LEAST_LOADED])
def test_archived_agents_and_non_members_are_never_chosen(method):
    team, agents = team_of(3)
    archived = team.members.get(odoo_id=agents[0])
    archived.active = False
    archived.save()
    other_team, outsiders = team_of(2)
    result = assignees(rule(method), new_tickets(team, 30), now=T0)
    assert set(result.agents.values()) == set(agents[1:])


@pytest.mark.parametrize("method", [ROUND_ROBIN, LEAST_LOADED])
def test_an_agent_on_personal_leave_now_is_skipped(method):
    team, agents = team_of(3)
    on_leave, back, not_yet = team.members.order_by("odoo_id")
    CalendarLeave.objects.create(name="Holiday", resource_odoo_id=on_leave.resource_odoo_id,
                                 starts_at=T0 - timedelta(days=1), ends_at=T0 + timedelta(days=1))
    CalendarLeave.objects.create(resource_odoo_id=back.resource_odoo_id,
                                 starts_at=T0 - timedelta(days=2), ends_at=T0)  # ended: back now
    CalendarLeave.objects.create(resource_odoo_id=not_yet.resource_odoo_id,
                                 starts_at=T0 + timedelta(minutes=1), ends_at=T0 + timedelta(days=1))
    # A personal leave filed on the team's calendar still closes only that person's day.
    calendar = WorkingCalendar.objects.create(odoo_id=77, name="Brussels")
    team.calendar_odoo_id = 77
    team.save()
    CalendarLeave.objects.filter(resource_odoo_id=on_leave.resource_odoo_id).update(calendar=calendar)
    result = assignees(rule(method), new_tickets(team, 20), now=T0)
    assert set(result.agents.values()) == {back.odoo_id, not_yet.odoo_id}


def test_a_holiday_of_the_teams_calendar_or_of_every_calendar_closes_the_team():
    calendar = WorkingCalendar.objects.create(odoo_id=77, name="Brussels")
    elsewhere = WorkingCalendar.objects.create(odoo_id=78, name="Lisbon")
    team, agents = team_of(2, calendar_odoo_id=77, name="Support EU")
    open_team, _ = team_of(2, calendar_odoo_id=78)
    CalendarLeave.objects.create(calendar=calendar, name="Armistice Day", starts_at=T0 - timedelta(hours=9),
                                 ends_at=T0 + timedelta(hours=15))
    tickets = new_tickets(team, 2) + new_tickets(open_team, 2)
    result = assignees(rule(), tickets, now=T0)
    assert [result.agents[t] for t, _ in tickets[:2]] == [None, None]
    assert None not in [result.agents[t] for t, _ in tickets[2:]]
    assert result.why_none[tickets[0][0]] == "Support EU is closed now (Armistice Day)"

    CalendarLeave.objects.all().delete()
    CalendarLeave.objects.create(calendar=elsewhere, starts_at=T0 - timedelta(hours=1),
                                 ends_at=T0 + timedelta(hours=1))
    assert None not in assignees(rule(), new_tickets(team, 2), now=T0).agents.values()
    CalendarLeave.objects.create(calendar=None, name="New Year", starts_at=T0 - timedelta(hours=1),
                                 ends_at=T0 + timedelta(hours=1))
    assert set(assignees(rule(), tickets, now=T0).agents.values()) == {None}


def test_everyone_on_leave_or_no_members_gives_nobody_with_the_reason():
    team, agents = team_of(1, name="Billing")
    CalendarLeave.objects.create(resource_odoo_id=team.members.get().resource_odoo_id,
                                 starts_at=T0 - timedelta(hours=1), ends_at=T0 + timedelta(hours=1))
    empty = TeamFactory()
    [(t1, _), (t2, _)] = tickets = new_tickets(team, 1) + new_tickets(empty, 1)
    result = assignees(rule(), tickets + [(next(_ticket_ids), None)], now=T0)
    assert set(result.agents.values()) == {None}
    assert result.why_none[t1] == "every member of Billing is on leave now"
    assert "no active member" in result.why_none[t2]


# -- the cap --


@pytest.mark.parametrize("method", [ROUND_ROBIN, LEAST_LOADED])
def test_no_agent_goes_past_the_cap_and_tickets_past_everyones_cap_get_nobody(method):
    team, agents = team_of(3, name="Support EU")
    start = dict(zip(agents, [5, 3, 0], strict=True))
    open_tickets(start, team)
    tickets = new_tickets(team, 20)
    result = assignees(rule(method, cap=5), tickets, now=T0)
    final = loads_after(result, start)
    assert all(final[a] == 5 for a in agents)  # 7 tickets fill everyone up to 5, none past it
    assert [result.agents[t] is None for t, _ in tickets] == [False] * 7 + [True] * 13
    assert result.why_none[tickets[-1][0]] == (
        "every available member of Support EU has 5 open tickets (the rule's cap)"
    )


# -- round robin's pointer --


def test_round_robin_continues_from_the_pointer_across_two_passes():
    team, agents = team_of(3)
    r = rule()
    first = assignees(r, new_tickets(team, 2), now=T0)
    assert list(first.agents.values()) == agents[:2]
    assert r.last_assigned == {}  # reads only: the engine saves the pointer with its ledger rows
    r.last_assigned = first.last_assigned
    r.save()
    r.refresh_from_db()
    second = assignees(r, new_tickets(team, 2), now=T0)
    assert list(second.agents.values()) == [agents[2], agents[0]]


def test_round_robin_starts_after_the_pointer_even_when_that_agent_is_away_now():
    team, agents = team_of(4)
    away = team.members.get(odoo_id=agents[1])
    CalendarLeave.objects.create(resource_odoo_id=away.resource_odoo_id,
                                 starts_at=T0 - timedelta(hours=1), ends_at=T0 + timedelta(hours=1))
    r = rule(last_assigned={str(team.odoo_id): agents[1]})
    result = assignees(r, new_tickets(team, 3), now=T0)
    assert list(result.agents.values()) == [agents[2], agents[3], agents[0]]


# -- speed --


@pytest.mark.parametrize(("method", "cap", "queries"), [(ROUND_ROBIN, None, 2), (ROUND_ROBIN, 400, 3),
                                                       (LEAST_LOADED, None, 3), (LEAST_LOADED, 400, 3)])
def test_the_number_of_queries_does_not_grow_with_the_tickets(
    django_assert_num_queries, method, cap, queries
):
    teams = [team_of(5) for _ in range(3)]
    for team, agents in teams:
        open_tickets(dict.fromkeys(agents, 2), team)
    r = rule(method, cap)
    for n in (10, 1000):
        tickets = [t for team, _ in teams for t in new_tickets(team, n)]
        with django_assert_num_queries(queries):
            result = assignees(r, tickets, now=T0)
        assert None not in result.agents.values()


# -- Odoo's own assignment --


def test_a_team_odoo_assigns_itself_gets_nobody():
    team, agents = team_of(2, odoo_assigns="balanced")
    assert set(assignees(rule(LEAST_LOADED), new_tickets(team, 3), now=T0).agents.values()) == {None}


def test_an_assignment_rule_on_a_team_odoo_assigns_itself_is_refused_naming_the_team_and_method():
    eu = TeamFactory(name="Support EU", odoo_assigns="balanced")
    us = TeamFactory(name="Support US", odoo_assigns="randomly")
    plain = TeamFactory(name="Billing")
    TeamFactory(name="Old team", odoo_assigns="randomly", active=False)
    assert refuse_odoo_assigned([plain.odoo_id]) is None
    assert refuse_odoo_assigned([eu.odoo_id, plain.odoo_id]) == (
        "Odoo already assigns the tickets of Support EU itself (balanced): an assignment rule there would "
        "be undone by Odoo. Switch off automatic assignment in Odoo, or leave this team out."
    )
    both = refuse_odoo_assigned([us.odoo_id, eu.odoo_id])
    assert "of Support EU (balanced) and Support US (randomly) itself" in both
    assert both.endswith("leave these teams out.")
    assert set(odoo_assigning_teams()) == {eu, us}


def test_a_rule_over_every_team_is_refused_only_for_an_odoo_assigned_team_with_open_tickets():
    eu = TeamFactory(name="Support EU", odoo_assigns="balanced")
    TicketFactory(team=TeamFactory(name="Billing"))
    TicketFactory(team=eu, stage=ClosedStageFactory())
    assert refuse_odoo_assigned([]) is None  # nothing of it is open: the rule would not touch it
    TicketFactory(team=eu)
    reason = refuse_odoo_assigned([])
    assert reason.startswith(
        "This rule covers every team, and Odoo already assigns the tickets of Support EU itself (balanced)"
    )


@pytest.mark.parametrize("simulator", [("oca", 16)], indirect=True)
def test_an_oca_team_with_helpdesk_mgmt_assign_method_is_known_as_assigned_by_odoo(odoo):
    state = odoo.state
    team_id = state.call("helpdesk.ticket.team", "search", [[]], {"order": "id", "limit": 1})[0]
    state.call("helpdesk.ticket.team", "write", [[team_id], {"assign_method": "balanced"}])
    sync_odoo(full=True)
    assert Team.objects.get(odoo_id=team_id).odoo_assigns == "balanced"
    assert set(Team.objects.exclude(odoo_id=team_id).values_list("odoo_assigns", flat=True)) == {""}
    assert "balanced" in refuse_odoo_assigned([team_id])
