"""What the sync adds for the SLA clock: working calendars, stage history, clocks after each sync.

The simulator's teams work on "Standard 40 hours/week" (Mon-Fri 08:00-12:00 and 13:00-17:00
Europe/Brussels, lunch 12:00-13:00 as a "lunch" attendance, Belgian holidays as leaves) except VIP
Support (24/7). Its clock starts at T0 = Wednesday 25 Nov 2026 09:30 UTC (10:30 in Brussels).
"""

from datetime import UTC, datetime, timedelta

import pytest

from escalations.models import (
    CalendarLeave,
    EscalationPolicy,
    Stage,
    Team,
    Ticket,
    TicketClock,
    TicketStageChange,
    WorkingCalendar,
)
from escalations.odoo.values import odoo_datetime
from escalations.sla.calendars import calendar_from_model
from escalations.sync.run import sync_odoo
from tests.calendar_helpers import create_person_on_leave, create_two_week_calendar
from tests.conftest import FLAVOURS, T0

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def names(state):
    if state.flavour == "enterprise":
        return {"team": "helpdesk.team", "stage": "helpdesk.stage", "changed": "date_last_stage_update"}
    return {"team": "helpdesk.ticket.team", "stage": "helpdesk.ticket.stage", "changed": "last_stage_update"}


def search(state, model, domain):
    return state.call(model, "search", [domain], {"context": {"active_test": False}})


def odoo_calendar(state, name):
    return search(state, "resource.calendar", [("name", "=", name)])[0]


# -- calendars -----------------------------------------------------------------------------------


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 16)], indirect=True)
def test_teams_calendars_are_mirrored_with_attendances_time_zone_and_holidays(odoo):
    sync_odoo(full=True)

    standard = WorkingCalendar.objects.get(odoo_id=odoo_calendar(odoo.state, "Standard 40 hours/week"))
    assert (standard.tz, standard.hours_per_day) == ("Europe/Brussels", 8.0)
    # Ten working blocks; the five lunch breaks are attendances in Odoo but not working time.
    rows = sorted(standard.attendances.values_list("weekday", "hour_from", "hour_to"))
    assert rows == [(d, f, t) for d in range(5) for f, t in ((8, 12), (13, 17))]
    christmas = standard.leaves.get(name="Christmas", starts_at__year=2026)
    assert (christmas.starts_at, christmas.ends_at) == (utc(2026, 12, 24, 23), utc(2026, 12, 25, 23))

    around = WorkingCalendar.objects.get(name="24/7 Support")
    assert sorted(around.attendances.values_list("weekday", "hour_from", "hour_to")) == [
        (d, 0, 24) for d in range(7)
    ]
    # Every team's calendar is there.
    assert set(Team.objects.values_list("calendar_odoo_id", flat=True)) == set(
        WorkingCalendar.objects.values_list("odoo_id", flat=True)
    )
    # Wed 25 Nov 10:30 CET + 4 working hours: 10:30-12:00 and 13:00-15:30 CET -> 14:30 UTC.
    assert calendar_from_model(standard).add_working_time(T0, 4 * H) == utc(2026, 11, 25, 14, 30)


def test_calendar_changes_in_odoo_reach_the_mirror_on_a_full_sync(odoo):
    state = odoo.state
    sync_odoo(full=True)
    standard = odoo_calendar(state, "Standard 40 hours/week")
    national_day = search(state, "resource.calendar.leaves", [("name", "=", "National Day")])
    state.call("resource.calendar.leaves", "unlink", [national_day])
    # A company holiday for every calendar (no calendar_id), and one person's day off (not the team's).
    state.call("resource.calendar.leaves", "create", [{
        "name": "Team day", "date_from": "2026-11-26 23:00:00", "date_to": "2026-11-27 23:00:00",
    }])
    state.call("resource.calendar.attendance", "create", [{
        "name": "Saturday morning", "dayofweek": "5", "hour_from": 9, "hour_to": 12, "calendar_id": standard,
    }])

    sync_odoo()  # incremental: calendars are known, so not read again
    assert not CalendarLeave.objects.filter(name="Team day").exists()
    sync_odoo(full=True)

    shared = CalendarLeave.objects.get(name="Team day")
    assert shared.calendar is None and shared.starts_at == utc(2026, 11, 26, 23)
    assert not CalendarLeave.objects.filter(name="National Day").exists()
    calendar = WorkingCalendar.objects.get(odoo_id=standard)
    assert calendar.attendances.filter(weekday=5, hour_from=9, hour_to=12).exists()
    # Thu 26 Nov 16:00 CET: 1 h on Thursday, Friday is the team day, Saturday 09:00-11:00 CET.
    hours = calendar_from_model(calendar)
    assert hours.add_working_time(utc(2026, 11, 26, 15), 3 * H) == utc(2026, 11, 28, 10)


