"""The ticket page's history, in words a lead reads: a bar per SLA deadline, and the escalation events.

SLA bars, as ServiceNow draws them: each deadline's time used against the time allowed (from the
ticket's creation, where escalations.sla starts every window, to the deadline), with marks at 50, 75 and
100 %. The bar's scale runs to 120 %, so that the 100 % mark stands inside it and a late ticket visibly
runs past it. A reached deadline stops its bar where it was reached.

Plain data for the template, which draws each bar as an SVG with percentages in attributes (no inline
styles: the pages are meant to run under a strict Content Security Policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from escalations.models import EndReason, Trigger

SCALE = 120  # per cent of the time allowed, at the bar's right end
MARKS = (50, 75, 100)


@dataclass(frozen=True)
class Tick:
    percent: int
    x: float  # 0-100, across the bar


TICKS = [Tick(p, round(100 * p / SCALE, 2)) for p in MARKS]
LATE_FROM = TICKS[-1].x


@dataclass(frozen=True)
class SlaBar:
    name: str
    state: str  # on_track / at_risk / breached / reached / paused (escalations.sla)
    deadline: datetime | None
    allowed: timedelta | None  # from the window's start to the deadline
    used: timedelta | None  # from the window's start to now, or to when it was reached
    reached_at: datetime | None = None

    @property
    def share(self) -> float | None:
        """The time used, in per cent of the time allowed."""
        if not self.allowed or self.used is None:
            return None
        return 100 * self.used / self.allowed

    @property
    def percent(self) -> int | None:
        share = self.share
        return None if share is None else round(share)

    @property
    def width(self) -> float:
        """How far the bar is filled, 0-100 of its width."""
        share = self.share
        return 0.0 if share is None else round(100 * min(max(share, 0), SCALE) / SCALE, 2)

    @property
    def band(self) -> str:
        """The colour band the fill reached: under 50 %, 50-75, 75-100, past 100 (the ticks' bands)."""
        percent = self.percent or 0
        return next((f"under-{p}" for p in MARKS if percent < p), "over-100")

    @property
    def in_time(self) -> bool | None:
        if self.reached_at is None or self.deadline is None:
            return None
        return self.reached_at <= self.deadline

    @property
    def margin(self) -> timedelta | None:
        """Once reached: how long before (positive) or after (negative) the deadline."""
        if self.deadline is None:
            return None
        return self.deadline - self.reached_at if self.reached_at else None

    @property
    def overdue(self) -> bool:
        return self.reached_at is None and (self.share or 0) >= 100

    @property
    def over_by(self) -> timedelta | None:
        """Running past its deadline: by how long."""
        return self.used - self.allowed if self.overdue else None


def sla_bars(*, created_at: datetime | None, sla, now: datetime) -> list[SlaBar]:
    """A bar per deadline of the ticket's SLA reading (escalations.sla.ticket_sla)."""
    return [_bar(reading, created_at=created_at, now=now) for reading in sla.deadlines]


def _bar(reading, *, created_at: datetime | None, now: datetime) -> SlaBar:
    allowed = used = None
    if reading.deadline and created_at and reading.deadline > created_at:
        allowed = reading.deadline - created_at
        used = max((reading.reached_at or now) - created_at, timedelta(0))
    return SlaBar(name=reading.name, state=reading.state, deadline=reading.deadline, allowed=allowed,
                  used=used, reached_at=reading.reached_at)


# -- the escalation history -----------------------------------------------------------------------

# Engine rows name their rule by a code (the trigger or the end reason); people read its label.
_RULE_WORDS = {**dict(Trigger.choices), **dict(EndReason.choices)}


@dataclass(frozen=True)
class EventLine:
    at: datetime
    what: str  # "Raised", "Moved up", ...
    level: str  # "to L2 Team lead", "from L1 Support", or ""
    by: str  # a person's name, or the rule that acted in words
    reason: str


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def rule_words(rule: str) -> str:
    return _RULE_WORDS.get(rule, rule)


def event_line(event) -> EventLine:
    """One event as the page says it, in the level names it had when it happened."""
    if event.to_level_id:
        level = f"to {_level(event.to_level, event.to_level_name)}"
    elif event.from_level_id:
        level = f"from {_level(event.from_level, event.from_level_name)}"
    else:
        level = ""
    if event.actor:
        by = f"by {person_name(event.actor)}"
    else:
        by = f"({rule_words(event.rule)})" if event.rule else ""
    return EventLine(at=event.at, what=event.get_kind_display(), level=level, by=by, reason=event.reason)


def _level(level, name_then: str) -> str:
    return f"L{level.number} {name_then or level.name}"
