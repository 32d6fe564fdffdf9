"""Working time: a weekly schedule in a time zone, minus leaves, and arithmetic on it.

Pure code, no ORM (escalations.sla.calendars loads the mirrored calendars into it), so the SLA clock
can plan thousands of deadlines per refresh from calendars loaded once.

Attendances are local wall-clock hours (8.5 = 08:30, 24 = the next midnight); `hour_to <= hour_from`
means the span runs past midnight into the next day (a 22:00-06:00 night shift). Each span is built
from its wall-clock ends and only then converted to UTC, so 08:00-17:00 Brussels stays nine hours on
ordinary days and a 22:00-06:00 shift is an hour shorter the night clocks go forward. Leaves and
excluded spans (time in a paused stage) are UTC intervals. All datetimes in and out are aware; the
results are UTC.

Two-week calendars: an attendance with a week type counts only in weeks of that parity (`week_type`),
judged on the local day it starts, as Odoo does. A calendar's working time never loses one person's
time off: escalations.sla.calendars leaves out leaves that carry a resource, as Odoo's calendar-level
planning (`plan_hours` with no resource) does.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

# A calendar with no working time at all would make the search run forever; give up after two years.
MAX_DAYS = 730

Span = tuple[datetime, datetime]


def week_type(day: date) -> int:
    """0 in a first week, 1 in a second: Odoo's `resource.calendar.attendance.get_week_type`, the
    parity of the weeks counted from Monday 1 January of year 1. Not ISO week numbers: a year with
    53 of them would put two odd weeks in a row."""
    return (day.toordinal() - 1) // 7 % 2


@dataclass(frozen=True)
class Attendance:
    weekday: int  # 0 = Monday
    hour_from: float
    hour_to: float
    date_from: date | None = None  # the attendance applies only between these days (Odoo 17+)
    date_to: date | None = None
    week_type: int | None = None  # 0 or 1: only in weeks of that type (two-week calendars); None: every week

    def applies(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.date_from is None or day >= self.date_from)
            and (self.date_to is None or day <= self.date_to)
            and (self.week_type is None or week_type(day) == self.week_type)
        )


class WorkingHours:
    """A working calendar; day spans are cached, so one instance should serve a whole refresh."""

    def __init__(self, *, tz: str = "UTC", attendances: Iterable[Attendance], leaves: Iterable[Span] = ()):
        self.tz = _zone(tz)
        self.attendances = list(attendances)
        self.leaves = _merge(sorted(leaves))
        self._leave_starts = [s for s, _ in self.leaves]
        self._days: dict[date, list[Span]] = {}

    def add_working_time(
        self, start: datetime, duration: timedelta, *, excluded: Iterable[Span] = ()
    ) -> datetime | None:
        """The moment `duration` of working time has elapsed after `start`; None if it never does."""
        remaining = duration
        for s, e in self.spans(start, excluded=excluded):
            if e - s >= remaining:
                return s + remaining
            remaining -= e - s
        return None

    def working_time_between(
        self, start: datetime, end: datetime, *, excluded: Iterable[Span] = ()
    ) -> timedelta:
        total = timedelta(0)
        if end <= start:
            return total
        for s, e in self.spans(start, excluded=excluded, until=end):
            total += min(e, end) - s
        return total

    def spans(
        self, start: datetime, *, excluded: Iterable[Span] = (), until: datetime | None = None
    ) -> Iterator[Span]:
        """Working spans (UTC, disjoint, in order) from `start` on (and before `until`), clipped to start."""
        holes = _merge(sorted(excluded))
        for s, e in self._spans_from(start):
            for piece in _subtract([(s, e)], holes):
                if until is not None and piece[0] >= until:
                    return
                yield piece

    def _spans_from(self, start: datetime) -> Iterator[Span]:
        # Begin the day before: a span that crosses midnight may start on the previous local day.
        first = start.astimezone(self.tz).date() - timedelta(days=1)
        covered = start  # spans of one day may overlap the previous day's night shift: clip them
        for offset in range(MAX_DAYS):
            day = first + timedelta(days=offset)
            for s, e in self.day_spans(day):
                s = max(s, covered)
                if e > s:
                    yield s, e
                    covered = e

    def day_spans(self, day: date) -> list[Span]:
        """The UTC spans of the attendances starting on local `day`, minus leaves."""
        spans = self._days.get(day)
        if spans is None:
            built = _merge(sorted(self._span(day, a) for a in self.attendances if a.applies(day)))
            spans = self._days[day] = _subtract(built, self._leaves_near(built))
        return spans

    def _span(self, day: date, attendance: Attendance) -> Span:
        end_day = day if attendance.hour_to > attendance.hour_from else day + timedelta(days=1)
        return self._utc(day, attendance.hour_from), self._utc(end_day, attendance.hour_to)

    def _utc(self, day: date, hours: float) -> datetime:
        # From the wall-clock time itself, never midnight + N hours, so DST days keep their hours.
        minutes = round(hours * 60)
        day += timedelta(days=minutes // 1440)
        local = datetime.combine(day, time(minutes % 1440 // 60, minutes % 60), self.tz)
        return local.astimezone(UTC)

    def _leaves_near(self, spans: list[Span]) -> list[Span]:
        if not spans or not self.leaves:
            return []
        # Leaves are merged, so they are sorted by end too: skip those ending before the first span.
        lo = max(bisect.bisect_left(self._leave_starts, spans[0][0]) - 1, 0)
        hi = bisect.bisect_left(self._leave_starts, spans[-1][1])
        return self.leaves[lo:hi]


def always(tz: str = "UTC") -> WorkingHours:
    """Round the clock, every day: for deadlines with no calendar to follow."""
    return WorkingHours(tz=tz, attendances=[Attendance(d, 0, 24) for d in range(7)])


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        # A zone Odoo knows and this machine does not: better UTC hours than no deadline at all.
        logger.warning("Unknown time zone %r in a working calendar; using UTC", name)
        return ZoneInfo("UTC")


def _merge(spans: list[Span]) -> list[Span]:
    """Sorted spans with overlapping or touching ones joined."""
    out: list[Span] = []
    for s, e in spans:
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """Sorted disjoint spans minus sorted disjoint holes."""
    if not holes:
        return spans
    out = []
    for s, e in spans:
        for hs, he in holes:
            if he <= s:
                continue
            if hs >= e:
                break
            if hs > s:
                out.append((s, hs))
            s = max(s, he)
            if s >= e:
                break
        if s < e:
            out.append((s, e))
    return out
