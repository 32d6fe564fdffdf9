"""Working-time planning, checked against a plain interval walk (Odoo's own loop) and by hand."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from escalations.odoo.simulator.calendar import WorkCalendar, calendar_for, get_week_type
from tests.calendar_helpers import create_person_on_leave, create_two_week_calendar

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


# -- two-week calendars and personal leaves (odoo.md §8.5) --------------------------------------------

WED_2_DEC_16H = datetime(2026, 12, 2, 15, 0)  # 16:00 in Brussels, a second week


def test_week_type_is_the_parity_of_weeks_counted_from_year_one():
    mondays = [date(2026, 11, 23) + timedelta(weeks=i) for i in range(4)]
    assert [get_week_type(d) for d in mondays] == [0, 1, 0, 1]
    # Weeks start on Monday: the Sunday ends the Monday's week; no ISO week numbers (2026 has 53).
    assert get_week_type(date(2026, 11, 29)) == 0 and get_week_type(date(2026, 11, 30)) == 1
    assert get_week_type(date(2026, 12, 28)) != get_week_type(date(2027, 1, 4))


def test_two_week_attendances_count_in_their_own_week_only():
    first = [(d, 8, 17, None, None, 0) for d in range(5)]
    second = [(d, 8, 17, None, None, 1) for d in range(3)]
    cal = WorkCalendar("UTC", first + second)
    # Wed 2 Dec (second week) 16:00 + 2 h: Thursday and Friday are off that week -> Mon 7 Dec 09:00.
    assert cal.plan_hours(2, datetime(2026, 12, 2, 16)) == datetime(2026, 12, 7, 9)
    # The fortnight from Mon 23 Nov: 5 days of 9 h, then 3.
    assert cal.work_hours(datetime(2026, 11, 23), datetime(2026, 12, 7)) == pytest.approx(72)


def test_two_week_calendar_from_records_skips_section_rows_and_the_other_week(state):
    calendar = create_two_week_calendar(state)
    cal = calendar_for(state.store, calendar)
    # Wed 2 Dec 16:00 local + 9 h: 1 h that day, no Thursday or Friday in a second week, Monday 7 Dec
    # (a first week) 08:00-12:00 and 13:00-17:00 -> 17:00 local = 16:00 UTC.
    assert cal.plan_hours(9, WED_2_DEC_16H) == datetime(2026, 12, 7, 16)
    # Across both boundaries: Fri 27 Nov 16:00 local + 26 h -> 1 h on Friday, Mon 30 Nov to Wed 2 Dec
    # 8 h each, then Thursday 3 Dec is off, so the last hour is Monday 7 Dec 08:00-09:00 local.
    assert cal.plan_hours(26, datetime(2026, 11, 27, 15)) == datetime(2026, 12, 7, 8)
    # Mon 23 Nov to Mon 7 Dec local: 40 + 24 working hours; the section rows (Monday 0-0) add nothing.
    assert cal.work_hours(datetime(2026, 11, 22, 23), datetime(2026, 12, 6, 23)) == pytest.approx(64)


def test_a_persons_leave_leaves_the_calendar_open_and_a_calendar_leave_closes_it(state):
    calendar = create_two_week_calendar(state)
    resource = create_person_on_leave(
        state, calendar=calendar, date_from="2026-12-06 23:00:00", date_to="2026-12-07 23:00:00"
    )
    # Not time off ("other": a training day) does not close the calendar either.
    state.call("resource.calendar.leaves", "create", [{
        "name": "Training", "calendar_id": calendar, "time_type": "other",
        "date_from": "2026-12-06 23:00:00", "date_to": "2026-12-07 23:00:00",
    }])
    assert calendar_for(state.store, calendar).plan_hours(9, WED_2_DEC_16H) == datetime(2026, 12, 7, 16)
    # That person's own plan does skip their day off: Tuesday 8 Dec 17:00 local.
    own = calendar_for(state.store, calendar, resource)
    assert own.plan_hours(9, WED_2_DEC_16H) == datetime(2026, 12, 8, 16)

    state.call("resource.calendar.leaves", "create", [{
        "name": "Office move", "calendar_id": calendar,
        "date_from": "2026-12-06 23:00:00", "date_to": "2026-12-07 23:00:00",
    }])
    assert calendar_for(state.store, calendar).plan_hours(9, WED_2_DEC_16H) == datetime(2026, 12, 8, 16)


@pytest.mark.parametrize("flavour", ["enterprise", "oca"])
def test_sla_deadlines_plan_on_the_teams_two_week_calendar(make_server, flavour):
    state = make_server(flavour=flavour, version=17, tickets=10).state
    team_model = "helpdesk.team" if flavour == "enterprise" else "helpdesk.ticket.team"
    team = state.call(team_model, "search", [[("name", "=", "Technical Support")]])
    calendar = create_two_week_calendar(state)
    state.call(team_model, "write", [team, {"resource_calendar_id": calendar}])
    monday_7 = {"date_from": "2026-12-06 23:00:00", "date_to": "2026-12-07 23:00:00"}
    create_person_on_leave(state, calendar=calendar, **monday_7)
    state.clock.set(datetime(2026, 12, 2, 14, 0, tzinfo=UTC))  # Wed 15:00 local, a second week
    state.clock.freeze()

    def urgent_deadline():
        values = {"name": "Down", "description": "<p>x</p>", "priority": "3", "team_id": team[0]}
        tid = state.call("helpdesk.ticket", "create", [values])
        model = "helpdesk.sla.status" if flavour == "enterprise" else "helpdesk.ticket.sla"
        rows = state.call(model, "search_read", [[("ticket_id", "=", tid)]], {"fields": ["deadline"]})
        return min(r["deadline"] for r in rows)

    # 4 working hours: Wed 15:00-17:00, then Monday 7 Dec 08:00-10:00 local (the agent's day off is theirs).
    assert urgent_deadline() == "2026-12-07 09:00:00"
    state.call("resource.calendar.leaves", "create", [{
        "name": "Office move", "calendar_id": calendar,
        "date_from": "2026-12-06 23:00:00", "date_to": "2026-12-07 23:00:00",
    }])
    assert urgent_deadline() == "2026-12-08 09:00:00"
