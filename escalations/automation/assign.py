"""Who an "assign" rule gives each ticket to: round robin or the least loaded of the team's available
agents, with an optional cap on open tickets per agent.

Available: a member of the ticket's team in the mirror, active, and not on leave now. A personal leave
(a calendar leave with the agent's resource) takes that agent out; a leave of the team's calendar, or a
holiday of every calendar (no calendar), takes the whole team out. Odoo assigns some teams' tickets
itself (`Team.odoo_assigns`): a rule there would be undone by Odoo, so those tickets get nobody here and
the rule is refused upfront (`refuse_odoo_assigned`).

Set-based: at most three queries whatever the number of tickets (the members, the leaves covering now,
the agents' open tickets in one aggregate); the rest is worked out in memory, and the counts move as
tickets are given out, so a pass spreads them as the next pass would see them. Reads only: the new
round-robin pointer is returned for the engine to save with its ledger rows, in the same transaction.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from escalations.models import AutomationRule, CalendarLeave, Team, Ticket

Method = AutomationRule.AssignMethod


@dataclass(frozen=True)
class Assignments:
    """What `assignees` decided. `agents`: each ticket's agent, None when nobody is available, with the
    reason in `why_none` (plain words, for the ledger's "handed to a person" rows). `last_assigned`: the
    rule's round-robin pointer after these tickets ({str(team id): agent id}), for `rule.last_assigned`."""

    agents: dict[int, int | None]
    last_assigned: dict[str, int]
    why_none: dict[int, str] = field(default_factory=dict)


@dataclass
class _Team:
    name: str
    calendar: int | None
    members: list[int] = field(default_factory=list)  # active members by odoo_id; then the available
    closed: str = ""  # why the whole team is unavailable now (its calendar's leave, a holiday)


def assignees(rule: AutomationRule, tickets: list[tuple[int, int | None]], *, now: datetime) -> Assignments:
    """tickets: (ticket odoo_id, team odoo_id), in the order they should be served (oldest first)."""
    if not tickets:
        return Assignments({}, dict(rule.last_assigned))
    teams = _available_teams({team for _, team in tickets if team is not None}, now=now)
    cap = rule.max_open_per_agent
    agents = {a for t in teams.values() for a in t.members}
    load = _open_tickets(agents) if rule.assign_method == Method.LEAST_LOADED or cap else {}
    pick = (_LeastLoaded if rule.assign_method == Method.LEAST_LOADED else _RoundRobin)(
        teams, load, cap, dict(rule.last_assigned)
    )
    chosen, why_none = {}, {}
    for ticket, team_id in tickets:
        team = teams.get(team_id)
        chosen[ticket] = pick(team_id) if team and team.members else None
        if chosen[ticket] is None:
            why_none[ticket] = _why_nobody(team, cap)
    return Assignments(chosen, pick.pointer, why_none)


def _available_teams(team_ids: set[int], *, now: datetime) -> dict[int, _Team]:
    """The teams (that Odoo does not assign itself) with their available members, by odoo_id. A team
    missing here has no active member in the mirror, or is assigned by Odoo."""
    rows = (
        Team.members.through.objects.filter(
            team_id__in=team_ids, team__odoo_assigns="", agent__active=True
        )
        .values_list("team_id", "team__name", "team__calendar_odoo_id", "agent_id", "agent__resource_odoo_id")
        .order_by("team_id", "agent_id")
    )
    teams: dict[int, _Team] = {}
    resources: dict[int, int] = {}  # agent -> resource
    for team_id, name, calendar, agent, resource in rows:
        teams.setdefault(team_id, _Team(name, calendar)).members.append(agent)
        if resource is not None:
            resources[agent] = resource
    away, closed = _leaves_now(
        {t.calendar for t in teams.values() if t.calendar is not None}, set(resources.values()), now=now
    )
    for team in teams.values():
        # A leave with no calendar is a holiday for every calendar, so also for a team without one.
        team.closed = closed.get(team.calendar) or closed.get(None, "")
        team.members = [] if team.closed else [a for a in team.members if resources.get(a) not in away]
    return teams


def _leaves_now(calendars: set[int], resources: set[int], *, now: datetime) -> tuple[set[int], dict]:
    """The resources on personal leave now, and the calendars closed now ({calendar odoo id or None
    (every calendar): the leave's name})."""
    every_or_team = Q(calendar__isnull=True) | Q(calendar__odoo_id__in=calendars)
    team_wide = Q(resource_odoo_id__isnull=True) & every_or_team
    rows = CalendarLeave.objects.filter(
        team_wide | Q(resource_odoo_id__in=resources), starts_at__lte=now, ends_at__gt=now
    ).values_list("calendar__odoo_id", "resource_odoo_id", "name")
    away, closed = set(), {}
    for calendar, resource, name in rows:
        if resource is not None:
            away.add(resource)
        else:
            closed.setdefault(calendar, name or "a holiday")
    return away, closed


def _open_tickets(agents: set[int]) -> dict[int, int]:
    """Each agent's open tickets, every team together (one aggregate query)."""
    counts = (
        Ticket.objects.open().filter(assignee_id__in=agents)
        .values("assignee_id").annotate(n=Count("pk")).order_by()
    )
    load = dict.fromkeys(agents, 0)
    load.update({row["assignee_id"]: row["n"] for row in counts})
    return load


class _RoundRobin:
    """Each team's available members in turn by odoo_id, starting after the team's pointer (the agent
    its last ticket went to, available or not now); an agent at the cap is passed over."""

    def __init__(self, teams: dict[int, _Team], load: dict[int, int], cap: int | None, pointer: dict):
        self.teams, self.load, self.cap, self.pointer = teams, load, cap, pointer
        self.full: set[int] = set()  # teams whose members are all at the cap: counts only grow

    def __call__(self, team_id: int) -> int | None:
        members = self.teams[team_id].members
        last = self.pointer.get(str(team_id))
        start = bisect.bisect_right(members, last) if last is not None else 0
        for k in range(len(members) if team_id not in self.full else 0):
            agent = members[(start + k) % len(members)]
            if self.cap is None or self.load[agent] < self.cap:
                self.pointer[str(team_id)] = agent
                if self.cap is not None:
                    self.load[agent] += 1
                return agent
        self.full.add(team_id)
        return None


class _LeastLoaded:
    """The available member with the fewest open tickets, ties to the lowest odoo_id; none at the cap.

    A heap per team; an agent of several teams has one count, so an entry may be stale (another team's
    ticket raised the count): it is pushed back with the current count before it is trusted."""

    def __init__(self, teams: dict[int, _Team], load: dict[int, int], cap: int | None, pointer: dict):
        self.load, self.cap, self.pointer = load, cap, pointer  # the pointer is round robin's: kept
        self.heaps = {}
        for team_id, team in teams.items():
            self.heaps[team_id] = [(load[a], a) for a in team.members]
            heapq.heapify(self.heaps[team_id])

    def __call__(self, team_id: int) -> int | None:
        heap = self.heaps[team_id]
        while heap[0][0] != self.load[heap[0][1]]:
            heapq.heapreplace(heap, (self.load[heap[0][1]], heap[0][1]))
        count, agent = heap[0]
        if self.cap is not None and count >= self.cap:
            return None  # the least loaded is at the cap: so is everyone
        self.load[agent] = count + 1
        heapq.heapreplace(heap, (count + 1, agent))
        return agent


def _why_nobody(team: _Team | None, cap: int | None) -> str:
    if team is None:
        return "no active member of the ticket's team (or Odoo assigns its tickets itself)"
    if team.closed:
        return f"{team.name} is closed now ({team.closed})"
    if not team.members:
        return f"every member of {team.name} is on leave now"
    return f"every available member of {team.name} has {cap} open tickets (the rule's cap)"


def odoo_assigning_teams() -> QuerySet[Team]:
    """The active teams whose new tickets Odoo assigns itself (Enterprise auto-assignment, OCA
    helpdesk_mgmt_assign_method): for the rules page, and to refuse assignment rules there."""
    return Team.objects.filter(active=True).exclude(odoo_assigns="")


def refuse_odoo_assigned(rule_team_ids: Iterable[int]) -> str | None:
    """Why an assignment rule over these teams is refused (None: it is not). No teams means every team:
    then it is refused if Odoo assigns any team with open tickets itself."""
    team_ids = list(rule_team_ids)
    if team_ids:
        teams = Team.objects.filter(pk__in=team_ids).exclude(odoo_assigns="")
    else:
        teams = odoo_assigning_teams().filter(Exists(Ticket.objects.open().filter(team=OuterRef("pk"))))
    rows = list(teams.order_by("name", "odoo_id").values_list("name", "odoo_assigns"))
    if not rows:
        return None
    if len(rows) == 1:
        which = f"{rows[0][0]} itself ({rows[0][1]})"
    else:
        listed = [f"{name} ({method})" for name, method in rows]
        which = ", ".join(listed[:-1]) + f" and {listed[-1]} itself"
    if team_ids:
        lead = "Odoo already assigns"
        fix = "leave this team out" if len(rows) == 1 else "leave these teams out"
    else:
        lead, fix = "This rule covers every team, and Odoo already assigns", "choose the rule's teams"
    return (
        f"{lead} the tickets of {which}: an assignment rule there would be undone by Odoo. "
        f"Switch off automatic assignment in Odoo, or {fix}."
    )
