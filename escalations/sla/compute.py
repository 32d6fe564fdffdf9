"""A ticket's clock from plain facts: which deadline counts, since when, when it goes at risk.

No ORM here: escalations.sla.refresh loads the facts of a whole batch in a few queries and calls
`ticket_clock` per ticket; escalations.sla.reading does the same for one ticket page.

Odoo's deadlines win: when Odoo holds any SLA record for the ticket, the nearest unmet one counts
(none when all are met or paused). Only when Odoo holds none and the team's policy sets a target
does the console plan its own deadline: that many working hours from the ticket's creation on the
policy's calendar, not counting time spent in the policy's paused stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .state import RiskRule
from .working_time import Span, WorkingHours, always

RUNNING, PAUSED_STATUS = "running", "paused"  # SlaStatus.State values
ODOO, POLICY = "odoo", "policy"  # TicketClock.Source values


@dataclass(frozen=True)
class StatusFact:
    """What the clock needs of one mirrored SlaStatus."""

    state: str
    deadline: datetime | None


@dataclass(frozen=True)
class PolicyRules:
    """What the clock needs of a team's policy (or of no policy)."""

    risk: RiskRule = field(default_factory=RiskRule)
    target: timedelta | None = None
    paused_stage_ids: frozenset[int] = frozenset()
    hours: WorkingHours | None = None  # None: round the clock, UTC


NO_POLICY = PolicyRules()
_ALWAYS = always()


@dataclass(frozen=True)
class Clock:
    deadline: datetime | None = None
    source: str = ""
    window_start: datetime | None = None
    at_risk_at: datetime | None = None
    paused: bool = False


def ticket_clock(
    *,
    statuses: Sequence[StatusFact],
    created_at: datetime | None,
    stage_id: int | None,
    stage_changes: Sequence[tuple[datetime, int | None]],
    rules: PolicyRules,
) -> Clock:
    """The clock of an open ticket. `stage_changes`: (at, stage id) in time order."""
    if statuses:
        return _odoo_clock(statuses, created_at=created_at, rules=rules)
    if rules.target is None or created_at is None:
        return Clock()
    if stage_id in rules.paused_stage_ids:
        return Clock(source=POLICY, window_start=created_at, paused=True)
    deadline = policy_deadline(created_at=created_at, stage_changes=stage_changes, rules=rules)
    return Clock(
        deadline=deadline, source=POLICY, window_start=created_at,
        at_risk_at=rules.risk.at_risk_at(deadline, window_start=created_at),
    )


def _odoo_clock(statuses: Sequence[StatusFact], *, created_at, rules: PolicyRules) -> Clock:
    deadline = min((s.deadline for s in statuses if s.state == RUNNING and s.deadline), default=None)
    if deadline is None:
        paused = any(s.state == PAUSED_STATUS for s in statuses)
        return Clock(source=ODOO, window_start=created_at, paused=paused)
    return Clock(
        deadline=deadline, source=ODOO, window_start=created_at,
        at_risk_at=rules.risk.at_risk_at(deadline, window_start=created_at),
    )


def policy_deadline(
    *, created_at: datetime, stage_changes: Sequence[tuple[datetime, int | None]], rules: PolicyRules
) -> datetime | None:
    """`rules.target` working hours after creation, time in paused stages left out."""
    hours = rules.hours or _ALWAYS
    excluded = paused_spans(stage_changes, paused_stage_ids=rules.paused_stage_ids)
    return hours.add_working_time(created_at, rules.target, excluded=excluded)


def paused_spans(
    stage_changes: Sequence[tuple[datetime, int | None]], *, paused_stage_ids: frozenset[int]
) -> list[Span]:
    """The closed spans the ticket spent in a paused stage: from entering one to entering the next.

    The ticket is not in a paused stage now (its clock would be paused), so a last change into a
    paused stage can only mean a history the sync saw out of order: it is left out.
    """
    spans = []
    for (at, stage), (next_at, _) in zip(stage_changes, stage_changes[1:], strict=False):
        if stage in paused_stage_ids and next_at > at:
            spans.append((at, next_at))
    return spans
