"""The SLA clock: each open ticket's deadlines, the time left, and what that means.

- state: the states, the rule that names a clock's state (in Python and in SQL), the at-risk rule;
- compute: a ticket's clock from plain facts (Odoo's deadlines, or the policy's own target);
- rules: each team's policy as the clock needs it;
- refresh: TicketClock rows for the engine, written in batches;
- reading: one ticket's SLA, readable, for pages and notices.
- working_time: a weekly schedule minus leaves, and arithmetic on it; calendars: the mirrored
  working calendars as such schedules.
"""

from .reading import DeadlineReading, SlaReading, ticket_sla
from .refresh import refresh_clocks
from .state import (
    AT_RISK,
    BREACHED,
    DEFAULT_AT_RISK,
    NO_SLA,
    ON_TRACK,
    PAUSED,
    REACHED,
    RiskRule,
    sla_state,
    sla_state_expression,
)

__all__ = [
    "AT_RISK", "BREACHED", "DEFAULT_AT_RISK", "NO_SLA", "ON_TRACK", "PAUSED", "REACHED", "DeadlineReading",
    "RiskRule", "SlaReading", "refresh_clocks", "sla_state", "sla_state_expression", "ticket_sla",
]
