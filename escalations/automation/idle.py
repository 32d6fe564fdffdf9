"""Idle, in working time: the moment that lies a number of working minutes before now on a team's
calendar, so that "idle for 120 working minutes" is one comparison per team in SQL
(`odoo_write_date <= cutoff`), whatever the number of tickets."""

from __future__ import annotations

from datetime import datetime, timedelta

from escalations.models import Team, WorkingCalendar
from escalations.sla.calendars import load_calendars
from escalations.sla.working_time import WorkingHours, always

# Look this far back for enough working time; a calendar with less in a year never makes a ticket idle.
MAX_DAYS_BACK = 366


def working_cutoff(hours: WorkingHours, now: datetime, minutes: int) -> datetime | None:
    """The moment `minutes` of working time before `now`; None if the calendar has not that much."""
    remaining = timedelta(minutes=minutes)
    day = now.astimezone(hours.tz).date() + timedelta(days=1)
    floor = now  # day spans of a night shift may overlap the next day's: never count time twice
    for _ in range(MAX_DAYS_BACK):
        for start, end in reversed(hours.day_spans(day)):
            end = min(end, floor)
            if end <= start:
                continue
            if end - start >= remaining:
                return end - remaining
            remaining -= end - start
            floor = start
        day -= timedelta(days=1)
    return None


def team_cutoffs(team_ids: list[int], now: datetime, minutes: int) -> dict[int | None, datetime | None]:
    """Each team's idle cutoff on its Odoo calendar (round the clock for a team without one, and for
    tickets without a team, key None). Four queries for all the teams' calendars."""
    calendars = dict(Team.objects.filter(odoo_id__in=team_ids).values_list("odoo_id", "calendar_odoo_id"))
    by_odoo_id = dict(
        WorkingCalendar.objects.filter(odoo_id__in=[c for c in calendars.values() if c])
        .values_list("odoo_id", "pk")
    )
    hours = load_calendars(ids=set(by_odoo_id.values())) if by_odoo_id else {}
    fallback = always()
    cutoffs: dict[int | None, datetime | None] = {None: working_cutoff(fallback, now, minutes)}
    for team, calendar in calendars.items():
        team_hours = hours.get(by_odoo_id.get(calendar)) or fallback
        cutoffs[team] = working_cutoff(team_hours, now, minutes)
    return cutoffs
