"""Working-time planning, checked against a plain interval walk (Odoo's own loop) and by hand."""

import random
from datetime import datetime, timedelta

import pytest

from escalations.odoo.simulator.calendar import WorkCalendar

OFFICE = [(d, 8, 12) for d in range(5)] + [(d, 13, 17) for d in range(5)]
NIGHTS = [(d, 22, 24) for d in range(5)] + [(d, 0, 6) for d in range(1, 6)]
ARMISTICE = [(datetime(2026, 11, 10, 23, 0), datetime(2026, 11, 11, 23, 0))]


def walk_plan(cal, hours, start):
    remaining = timedelta(hours=hours)
    for s, e in cal.forward(start):
        if e - s >= remaining:
            return (s + remaining).replace(microsecond=0)
        remaining -= e - s


def walk_days(cal, days, start):
    found = set()
    for _start, e, day in cal.forward(start, with_day=True):
        found.add(day)
        if len(found) == days:
            return e


def walk_hours(cal, start, end):
    total = timedelta()
    for s, e in cal.forward(start):
        if s >= end:
            break
        total += min(e, end) - s
    return total.total_seconds() / 3600


@pytest.mark.parametrize(
    "attendances,tz",
    [
        (OFFICE, "Europe/Brussels"),
        (NIGHTS, "America/New_York"),
        ([(d, 9, 17.5) for d in range(5)], "Asia/Kolkata"),
    ],
)
def test_fast_planning_matches_the_interval_walk(attendances, tz):
    fast, slow = WorkCalendar(tz, attendances, ARMISTICE), WorkCalendar(tz, attendances, ARMISTICE)
    rng = random.Random(5)
    for _ in range(600):
        start = datetime(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 60 * 24 * 600))
        hours = rng.choice([0, 0.25, 1, 4, 8, 16, 24, 40, 1 / 3, 300])
        assert fast.plan_hours(hours, start) == walk_plan(slow, hours, start)
        days = rng.randint(1, 5)
        assert fast.plan_days(days, start) == walk_days(slow, days, start)
        end = start + timedelta(hours=rng.uniform(0, 400))
        assert fast.work_hours(start, end) == pytest.approx(walk_hours(slow, start, end))


def test_office_hours_by_hand():
    cal = WorkCalendar("Europe/Brussels", OFFICE, ARMISTICE)
    friday_10 = datetime(2026, 11, 27, 9, 0)  # 10:00 local
    assert cal.plan_hours(4, friday_10) == datetime(2026, 11, 27, 14, 0)  # 15:00 local, lunch skipped
    assert cal.plan_hours(10, friday_10) == datetime(2026, 11, 30, 11, 0)  # Monday 12:00 local
    assert cal.plan_hours(0, datetime(2026, 11, 28, 9, 0)) == datetime(
        2026, 11, 30, 7, 0
    )  # Saturday -> Monday 08:00
    assert cal.plan_hours(-3, friday_10) == datetime(2026, 11, 26, 15, 0)
    assert cal.work_hours(friday_10, datetime(2026, 11, 30, 12, 0)) == pytest.approx(10.0)
    # Armistice Day (Wednesday 11 November) is a leave: Tuesday 16:00 + 2 h -> Thursday 09:00 local.
    assert cal.plan_hours(2, datetime(2026, 11, 10, 15, 0)) == datetime(2026, 11, 12, 8, 0)


def test_daylight_saving_keeps_local_hours():
    cal = WorkCalendar("Europe/Brussels", OFFICE)
    # Friday 27 March 2026 16:00 local (15:00 UTC) + 2 h: clocks go forward on Sunday, so Monday
    # 09:00 local is 07:00 UTC (UTC+2), not 08:00.
    assert cal.plan_hours(2, datetime(2026, 3, 27, 15, 0)) == datetime(2026, 3, 30, 7, 0)
    # And back in October: Friday 23rd 16:00 local (14:00 UTC) + 2 h -> Monday 09:00 local = 08:00 UTC.
    assert cal.plan_hours(2, datetime(2026, 10, 23, 14, 0)) == datetime(2026, 10, 26, 8, 0)


def test_no_working_time_plans_nothing():
    assert WorkCalendar("UTC", []).plan_hours(1, datetime(2026, 1, 1)) is None
