"""Working calendars for the deadlines the app computes itself (Odoo's `resource.calendar`).

Mirrored from Odoo (`odoo_id` set) or set up in the app (`odoo_id` empty). Times of attendances are
local wall-clock hours in the calendar's time zone; leaves are UTC intervals.

A two-week calendar (Odoo's `two_weeks_calendar`) alternates two schedules: each attendance belongs to
the first or the second week, by the parity of the week counted from Monday 1 January of year 1
(Odoo's `get_week_type`, `escalations.sla.working_time.week_type`).
"""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as Europe/Brussels")


class WorkingCalendar(models.Model):
    odoo_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    name = models.CharField(max_length=255)
    tz = models.CharField("time zone", max_length=64, default="UTC", validators=[validate_time_zone])
    hours_per_day = models.FloatField(default=8.0)
    two_weeks = models.BooleanField(
        "two-week calendar", default=False,
        help_text="attendances apply only in their week (first or second) of each fortnight",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CalendarAttendance(models.Model):
    """A weekly working span, e.g. Monday 08:00-12:00. `hour_to` <= `hour_from` crosses midnight."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    class WeekType(models.IntegerChoices):
        FIRST = 0, "First week"
        SECOND = 1, "Second week"

    calendar = models.ForeignKey(WorkingCalendar, on_delete=models.CASCADE, related_name="attendances")
    odoo_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    hour_from = models.FloatField(help_text="local time in hours, 8.5 = 08:30")
    hour_to = models.FloatField(help_text="local time in hours; 24 = midnight")
    # Odoo 17+ can limit an attendance to a period (a summer schedule); empty means always.
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    # As Odoo holds it. Only a two-week calendar reads it, and there Odoo 17+ takes empty as the first
    # week (`int(False)`).
    week_type = models.PositiveSmallIntegerField(
        choices=WeekType.choices, null=True, blank=True, help_text="two-week calendars only"
    )

    class Meta:
        ordering = ["calendar", "week_type", "weekday", "hour_from"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.hour_from:g}-{self.hour_to:g}"


class CalendarLeave(models.Model):
    """Time off, in UTC: for the whole calendar (a public holiday, a closed day), or one person's.

    No calendar: the leave applies to every calendar, as Odoo's public holidays with an empty
    `calendar_id` do. A resource (Odoo's `resource_id`, a person): that person's own time off, which
    does not close the calendar for the team, as in Odoo's calendar-level planning.
    """

    calendar = models.ForeignKey(
        WorkingCalendar, null=True, blank=True, on_delete=models.CASCADE, related_name="leaves",
        help_text="empty: a holiday for every calendar",
    )
    odoo_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    name = models.CharField(max_length=255, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    resource_odoo_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="Odoo's resource.resource: this person's time off only"
    )
    resource_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["calendar", "starts_at"]

    def __str__(self):
        return self.name or f"{self.starts_at:%Y-%m-%d}"
