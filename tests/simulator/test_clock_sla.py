"""The clock and SLA behaviour the escalation console depends on (odoo.md §4.5, §5.3).

Clock at build: Friday 2026-11-27 09:00 UTC = 10:00 in Brussels. Teams other than VIP work
Mon-Fri 08:00-12:00 and 13:00-17:00 Brussels time.
"""

from datetime import UTC, datetime, timedelta

import pytest

UTC = UTC


def team(state, name):
    model = "helpdesk.team" if state.flavour == "enterprise" else "helpdesk.ticket.team"
    return state.call(model, "search", [[("name", "=", name)]])[0]


def stage(state, name):
    model = "helpdesk.stage" if state.flavour == "enterprise" else "helpdesk.ticket.stage"
    return state.call(model, "search", [[("name", "=", name)]])[0]


def read(state, model, ids, fields):
    return state.call(model, "read", [ids, fields])


def test_frozen_clock_gives_many_writes_the_same_second(state):
    state.clock.freeze()
    ids = state.call("helpdesk.ticket", "search", [[]], {"limit": 5})
    for tid in ids:
        state.call("helpdesk.ticket", "write", [[tid], {"kanban_state": "blocked"}])
    dates = {r["write_date"] for r in read(state, "helpdesk.ticket", ids, ["write_date"])}
    assert dates == {"2026-11-27 09:00:00"}


def test_clock_ticks_from_the_build_time_unless_frozen(state):
    first = state.clock.now()
    assert first - datetime(2026, 11, 27, 9, 0, tzinfo=UTC) < timedelta(seconds=30)
    state.clock.advance(timedelta(hours=2))
    assert state.clock.now() - first >= timedelta(hours=2)
    state.clock.set(datetime(2027, 1, 4, 8, 0, tzinfo=UTC))
    assert state.clock.db_now() >= datetime(2027, 1, 4, 8, 0)


@pytest.fixture
def frozen(make_server):
    server = make_server(tickets=10)
    server.state.clock.freeze()
    return server.state


def test_enterprise_deadlines_follow_the_working_calendar(frozen):
    state = frozen
    tid = state.call(
        "helpdesk.ticket",
        "create",
        [{"name": "Site down", "priority": "3", "team_id": team(state, "Technical Support")}],
    )
    rows = state.call(
        "helpdesk.sla.status",
        "search_read",
        [[("ticket_id", "=", tid)]],
        {"fields": ["sla_id", "deadline", "status", "reached_datetime"], "order": "deadline"},
    )
    # Urgent response, 4 working hours from Fri 10:00 local: 10-12 and 13-15 -> Fri 15:00 local.
    assert rows[0]["deadline"] == "2026-11-27 14:00:00" and rows[0]["status"] == "ongoing"
    # Urgent resolution, 16 h = 2 days: plan_days(3) lands on Tuesday, at the creation time (UTC).
    assert rows[1]["deadline"] == "2026-12-01 09:00:00"
    ticket = read(state, "helpdesk.ticket", [tid], ["sla_deadline", "sla_fail", "sla_success", "sla_ids"])[0]
    assert (
        ticket["sla_deadline"] == "2026-11-27 14:00:00" and not ticket["sla_fail"] and ticket["sla_success"]
    )
    assert len(ticket["sla_ids"]) == 2


def test_reaching_the_target_stage_marks_the_status_reached(frozen):
    state = frozen
    tid = state.call(
        "helpdesk.ticket",
        "create",
        [{"name": "Site down", "priority": "3", "team_id": team(state, "Technical Support")}],
    )
    state.clock.advance(timedelta(hours=1))
    state.call("helpdesk.ticket", "write", [[tid], {"stage_id": stage(state, "In Progress")}])
    rows = state.call(
        "helpdesk.sla.status",
        "search_read",
        [[("ticket_id", "=", tid)]],
        {"fields": ["status", "reached_datetime", "exceeded_hours"], "order": "deadline"},
    )
    assert rows[0]["status"] == "reached" and rows[0]["reached_datetime"] == "2026-11-27 10:00:00"
    assert rows[0]["exceeded_hours"] == pytest.approx(-3.0)  # reached 3 working hours early
    assert rows[1]["status"] == "ongoing"
    ticket = read(state, "helpdesk.ticket", [tid], ["sla_deadline", "sla_reached"])[0]
    assert ticket["sla_deadline"] == "2026-12-01 09:00:00" and ticket["sla_reached"]
    reached = state.call(
        "helpdesk.sla.status", "search", [[("ticket_id", "=", tid), ("status", "=", "reached")]]
    )
    assert reached == [rows[0]["id"]]


def test_sla_fail_is_searched_against_the_moving_clock_while_the_stored_flag_goes_stale(frozen):
    state = frozen
    tid = state.call(
        "helpdesk.ticket",
        "create",
        [{"name": "Site down", "priority": "3", "team_id": team(state, "Technical Support")}],
    )
    failing = lambda: tid in state.call("helpdesk.ticket", "search", [[("sla_fail", "=", True)]])  # noqa: E731
    assert not failing()
    state.clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # an hour past the response deadline
    assert failing()
    row = read(state, "helpdesk.ticket", [tid], ["sla_fail", "sla_reached_late"])[0]
    assert row["sla_fail"] is True and row["sla_reached_late"] is False  # stored, not refreshed yet
    state.call("helpdesk.ticket", "write", [[tid], {"stage_id": stage(state, "In Progress")}])
    row = read(state, "helpdesk.ticket", [tid], ["sla_fail", "sla_reached_late"])[0]
    assert row["sla_reached_late"] is True and row["sla_fail"] is True  # a failed SLA stays failed
    statuses = state.call(
        "helpdesk.sla.status", "search_read", [[("ticket_id", "=", tid)]], {"fields": ["status"]}
    )
    assert {r["status"] for r in statuses} == {"failed", "ongoing"}


