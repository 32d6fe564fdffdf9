"""One ticket's SLA, readable: each deadline with its state, the nearest unmet one, the time left.

For the ticket page and the notices. Worked out afresh from the mirror (a handful of queries), with
the same rules as the clocks the engine queries, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from escalations.models import SlaStatus, Ticket

from .compute import NO_POLICY, POLICY, Clock, PolicyRules, StatusFact, ticket_clock
from .rules import TeamRules
from .state import BREACHED, NO_SLA, PAUSED, REACHED, sla_state

State = SlaStatus.State


@dataclass(frozen=True)
class DeadlineReading:
    name: str
    deadline: datetime | None
    status: str  # running / paused / met / failed (SlaStatus.State)
    state: str  # on track / at risk / breached / reached / paused
    time_left: timedelta | None  # to the deadline; once reached, the margin (negative when late)
    reached_at: datetime | None = None
    at_risk_at: datetime | None = None


@dataclass(frozen=True)
class SlaReading:
    deadlines: list[DeadlineReading]
    nearest: DeadlineReading | None  # the nearest deadline not met yet
    state: str
    time_left: timedelta | None
    source: str  # "odoo", "policy" or "" (no SLA)
    paused: bool
    at_risk_at: datetime | None


def ticket_sla(*, ticket: Ticket, now: datetime | None = None) -> SlaReading:
    """The SLA reading of one ticket, as of `now` (default: the current time)."""
    now = now or timezone.now()
    # A done ticket keeps Odoo's record of its SLAs; the policy's own target no longer runs.
    done = not ticket.active or ticket.deleted_at is not None or (ticket.stage and ticket.stage.is_closed)
    rules = NO_POLICY if done else TeamRules(team_ids=[ticket.team_id]).of(ticket.team_id)
    statuses = list(ticket.sla_statuses.all())
    changes = list(ticket.stage_changes.order_by("at", "id").values_list("at", "stage_id"))
    clock = ticket_clock(
        statuses=[StatusFact(s.state, s.deadline) for s in statuses], created_at=ticket.created_at,
        stage_id=ticket.stage_id, stage_changes=changes, rules=rules,
    )
    if clock.source == POLICY:
        deadlines = [_policy_reading(clock, rules, now=now)]
    else:
        deadlines = [_status_reading(s, clock, rules, now=now) for s in statuses]
    running = [d for d in deadlines if d.status == State.RUNNING and d.deadline is not None]
    nearest = min(running, key=lambda d: d.deadline, default=None)
    return SlaReading(
        deadlines=deadlines, nearest=nearest, state=_overall(nearest, deadlines),
        time_left=nearest.time_left if nearest else None, source=clock.source, paused=clock.paused,
        at_risk_at=clock.at_risk_at,
    )


def _status_reading(status: SlaStatus, clock: Clock, rules: PolicyRules, *, now) -> DeadlineReading:
    deadline, reached = status.deadline, status.reached_at
    if status.state in (State.MET, State.FAILED):
        state = REACHED if status.state == State.MET else BREACHED
        left = deadline - reached if deadline and reached else None
        return DeadlineReading(status.name, deadline, status.state, state, left, reached_at=reached)
    if status.state == State.PAUSED or deadline is None:
        return DeadlineReading(status.name, deadline, status.state, PAUSED, None)
    at_risk_at = rules.risk.at_risk_at(deadline, window_start=clock.window_start)
    state = sla_state(deadline, now=now, at_risk_at=at_risk_at)
    return DeadlineReading(status.name, deadline, status.state, state, deadline - now, at_risk_at=at_risk_at)


def _policy_reading(clock: Clock, rules: PolicyRules, *, now) -> DeadlineReading:
    name = f"{rules.target.total_seconds() / 3600:g} working hours (escalation policy)"
    if clock.paused or clock.deadline is None:
        return DeadlineReading(name, None, State.PAUSED, PAUSED, None)
    state = sla_state(clock.deadline, now=now, at_risk_at=clock.at_risk_at)
    return DeadlineReading(
        name, clock.deadline, State.RUNNING, state, clock.deadline - now, at_risk_at=clock.at_risk_at
    )


def _overall(nearest: DeadlineReading | None, deadlines: list[DeadlineReading]) -> str:
    if nearest is not None:
        return nearest.state
    states = {d.state for d in deadlines}
    for state in (PAUSED, BREACHED, REACHED):  # waiting now, else how the finished SLAs went
        if state in states:
            return state
    return NO_SLA
