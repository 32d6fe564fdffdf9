"""The SLA clock: how much time a ticket has left, and what that means.

"Breached" is always worked out from the deadline and the current time: Odoo's stored SLA flags
(`sla_reached_late`, OCA 16's `sla_expired`) are refreshed only now and then and can be stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta

ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"
NO_SLA = "none"

DEFAULT_AT_RISK = timedelta(hours=1)


def sla_state(deadline: datetime | None, *, now: datetime, at_risk: timedelta = DEFAULT_AT_RISK) -> str:
    if deadline is None:
        return NO_SLA
    left = deadline - now
    if left <= timedelta(0):
        return BREACHED
    if left < at_risk:
        return AT_RISK
    return ON_TRACK