def test_excluded_stage_freezes_the_deadline(frozen):
    state = frozen
    tid = state.call(
        "helpdesk.ticket",
        "create",
        [{"name": "Refund", "priority": "1", "team_id": team(state, "Customer Care")}],
    )
    deadline = lambda: read(state, "helpdesk.ticket", [tid], ["sla_deadline"])[0]["sla_deadline"]  # noqa: E731
    original = deadline()  # 24 h = 3 days -> Wednesday at the creation time
    assert original == "2026-12-02 09:00:00"
    state.call("helpdesk.ticket", "write", [[tid], {"stage_id": stage(state, "Waiting on Customer")}])
    assert deadline() is False
    # Waiting from Fri 10:00 to Mon 10:00 local: 6 working hours on Friday + 2 on Monday.
    state.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    state.call("helpdesk.ticket", "write", [[tid], {"stage_id": stage(state, "In Progress")}])
    assert deadline() == "2026-12-03 09:00:00"  # pushed by those 8 working hours: one working day


def test_assign_and_close_dates(frozen):
    state = frozen
    tid = state.call("helpdesk.ticket", "create", [{"name": "x", "team_id": team(state, "Billing")}])
    fields = ["assign_date", "close_date", "date_last_stage_update", "kanban_state"]
    assert read(state, "helpdesk.ticket", [tid], fields)[0]["assign_date"] is False
    state.clock.advance(timedelta(minutes=10))
    state.call("helpdesk.ticket", "write", [[tid], {"user_id": 3, "kanban_state": "blocked"}])
    state.clock.advance(timedelta(minutes=10))
    state.call("helpdesk.ticket", "write", [[tid], {"user_id": 4, "stage_id": stage(state, "Solved")}])
    row = read(state, "helpdesk.ticket", [tid], fields)[0]
    assert row["assign_date"] == "2026-11-27 09:10:00"  # the first assignment only
    assert row["close_date"] == row["date_last_stage_update"] == "2026-11-27 09:20:00"
    assert row["kanban_state"] == "normal"  # reset by the stage change
    state.call("helpdesk.ticket", "write", [[tid], {"stage_id": stage(state, "In Progress")}])
    assert read(state, "helpdesk.ticket", [tid], fields)[0]["close_date"] is False  # reopened


@pytest.mark.parametrize("version", [17, 18])
def test_oca_ticket_sla_rows(make_server, version):
    state = make_server(flavour="oca", version=version, tickets=10).state
    state.clock.freeze()
    tid = state.call(
        "helpdesk.ticket",
        "create",
        [
            {
                "name": "Down",
                "description": "<p>x</p>",
                "priority": "3",
                "team_id": team(state, "Technical Support"),
            }
        ],
    )
    rows = state.call(
        "helpdesk.ticket.sla",
        "search_read",
        [[("ticket_id", "=", tid)]],
        {"fields": ["deadline", "state", "expired"]},
    )
    assert [(r["deadline"], r["state"], r["expired"]) for r in rows] == [
        ("2026-11-27 14:00:00", "in_progress", False)
    ]
    assert read(state, "helpdesk.ticket", [tid], ["sla_deadline"])[0]["sla_deadline"] == "2026-11-27 14:00:00"
    state.clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    assert tid in state.call("helpdesk.ticket", "search", [[("sla_expired", "=", True)]])
    other = state.call(
        "helpdesk.ticket",
        "create",
        [
            {
                "name": "Fast",
                "description": "<p>x</p>",
                "priority": "3",
                "team_id": team(state, "Technical Support"),
            }
        ],
    )
    state.call("helpdesk.ticket", "write", [[other], {"stage_id": stage(state, "In Progress")}])
    row = state.call(
        "helpdesk.ticket.sla", "search_read", [[("ticket_id", "=", other)]], {"fields": ["state"]}
    )[0]
    assert row["state"] == "accomplished"
    assert other not in state.call("helpdesk.ticket", "search", [[("sla_expired", "=", True)]])


def test_oca_16_deadlines_come_from_the_cron_and_go_stale(make_server):
    state = make_server(flavour="oca", version=16, tickets=10).state
    state.clock.freeze()
    escalate = state.call("helpdesk.ticket.tag", "search", [[("name", "=", "Escalate")]])
    tid = state.call(
        "helpdesk.ticket",
        "create",
        [
            {
                "name": "Down",
                "description": "<p>x</p>",
                "team_id": team(state, "Technical Support"),
                "tag_ids": [(6, 0, escalate)],
            }
        ],
    )
    fields = ["sla_deadline", "sla_expired"]
    assert read(state, "helpdesk.ticket", [tid], fields)[0] == {
        "id": tid,
        "sla_deadline": False,
        "sla_expired": False,
    }
    state.run_sla_cron()
    # plan_days(1) ends Friday's morning block (12:00 local), then 4 working hours -> 17:00 local.
    assert read(state, "helpdesk.ticket", [tid], fields)[0]["sla_deadline"] == "2026-11-27 16:00:00"
    state.clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=UTC))
    assert read(state, "helpdesk.ticket", [tid], fields)[0]["sla_expired"] is False  # stale until the cron
    state.run_sla_cron()
    assert read(state, "helpdesk.ticket", [tid], fields)[0]["sla_expired"] is True