def test_incremental_sync_reads_a_calendar_the_mirror_lacks(odoo):
    state = odoo.state
    sync_odoo(full=True)
    state.clock.advance(timedelta(minutes=1))
    nights = state.call("resource.calendar", "create", [{"name": "Nights", "tz": "UTC"}])
    state.call("resource.calendar.attendance", "create", [{
        "name": "Monday night", "dayofweek": "0", "hour_from": 22, "hour_to": 6, "calendar_id": nights,
    }])
    team = search(state, names(state)["team"], [("name", "=", "Billing")])
    state.call(names(state)["team"], "write", [team, {"resource_calendar_id": nights}])

    sync_odoo()

    calendar = WorkingCalendar.objects.get(odoo_id=nights)
    assert list(calendar.attendances.values_list("weekday", "hour_from", "hour_to")) == [(0, 22, 6)]
    assert Team.objects.get(odoo_id=team[0]).calendar_odoo_id == nights


# -- stage history -------------------------------------------------------------------------------


def test_stage_history_starts_with_each_new_ticket_and_records_each_move(odoo, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    state = odoo.state
    state.clock.freeze()  # the moves below are exactly 5 minutes apart, however long each sync takes
    sync_odoo(full=True)
    with_stage = Ticket.objects.exclude(stage=None)
    assert TicketStageChange.objects.count() == with_stage.count()
    first = with_stage.first()
    row = TicketStageChange.objects.get(ticket=first)
    assert (row.stage_id, row.from_stage_id) == (first.stage_id, None)
    assert row.at == (first.stage_changed_at or first.created_at)

    ticket = Ticket.objects.open().first()
    closed = Stage.objects.filter(is_closed=True).first()
    state.clock.advance(timedelta(minutes=5))
    state.call("helpdesk.ticket", "write", [[ticket.pk], {"stage_id": closed.pk}])
    sync_odoo()
    state.clock.advance(timedelta(minutes=5))
    state.call("helpdesk.ticket", "write", [[ticket.pk], {"stage_id": ticket.stage_id}])
    sync_odoo()
    sync_odoo(full=True)  # a full sync reads every ticket again but adds no history

    history = TicketStageChange.objects.filter(ticket=ticket)
    moves = list(history.values_list("from_stage_id", "stage_id", "at"))
    changed = state.call("helpdesk.ticket", "read", [[ticket.pk], [names(state)["changed"]]])[0]
    assert [m[:2] for m in moves[1:]] == [(ticket.stage_id, closed.pk), (closed.pk, ticket.stage_id)]
    # Each at Odoo's time of the move, not the sync's: the reopening is the last stage update.
    assert moves[2][2] == odoo_datetime(changed[names(state)["changed"]])
    assert moves[2][2] - moves[1][2] == timedelta(minutes=5)
    assert TicketStageChange.objects.count() == with_stage.count() + 2


# -- clocks after the sync -------------------------------------------------------------------------


def odoo_nearest_deadlines(state) -> dict[int, datetime | None]:
    """The nearest unmet deadline of each open ticket, from the simulator's own SLA records."""
    tickets = state.call("helpdesk.ticket", "search_read", [[]], {"fields": ["sla_deadline"]})
    if state.flavour == "oca" and state.version == 16:
        return {t["id"]: odoo_datetime(t["sla_deadline"]) for t in tickets}
    if state.flavour == "enterprise":
        model, fields = "helpdesk.sla.status", ["ticket_id", "deadline", "reached_datetime"]
        unmet = lambda r: not r["reached_datetime"]  # noqa: E731
    else:
        model, fields = "helpdesk.ticket.sla", ["ticket_id", "deadline", "state"]
        unmet = lambda r: r["state"] != "accomplished"  # noqa: E731
    nearest = {t["id"]: None for t in tickets}
    for r in state.call(model, "search_read", [[]], {"fields": fields}):
        deadline = odoo_datetime(r["deadline"])
        tid = r["ticket_id"][0]
        if unmet(r) and deadline and tid in nearest:
            nearest[tid] = min(filter(None, [nearest[tid], deadline]))
    return nearest


@pytest.mark.parametrize("simulator", FLAVOURS, indirect=True, ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_each_open_ticket_gets_the_clock_of_odoos_own_sla_data(odoo):
    sync_odoo(full=True)

    expected = odoo_nearest_deadlines(odoo.state)
    open_ids = set(Ticket.objects.open().values_list("odoo_id", flat=True))
    clocks = {c.ticket_id: c for c in TicketClock.objects.all()}
    assert set(clocks) == open_ids  # closed and archived tickets have none
    with_deadline = 0
    for ticket_id in open_ids:
        clock = clocks[ticket_id]
        assert clock.deadline == expected[ticket_id], ticket_id
        if clock.deadline:
            with_deadline += 1
            assert clock.source == "odoo" and clock.at_risk_at == clock.deadline - H  # no policy: 1 h
    assert with_deadline >= 5


@pytest.mark.parametrize("simulator", [("oca", 16)], indirect=True)
def test_policy_deadline_for_a_ticket_odoo_gives_none_yet_pauses_while_waiting(odoo, settings):
    """OCA 16 gives a new ticket no deadline until its SLA cron runs: the policy's target counts."""
    settings.SYNC_OVERLAP_SECONDS = 0
    state = odoo.state
    sync_odoo(full=True)
    care = Team.objects.get(name="Customer Care")
    policy = EscalationPolicy.objects.create(team=care, target_hours=4, at_risk_within=H)
    policy.paused_stages.add(Stage.objects.get(name="Awaiting"))
    progress = Stage.objects.get(name="In Progress")

    # Created Wed 25 Nov 11:00 CET: 11-12 and 13-16 CET -> 16:00 CET = 15:00 UTC.
    state.clock.set(utc(2026, 11, 25, 10))
    values = {"name": "VPN down", "description": "Since 9", "team_id": care.pk, "stage_id": progress.pk}
    ticket_id = state.call("helpdesk.ticket", "create", [values])
    sync_odoo()
    clock = TicketClock.objects.get(ticket_id=ticket_id)
    assert (clock.deadline, clock.source) == (utc(2026, 11, 25, 15), "policy")
    assert clock.at_risk_at == utc(2026, 11, 25, 14)

    # Waiting for the customer from 11:30 to 13:30 CET: the clock stands still meanwhile...
    state.clock.set(utc(2026, 11, 25, 10, 30))
    state.call("helpdesk.ticket", "write", [[ticket_id], {"stage_id": policy.paused_stages.get().pk}])
    sync_odoo()
    clock.refresh_from_db()
    assert (clock.deadline, clock.paused) == (None, True)

    # ... and the working hour it covered (11:30-12:00 and 13:00-13:30 CET) is added: 17:00 CET.
    state.clock.set(utc(2026, 11, 25, 12, 30))
    state.call("helpdesk.ticket", "write", [[ticket_id], {"stage_id": progress.pk}])
    sync_odoo()
    clock.refresh_from_db()
    assert (clock.deadline, clock.paused) == (utc(2026, 11, 25, 16), False)


def test_a_full_sync_writes_no_unchanged_ticket_yet_moves_the_clock_a_new_holiday_moves(odoo, settings):
    """A holiday added in Odoo writes no ticket: the hourly full sync works every open ticket's clock out
    again on the calendars it read, while the tickets themselves, unchanged, are not written."""
    settings.SYNC_OVERLAP_SECONDS = 0
    state = odoo.state
    billing = search(state, "helpdesk.team", [("name", "=", "Billing")])
    state.call("helpdesk.team", "write", [billing, {"use_sla": False}])  # the console's own target
    sync_odoo(full=True)
    EscalationPolicy.objects.create(team=Team.objects.get(odoo_id=billing[0]), target_hours=4)
    state.clock.set(utc(2026, 11, 25, 10))  # Wed 11:00 CET: 11-12 and 13-16 CET
    values = {"name": "VPN down", "description": "Since 9", "team_id": billing[0],
              "stage_id": Stage.objects.get(name="In Progress").pk}
    ticket_id = state.call("helpdesk.ticket", "create", [values])
    sync_odoo(full=True)
    assert TicketClock.objects.get(ticket_id=ticket_id).deadline == utc(2026, 11, 25, 15)
    written = dict(Ticket.objects.values_list("odoo_id", "synced_at"))

    standard = odoo_calendar(state, "Standard 40 hours/week")
    state.call("resource.calendar.leaves", "create", [{  # Wed 14:00-16:00 CET off
        "name": "Fire drill", "calendar_id": standard,
        "date_from": "2026-11-25 13:00:00", "date_to": "2026-11-25 15:00:00",
    }])
    result = sync_odoo(full=True)

    assert (result.created, result.updated) == (0, 0)
    assert dict(Ticket.objects.values_list("odoo_id", "synced_at")) == written
    # 11-12 CET, 13-14 CET, then 16-17 CET and Thursday 08:00-09:00 CET.
    assert TicketClock.objects.get(ticket_id=ticket_id).deadline == utc(2026, 11, 26, 8)


def test_a_release_that_maps_differently_has_every_ticket_written_again_once(odoo, monkeypatch):
    from escalations.sync import mapping

    first = sync_odoo(full=True)
    assert sync_odoo(full=True).updated == 0
    monkeypatch.setattr(mapping, "MAPPING_VERSION", "a later release")
    assert sync_odoo(full=True).updated == first.created
    assert sync_odoo(full=True).updated == 0


# -- two-week calendars and personal leaves ---------------------------------------------------------

TWO_TEAMS = ("Technical Support", "Billing")
MONDAY_7_DEC = {"date_from": "2026-12-06 23:00:00", "date_to": "2026-12-07 23:00:00"}  # local midnights


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 16)], indirect=True)
def test_two_week_calendar_is_mirrored_with_week_types_and_personal_leaves_with_their_person(odoo):
    state = odoo.state
    alternating = create_two_week_calendar(state)
    team = search(state, names(state)["team"], [("name", "=", "Billing")])
    state.call(names(state)["team"], "write", [team, {"resource_calendar_id": alternating}])
    person = create_person_on_leave(state, calendar=alternating, **MONDAY_7_DEC)
    # That person also works Thursday mornings of second weeks: their own schedule, not the team's.
    state.call("resource.calendar.attendance", "create", [{
        "name": "Thursday morning (own)", "dayofweek": "3", "hour_from": 8, "hour_to": 12, "week_type": "1",
        "resource_id": person, "calendar_id": alternating,
    }])

    sync_odoo(full=True)

    calendar = WorkingCalendar.objects.get(odoo_id=alternating)
    assert calendar.two_weeks
    # The team's working spans only: not the two section rows ("First week", "Second week"), nor the
    # lunches, nor the person's own Thursday.
    rows = sorted(calendar.attendances.values_list("week_type", "weekday", "hour_from", "hour_to"))
    spans = ((8, 12), (13, 17))
    assert rows == [(w, d, f, t) for w, days in ((0, 5), (1, 3)) for d in range(days) for f, t in spans]
    leave = calendar.leaves.get(name="Dentist")
    assert (leave.resource_odoo_id, leave.resource_name) == (person, "Agent on leave")
    assert leave.starts_at == utc(2026, 12, 6, 23)
    # The calendars of one-week teams stay one-week.
    standard = WorkingCalendar.objects.get(odoo_id=odoo_calendar(state, "Standard 40 hours/week"))
    assert not standard.two_weeks and set(standard.attendances.values_list("week_type", flat=True)) == {None}


