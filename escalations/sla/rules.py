"""Each team's policy, as the clock needs it: at-risk rule, own target, paused stages, working hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from escalations.models import EscalationPolicy, Team, WorkingCalendar

from .calendars import load_calendars
from .compute import NO_POLICY, PolicyRules
from .state import RiskRule


class TeamRules:
    """PolicyRules by team, loaded once per refresh (or for the given teams only): the active
    policies in two queries, and the calendars in six more only if some policy plans its own
    deadlines. A team without an active policy gets the default rules (one hour at risk, no target).
    """

    def __init__(self, *, team_ids: Iterable[int | None] | None = None):
        policies = EscalationPolicy.objects.filter(active=True).prefetch_related("paused_stages")
        if team_ids is not None:
            policies = policies.filter(team_id__in=[t for t in team_ids if t is not None])
        self._policies = {p.team_id: p for p in policies}
        self._rules: dict[int | None, PolicyRules] = {}
        self._hours, self._team_calendars = {}, {}
        planning = [p for p in self._policies.values() if p.target_hours]
        if planning:
            self._load_calendars(team_ids=[p.team_id for p in planning])

    def of(self, team_id: int | None) -> PolicyRules:
        if team_id not in self._rules:
            self._rules[team_id] = self._build(team_id)
        return self._rules[team_id]

    def _build(self, team_id: int | None) -> PolicyRules:
        policy = self._policies.get(team_id)
        if policy is None:
            return NO_POLICY
        target = timedelta(hours=policy.target_hours) if policy.target_hours else None
        calendar = policy.calendar_id or self._team_calendars.get(team_id)
        return PolicyRules(
            risk=RiskRule.of(policy), target=target, hours=self._hours.get(calendar),
            paused_stage_ids=frozenset(s.pk for s in policy.paused_stages.all()),
        )

    def _load_calendars(self, *, team_ids: list[int]) -> None:
        # The policy's own calendar, else the team's calendar mirrored from Odoo.
        teams = Team.objects.filter(odoo_id__in=team_ids)
        team_calendars = dict(teams.values_list("odoo_id", "calendar_odoo_id"))
        by_odoo_id = dict(
            WorkingCalendar.objects.filter(odoo_id__in=[c for c in team_calendars.values() if c])
            .values_list("odoo_id", "pk")
        )
        self._team_calendars = {team: by_odoo_id.get(cal) for team, cal in team_calendars.items()}
        wanted = {p.calendar_id for p in self._policies.values() if p.calendar_id} | set(by_odoo_id.values())
        self._hours = load_calendars(ids=wanted)
