"""Working-time arithmetic: nights, weekends, holidays, DST changes, schedules that cross midnight.

Expected values are worked out by hand in the comments. Brussels is UTC+1 in winter (CET) and UTC+2
in summer (CEST); in 2026 the clocks go forward on Sunday 29 March and back on Sunday 25 October.
"""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from escalations.sla.calendars import calendar_from_model, load_calendars
from escalations.sla.working_time import Attendance, WorkingHours, always, week_type

H = timedelta(hours=1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def office(leaves=()):
    """Mon-Fri 08:00-12:00 and 13:00-17:00 Brussels time."""
    attendances = [Attendance(d, f, t) for d in range(5) for f, t in ((8, 12), (13, 17))]
    return WorkingHours(tz="Europe/Brussels", attendances=attendances, leaves=leaves)


def night_shift(tz="Europe/Brussels", days=range(7)):
    """22:00 to 06:00 the next morning."""
    return WorkingHours(tz=tz, attendances=[Attendance(d, 22, 6) for d in days])


def test_deadline_runs_over_the_night():
    # Tue 24 Nov 16:00 CET (15:00 UTC): 1 h left on Tuesday, then Wednesday 08:00-11:00 CET.
    assert office().add_working_time(utc(2026, 11, 24, 15), 4 * H) == utc(2026, 11, 25, 10)


def test_deadline_skips_the_weekend():
    # Fri 27 Nov 15:00 CET: 2 h on Friday, then Monday 30 Nov 08:00-10:00 CET = 09:00 UTC.
    assert office().add_working_time(utc(2026, 11, 27, 14), 4 * H) == utc(2026, 11, 30, 9)


def test_deadline_skips_the_lunch_break():
    # Mon 30 Nov 11:00 CET: 1 h before lunch, 1 h after 13:00 -> 14:00 CET = 13:00 UTC.
    assert office().add_working_time(utc(2026, 11, 30, 10), 2 * H) == utc(2026, 11, 30, 13)


def test_deadline_skips_a_holiday():
    # Armistice Day, Wed 11 Nov 2026, a leave from local midnight to midnight (23:00-23:00 UTC).
    cal = office(leaves=[(utc(2026, 11, 10, 23), utc(2026, 11, 11, 23))])
    # Tue 10 Nov 16:00 CET: 1 h on Tuesday, none on Wednesday, Thursday 08:00-11:00 CET = 10:00 UTC.
    assert cal.add_working_time(utc(2026, 11, 10, 15), 4 * H) == utc(2026, 11, 12, 10)
    assert cal.working_time_between(utc(2026, 11, 10, 15), utc(2026, 11, 12, 10)) == 4 * H


def test_deadline_keeps_wall_clock_hours_across_the_spring_dst_change():
    # Fri 27 Mar 16:00 CET (15:00 UTC): 1 h on Friday. Monday 30 Mar is summer time: 08:00 CEST is
    # 06:00 UTC, so 3 more hours end at 11:00 CEST = 09:00 UTC (not 10:00 UTC).
    assert office().add_working_time(utc(2026, 3, 27, 15), 4 * H) == utc(2026, 3, 30, 9)
    assert office().working_time_between(utc(2026, 3, 27, 15), utc(2026, 3, 30, 9)) == 4 * H


def test_deadline_keeps_wall_clock_hours_across_the_autumn_dst_change():
    # Fri 23 Oct 16:00 CEST (14:00 UTC): 1 h on Friday. Monday 26 Oct is winter time: 08:00 CET is
    # 07:00 UTC, so 3 more hours end at 11:00 CET = 10:00 UTC.
    assert office().add_working_time(utc(2026, 10, 23, 14), 4 * H) == utc(2026, 10, 26, 10)


def test_night_shift_is_an_hour_shorter_when_clocks_go_forward():
    cal = night_shift()
    # Sat 28 Mar 22:00 CET = 21:00 UTC to Sun 29 Mar 06:00 CEST = 04:00 UTC: 7 hours.
    assert cal.working_time_between(utc(2026, 3, 28, 21), utc(2026, 3, 29, 4)) == 7 * H
    # 8 hours from its start: the 7 of that night, then 1 from Sun 22:00 CEST = 20:00 UTC.
    assert cal.add_working_time(utc(2026, 3, 28, 21), 8 * H) == utc(2026, 3, 29, 21)


def test_night_shift_is_an_hour_longer_when_clocks_go_back():
    # Sat 24 Oct 22:00 CEST = 20:00 UTC to Sun 25 Oct 06:00 CET = 05:00 UTC: 9 hours.
    cal = night_shift()
    assert cal.working_time_between(utc(2026, 10, 24, 20), utc(2026, 10, 25, 5)) == 9 * H
    assert cal.add_working_time(utc(2026, 10, 24, 20), 9 * H) == utc(2026, 10, 25, 5)


def test_schedule_crossing_midnight_continues_into_the_next_day_and_skips_the_weekend():
    cal = night_shift(tz="UTC", days=range(5))  # shifts start Monday to Friday evenings
    # Fri 27 Nov 23:00: 7 h until Sat 06:00; no shift starts on Saturday or Sunday; 3 h from Monday
    # 30 Nov 22:00 -> Tue 1 Dec 01:00.
    assert cal.add_working_time(utc(2026, 11, 27, 23), 10 * H) == utc(2026, 12, 1, 1)
    # Saturday 02:00 is still inside Friday's shift (found by looking one day back).
    assert cal.add_working_time(utc(2026, 11, 28, 2), H) == utc(2026, 11, 28, 3)
    # Saturday 07:00 is after it: the next working hour starts Monday 22:00.
    assert cal.add_working_time(utc(2026, 11, 28, 7), H) == utc(2026, 11, 30, 23)


def test_excluded_spans_do_not_count():
    # Mon 30 Nov 08:00 CET (07:00 UTC), 4 h, with 09:00-10:30 CET paused (waiting for the customer):
    # 08-09 (1 h), 10:30-12 (1.5 h), 13:00-14:30 (1.5 h) -> 14:30 CET = 13:30 UTC.
    paused = [(utc(2026, 11, 30, 8), utc(2026, 11, 30, 9, 30))]
    deadline = office().add_working_time(utc(2026, 11, 30, 7), 4 * H, excluded=paused)
    assert deadline == utc(2026, 11, 30, 13, 30)
    between = office().working_time_between(utc(2026, 11, 30, 7), utc(2026, 11, 30, 13, 30), excluded=paused)
    assert between == 4 * H


def test_start_inside_working_hours_and_exact_ends():
    cal = office()
    # Mon 30 Nov 10:00 CET + 2 h = 12:00 CET exactly at the lunch break: 11:00 UTC, not 13:00 CET.
    assert cal.add_working_time(utc(2026, 11, 30, 9), 2 * H) == utc(2026, 11, 30, 11)
    # Starting in the lunch break counts from 13:00 CET.
    assert cal.add_working_time(utc(2026, 11, 30, 11, 30), H / 2) == utc(2026, 11, 30, 12, 30)
    assert cal.working_time_between(utc(2026, 11, 30, 12), utc(2026, 11, 30, 11)) == timedelta(0)


def test_overlapping_attendances_count_once():
    attendances = [Attendance(0, 0, 24), Attendance(0, 22, 6), Attendance(0, 9, 10)]
    cal = WorkingHours(tz="UTC", attendances=attendances)
    # Monday 00:00 to Tuesday 06:00: 30 hours, not 31 or 38.
    assert cal.working_time_between(utc(2026, 11, 30, 0), utc(2026, 12, 2, 0)) == 30 * H


def test_round_the_clock_and_empty_calendars():
    assert always().add_working_time(utc(2026, 11, 28, 22), 5 * H) == utc(2026, 11, 29, 3)
    assert WorkingHours(tz="UTC", attendances=[]).add_working_time(utc(2026, 11, 28), H) is None


def test_attendance_limited_to_a_period():
    # Mondays 09:00-10:00 UTC only from 7 Dec 2026 on.
    cal = WorkingHours(tz="UTC", attendances=[Attendance(0, 9, 10, date_from=date(2026, 12, 7))])
    assert cal.add_working_time(utc(2026, 11, 30), H) == utc(2026, 12, 7, 10)


class CountingHours(WorkingHours):
    """The office calendar, counting its work: spans built from attendances, and days read."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built: Counter = Counter()
        self.days_read = 0

    def _span(self, day, attendance):
        self.built[day, attendance] += 1
        return super()._span(day, attendance)

    def day_spans(self, day):
        self.days_read += 1
        return super().day_spans(day)


def test_thousands_of_deadlines_build_each_day_once_and_read_a_few_days_each():
    # The work, not the time it takes (which depends on the machine): a refresh plans thousands of
    # deadlines with one calendar, so a day's spans must be built once, and a plan must read only the
    # days it needs.
    attendances = [Attendance(d, f, t) for d in range(5) for f, t in ((8, 12), (13, 17))]
    cal = CountingHours(tz="Europe/Brussels", attendances=attendances,
                        leaves=[(utc(2026, 12, 24, 23), utc(2026, 12, 25, 23))])
    starts = [utc(2026, 11, 1) + timedelta(minutes=17 * i) for i in range(5000)]  # to 30 December
    most = 0
    for start in starts:
        before = cal.days_read
        cal.add_working_time(start, 12 * H, excluded=[(start + H, start + 2 * H)])
        most = max(most, cal.days_read - before)

    assert set(cal.built.values()) == {1}
    # Both attendances of each working day from Monday 2 November to Thursday 31 December: 44 days.
    assert len(cal.built) == 2 * 44
    # 12 working hours are a day and a half: the day before the start, then at worst from a Thursday
    # afternoon over Christmas (a Friday) and the weekend to Tuesday.
    assert most == 7


@pytest.mark.django_db
def test_calendar_from_model_uses_its_attendances_leaves_and_shared_holidays(django_assert_num_queries):
    from escalations.models import CalendarAttendance, CalendarLeave, WorkingCalendar

    cal = WorkingCalendar.objects.create(name="Office", tz="Europe/Brussels")
    for day in range(5):
        CalendarAttendance.objects.create(calendar=cal, weekday=day, hour_from=8, hour_to=17)
    CalendarLeave.objects.create(calendar=cal, starts_at=utc(2026, 11, 10, 23), ends_at=utc(2026, 11, 11, 23))
    # A public holiday for every calendar (no calendar): Christmas.
    CalendarLeave.objects.create(starts_at=utc(2026, 12, 24, 23), ends_at=utc(2026, 12, 25, 23))

    with django_assert_num_queries(3):
        hours = calendar_from_model(cal)
    # Tue 10 Nov 16:00 CET: 1 h on Tuesday, Wednesday off, Thursday 08:00-10:00 CET = 09:00 UTC.
    assert hours.add_working_time(utc(2026, 11, 10, 15), 3 * H) == utc(2026, 11, 12, 9)
    # Thu 24 Dec 16:00 CET: 1 h, Friday is Christmas, weekend, Monday 28 Dec 08:00-09:00 CET.
    assert hours.add_working_time(utc(2026, 12, 24, 15), 2 * H) == utc(2026, 12, 28, 8)

    with django_assert_num_queries(4):
        loaded = load_calendars()
    assert loaded[cal.pk].add_working_time(utc(2026, 12, 24, 15), 2 * H) == utc(2026, 12, 28, 8)


def test_time_between_stops_at_the_end_even_inside_a_span_split_by_a_pause():
    # Mon 30 Nov 08:00-08:30 CET is the only working time before the end; 09:00-10:00 is paused.
    paused = [(utc(2026, 11, 30, 8), utc(2026, 11, 30, 9))]
    between = office().working_time_between(utc(2026, 11, 30, 7), utc(2026, 11, 30, 7, 30), excluded=paused)
    assert between == timedelta(minutes=30)


# -- two-week calendars and personal leaves ---------------------------------------------------------


def two_weeks(leaves=()):
    """First weeks Monday to Friday 08:00-17:00 UTC, second weeks Monday to Wednesday."""
    attendances = [Attendance(d, 8, 17, week_type=0) for d in range(5)]
    attendances += [Attendance(d, 8, 17, week_type=1) for d in range(3)]
    return WorkingHours(tz="UTC", attendances=attendances, leaves=leaves)


def test_week_type_is_odoos_parity_of_weeks_from_monday_1_january_of_year_1():
    assert [week_type(date(2026, 11, 23) + timedelta(weeks=i)) for i in range(4)] == [0, 1, 0, 1]
    # The Sunday belongs to the Monday's week; ISO week numbers would repeat a parity after week 53.
    assert (week_type(date(2026, 11, 29)), week_type(date(2026, 11, 30))) == (0, 1)
    assert week_type(date(2026, 12, 28)) != week_type(date(2027, 1, 4))


def test_two_week_calendar_works_each_week_by_its_own_attendances():
    # Wed 2 Dec (a second week) 16:00 + 2 h: no Thursday or Friday that week -> Mon 7 Dec 09:00.
    assert two_weeks().add_working_time(utc(2026, 12, 2, 16), 2 * H) == utc(2026, 12, 7, 9)
    # Fri 27 Nov (a first week) 16:00 + 2 h -> Mon 30 Nov 09:00 (Monday works in both weeks).
    assert two_weeks().add_working_time(utc(2026, 11, 27, 16), 2 * H) == utc(2026, 11, 30, 9)
    # The fortnight from Mon 23 Nov: five days of 9 h, then three.
    assert two_weeks().working_time_between(utc(2026, 11, 23), utc(2026, 12, 7)) == 72 * H


@pytest.mark.django_db
def test_calendar_from_model_follows_week_types_and_leaves_out_personal_leaves():
    from escalations.models import CalendarAttendance, CalendarLeave, WorkingCalendar

    cal = WorkingCalendar.objects.create(name="Alternating", tz="UTC", two_weeks=True)
    # Odoo 17+ reads an empty week type on a two-week calendar as the first week (int(False)): Friday.
    weeks = [(d, 0) for d in range(4)] + [(4, None)] + [(d, 1) for d in range(3)]
    CalendarAttendance.objects.bulk_create(
        CalendarAttendance(calendar=cal, weekday=d, hour_from=8, hour_to=17, week_type=w) for d, w in weeks
    )
    monday_7 = {"starts_at": utc(2026, 12, 7), "ends_at": utc(2026, 12, 8)}
    # One person's day off, on this calendar and on none: the team still works.
    CalendarLeave.objects.create(calendar=cal, resource_odoo_id=7, resource_name="Ann", **monday_7)
    CalendarLeave.objects.create(calendar=None, resource_odoo_id=8, resource_name="Bob", **monday_7)
    wed_16 = utc(2026, 12, 2, 16)
    assert calendar_from_model(cal).add_working_time(wed_16, 2 * H) == utc(2026, 12, 7, 9)
    # Friday 27 Nov, a first week, works 16:00-17:00; Friday 4 Dec, a second week, does not (above).
    assert load_calendars()[cal.pk].add_working_time(utc(2026, 11, 27, 16), 2 * H) == utc(2026, 11, 30, 9)
    assert load_calendars()[cal.pk].add_working_time(wed_16, 2 * H) == utc(2026, 12, 7, 9)

    CalendarLeave.objects.create(calendar=cal, name="Office move", **monday_7)
    assert calendar_from_model(cal).add_working_time(wed_16, 2 * H) == utc(2026, 12, 8, 9)

    # The same attendances on a one-week calendar: week types mean nothing, Thursday works.
    WorkingCalendar.objects.filter(pk=cal.pk).update(two_weeks=False)
    cal.refresh_from_db()
    assert calendar_from_model(cal).add_working_time(wed_16, 2 * H) == utc(2026, 12, 3, 9)