def test_computed_deadline_on_a_two_week_calendar_is_odoos_and_only_a_calendar_leave_moves_it(odoo):
    """Technical Support's deadlines come from Odoo (an urgent ticket: 4 working hours); Billing, without
    SLA policies in Odoo, gets the console's own 4-hour target. Both teams work on the two-week calendar."""
    state = odoo.state
    alternating = create_two_week_calendar(state)
    teams = {n: search(state, "helpdesk.team", [("name", "=", n)])[0] for n in TWO_TEAMS}
    state.call("helpdesk.team", "write", [list(teams.values()), {"resource_calendar_id": alternating}])
    state.call("helpdesk.team", "write", [[teams["Billing"]], {"use_sla": False}])
    create_person_on_leave(state, calendar=alternating, **MONDAY_7_DEC)
    sync_odoo(full=True)
    EscalationPolicy.objects.create(team=Team.objects.get(odoo_id=teams["Billing"]), target_hours=4)

    def deadlines():
        """(Odoo's, the console's) deadline of two urgent tickets created now in those teams."""
        created = {}
        for name, team in teams.items():
            values = {"name": f"Down ({name})", "description": "<p>x</p>", "priority": "3", "team_id": team}
            created[name] = state.call("helpdesk.ticket", "create", [values])
        sync_odoo(full=True)  # a full sync re-reads the calendars (their leaves changed)
        odoo_clock = TicketClock.objects.get(ticket_id=created["Technical Support"])
        console_clock = TicketClock.objects.get(ticket_id=created["Billing"])
        assert (odoo_clock.source, console_clock.source) == ("odoo", "policy")
        return odoo_clock.deadline, console_clock.deadline

    # Wed 2 Dec 15:00 in Brussels, a second week: 15:00-17:00, no Thursday or Friday that week, then
    # Monday 7 Dec (a first week) 08:00-10:00 local. The agent's day off is theirs, not the team's.
    state.clock.set(utc(2026, 12, 2, 14))
    state.clock.freeze()  # both tickets created on the hour, however slow the machine
    assert deadlines() == (utc(2026, 12, 7, 9), utc(2026, 12, 7, 9))

    move = {"name": "Office move", "calendar_id": alternating, **MONDAY_7_DEC}
    state.call("resource.calendar.leaves", "create", [move])
    assert deadlines() == (utc(2026, 12, 8, 9), utc(2026, 12, 8, 9))
