"""SLA states, and when a deadline goes at risk under a policy's threshold.

"Breached" is always worked out from the deadline and the current time: Odoo's stored SLA flags
(`sla_reached_late`, OCA 16's `sla_expired`) are refreshed only now and then and can be stale.

At risk from `at_risk_at` on, breached from the deadline on, so that the engine finds at-risk
tickets with a plain `at_risk_at <= now < deadline` and every moment has exactly one state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


def sla_state(
    deadline: datetime | None,
    *,
    now: datetime,
    at_risk: timedelta = DEFAULT_AT_RISK,
    at_risk_at: datetime | None = None,
) -> str:
    """The state of a running deadline; `at_risk_at` (from a RiskRule) wins over `at_risk`."""
    if deadline is None:
        return NO_SLA
    if now >= deadline:
        return BREACHED
    if now >= (at_risk_at if at_risk_at is not None else deadline - at_risk):
        return AT_RISK
    return ON_TRACK
