"""The ticket page's SLA timeline: when the ticket came in, when its deadlines fall (or were met), when it
was escalated and accepted, and where "now" is, placed on one bar from the first moment to the last.

Plain data for the template: each mark has its position as a percentage of the bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Mark:
    at: datetime
    label: str
    kind: str  # created / deadline-<sla state> / at_risk / met / escalation / now
    position: float = 0.0  # 0-100, left to right


@dataclass(frozen=True)
class Timeline:
    marks: list[Mark]
    start: datetime
    end: datetime

    @property
    def now(self) -> Mark | None:
        return next((m for m in self.marks if m.kind == "now"), None)


def sla_timeline(*, created_at: datetime | None, sla, events, now: datetime) -> Timeline | None:
    """The marks of a ticket's SLA reading (escalations.sla.ticket_sla) and escalation events."""
    marks = [Mark(now, "Now", "now")]
    if created_at:
        marks.append(Mark(created_at, "Created", "created"))
    for reading in sla.deadlines:
        if reading.reached_at:
            marks.append(Mark(reading.reached_at, f"{reading.name}: met", "met"))
        if reading.deadline:
            marks.append(Mark(reading.deadline, reading.name, f"deadline-{reading.state}"))
    if sla.at_risk_at and sla.nearest and sla.nearest.deadline:
        marks.append(Mark(sla.at_risk_at, "At risk from here", "at_risk"))
    for event in events:
        marks.append(Mark(event.at, event.get_kind_display(), "escalation"))
    if len(marks) < 2:
        return None
    start, end = min(m.at for m in marks), max(m.at for m in marks)
    span = (end - start) or timedelta(seconds=1)
    placed = [
        Mark(m.at, m.label, m.kind, round(100 * (m.at - start) / span, 2))
        for m in sorted(marks, key=lambda m: m.at)
    ]
    return Timeline(marks=placed, start=start, end=end)
