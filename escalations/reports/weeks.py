"""The weeks a report shows: Monday to Monday at midnight in the viewer's time zone, so that a week
holds what happened in that person's week, summer time changes included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class Week:
    first_day: date  # the Monday
    start: datetime  # its midnight, aware, in the viewer's zone
    end: datetime  # the next Monday's midnight

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    def holds(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_until(*, last_day: date, count: int, zone: tzinfo) -> list[Week]:
    """`count` weeks, the last one holding `last_day`, oldest first."""
    last_monday = monday_of(last_day)
    mondays = [last_monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    return [Week(first_day=m, start=_midnight(m, zone), end=_midnight(m + timedelta(days=7), zone))
            for m in mondays]


def days_span(*, first_day: date, last_day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """From `first_day`'s midnight to the midnight after `last_day`, in the zone."""
    return _midnight(first_day, zone), _midnight(last_day + timedelta(days=1), zone)
