"""The mirrored working calendars (escalations.models.calendar) as WorkingHours for the SLA clock."""

from __future__ import annotations

from collections.abc import Iterable

from escalations.models import CalendarLeave, WorkingCalendar

from .working_time import Attendance, Span, WorkingHours


def calendar_from_model(calendar, *, shared_leaves: Iterable[Span] | None = None) -> WorkingHours:
    """A WorkingHours from a WorkingCalendar row, with its attendances and its leaves for everyone.

    Three queries at most: attendances and leaves (none when prefetched with
    `prefetch_related("attendances", "leaves")`), and the leaves shared by every calendar (Odoo's
    public holidays with no calendar), none when the caller passes them in `shared_leaves`.
    """
    if shared_leaves is None:
        shared_leaves = shared_calendar_leaves()
    attendances = [
        Attendance(
            a.weekday, a.hour_from, a.hour_to, a.date_from, a.date_to,
            # Odoo 17+ files an empty week type of a two-week calendar under the first week (int(False)).
            week_type=(a.week_type or 0) if calendar.two_weeks else None,
        )
        for a in calendar.attendances.all()
    ]
    # Filtered here, not in SQL, so that prefetched leaves cost no query.
    leaves = [(lv.starts_at, lv.ends_at) for lv in calendar.leaves.all() if lv.resource_odoo_id is None]
    return WorkingHours(tz=calendar.tz, attendances=attendances, leaves=leaves + list(shared_leaves))


def load_calendars(*, ids: Iterable[int] | None = None) -> dict[int, WorkingHours]:
    """WorkingHours by WorkingCalendar pk, all calendars or the given ones, in four queries."""
    calendars = WorkingCalendar.objects.prefetch_related("attendances", "leaves")
    if ids is not None:
        calendars = calendars.filter(pk__in=list(ids))
    shared = shared_calendar_leaves()
    return {cal.pk: calendar_from_model(cal, shared_leaves=shared) for cal in calendars}


def shared_calendar_leaves() -> list[Span]:
    everyone = CalendarLeave.objects.filter(calendar__isnull=True, resource_odoo_id__isnull=True)
    return list(everyone.values_list("starts_at", "ends_at"))
