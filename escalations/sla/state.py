"""SLA states, and when a deadline goes at risk under a policy's threshold.

"Breached" is always worked out from the deadline and the current time: Odoo's stored SLA flags
(`sla_reached_late`, OCA 16's `sla_expired`) are refreshed only now and then and can be stale.

At risk from `at_risk_at` on, breached from the deadline on, so that the engine finds at-risk
tickets with a plain `at_risk_at <= now < deadline` and every moment has exactly one state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import CharField, Value
from django.db.models.expressions import Case, When

ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"
REACHED = "reached"  # met in time
PAUSED = "paused"  # the clock stands still: the ticket waits in a stage the SLA or policy excludes
NO_SLA = "none"

DEFAULT_AT_RISK = timedelta(hours=1)


@dataclass(frozen=True)
class RiskRule:
    """A policy's at-risk threshold: as a duration, as a share of the SLA window, or both."""

    within: timedelta | None = DEFAULT_AT_RISK
    share: float | None = None

    @classmethod
    def of(cls, policy) -> RiskRule:
        """The rule of an EscalationPolicy; one hour when there is no (active) policy or it sets none."""
        if policy is None or not policy.active:
            return cls()
        if policy.at_risk_within is None and not policy.at_risk_share:
            return cls()
        return cls(within=policy.at_risk_within, share=policy.at_risk_share or None)

    def at_risk_at(self, deadline: datetime | None, *, window_start: datetime | None) -> datetime | None:
        """The first moment the deadline is at risk: whichever rule triggers first."""
        if deadline is None:
            return None
        moments = []
        if self.within is not None:
            moments.append(deadline - self.within)
        if self.share and window_start is not None and deadline > window_start:
            # The countdown a lead sees is wall-clock time, so the window is too.
            moments.append(deadline - (deadline - window_start) * self.share)
        return min(moments, default=None)


# The state of a clock, as one rule that both readings below follow: the first line that holds names
# the state; when none does, the clock is on track. Python reads it for the pages and notices, SQL for
# the queue, which counts and filters by state. "Has come" means `now >= moment`, never true of a moment
# that is unset (SQL's `NULL <= now` is not true either): a deadline with no at-risk time, because no
# threshold of its policy applies, is never at risk, as the engine's "SLA at risk" trigger sees it.
IS_TRUE, IS_UNSET, HAS_COME = "is true", "is unset", "has come"
RULE: tuple[tuple[str, str, str], ...] = (
    (PAUSED, "paused", IS_TRUE),
    (NO_SLA, "deadline", IS_UNSET),
    (BREACHED, "deadline", HAS_COME),
    (AT_RISK, "at_risk_at", HAS_COME),
)


def sla_state(
    deadline: datetime | None,
    *,
    now: datetime,
    at_risk_at: datetime | None = None,
    paused: bool = False,
) -> str:
    """The state at `now` of a clock with this deadline and at-risk time (from a RiskRule)."""
    clock = {"paused": paused, "deadline": deadline, "at_risk_at": at_risk_at}
    for state, field, test in RULE:
        value = clock[field]
        if test == IS_TRUE:
            holds = bool(value)
        elif test == IS_UNSET:
            holds = value is None
        else:
            holds = value is not None and now >= value
        if holds:
            return state
    return ON_TRACK


def sla_state_expression(now: datetime, *, clock: str = "clock__") -> Case:
    """The same state in SQL, of the TicketClock at the lookup path `clock` (a ticket with none has no
    SLA): the RULE's lines as WHENs, in order."""
    lookups = {IS_TRUE: ("", True), IS_UNSET: ("__isnull", True), HAS_COME: ("__lte", now)}
    whens = []
    for state, field, test in RULE:
        suffix, value = lookups[test]
        whens.append(When(**{f"{clock}{field}{suffix}": value}, then=Value(state)))
    return Case(*whens, default=Value(ON_TRACK), output_field=CharField())
