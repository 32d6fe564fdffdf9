"""The reports' rollup pass: the first one counts everything; each later one rebuilds only the tickets
touched since the last (a sync rewrote them, a deadline passed, an escalation moved, a write-back or
an automated change happened), including rows that belong to weeks long past; beat runs it."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from dashboard.celery import app
from escalations import tasks
from escalations.models import (
    AutomationChange,
    EscalationEvent,
    OdooAction,
    ReportFact,
    ReportRollup,
    SlaStatus,
    Ticket,
)
from escalations.reports.read import report_read
from escalations.reports.rollup import report_rollup, touched_tickets
from escalations.reports.weeks import weeks_until
from tests.report_world import NOW, WEEK_A, WEEK_B, at, build_world

F = ReportFact.Figure
LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def world(db):
    world = build_world()
    assert report_rollup(now=NOW).full
    return world


def per_week(figure, key=None, *, now=NOW):
    zone = ZoneInfo("UTC")
    weeks = weeks_until(last_day=now.date(), count=2, zone=zone)
    reading = report_read(weeks=weeks, team_ids=None, zone=zone)
    return [reading.count(figure, key, WEEK_A), reading.count(figure, key, WEEK_B)]


def sla_row(ticket):
    return ReportFact.objects.filter(figure=F.SLA, ticket=ticket).values_list("key", "at").first()


def test_a_pass_with_nothing_touched_rewrites_nothing(world):
    before = sorted(ReportFact.objects.values_list("pk", flat=True))
    result = report_rollup(now=LATER)
    assert (result.full, result.tickets) == (False, 1)  # t6: its write-backs are still pending
    untouched = ReportFact.objects.exclude(ticket=world.tickets["t6"])
    assert sorted(untouched.values_list("pk", flat=True)) == sorted(
        set(before) & set(untouched.values_list("pk", flat=True)))
    assert ReportRollup.objects.get(pk=1).last_started_at == LATER


def test_a_ticket_the_sync_rewrote_is_recounted_in_its_old_week(world):
    t9 = world.tickets["t9"]
    assert per_week(F.SLA, "met") == [2, 2] and sla_row(t9) == ("met", at(23, 3))
    # Odoo moved t9's deadline before the time it was reached: the sync rewrites the ticket.
    SlaStatus.objects.filter(ticket=t9).update(deadline=at(23, 2), state=SlaStatus.State.FAILED)
    Ticket.objects.filter(pk=t9.pk).update(synced_at=NOW + timedelta(minutes=1))
    result = report_rollup(now=LATER)
    assert not result.full and t9.pk in touched_tickets(since=NOW - timedelta(minutes=10), now=LATER)
    assert sla_row(t9) == ("breached", at(23, 2))
    assert per_week(F.SLA, "met") == [2, 1] and per_week(F.SLA, "breached") == [2, 1]
    assert ReportFact.objects.filter(figure=F.HANDOFF_STAGE, ticket=t9).exists()  # a breach: its hand-offs


def test_a_change_no_pass_was_told_of_waits_for_a_full_pass(world):
    # t7's SLA record changed with no sync write (not a way Odoo's changes arrive, but it shows the pass
    # rebuilds only what it is told changed, not the whole history)
    SlaStatus.objects.filter(ticket=world.tickets["t7"]).update(reached_at=at(17, 11))
    report_rollup(now=LATER)
    assert sla_row(world.tickets["t7"])[0] == "met"
    assert report_rollup(now=LATER + timedelta(minutes=5), full=True).full
    assert sla_row(world.tickets["t7"])[0] == "breached"


def test_a_deadline_that_passes_is_a_breach_without_any_write(world):
    t5 = world.tickets["t5"]  # one deadline met, one running until 26 Nov 12:00; nothing pending
    report_rollup(now=at(26, 11))
    assert sla_row(t5) is None
    report_rollup(now=at(26, 12, 5))
    assert sla_row(t5) == ("breached", at(26, 12))


def test_a_pending_write_back_that_fails_later_is_recounted_where_it_was_made(world):
    assert per_week(F.ACTION_END, "pending") == [0, 2]
    OdooAction.objects.filter(pk=world.actions["a6"].pk).update(state=OdooAction.State.FAILED)
    report_rollup(now=LATER)
    assert per_week(F.ACTION_END, "pending") == [0, 1]
    assert per_week(F.ACTION_END, "failed") == [1, 1]


def test_new_events_and_undos_are_taken_in(world):
    e4 = world.escalations["e4"]
    EscalationEvent.objects.create(escalation=e4, kind="accepted", at=NOW + timedelta(minutes=1),
                                   to_level=e4.level)
    AutomationChange.objects.filter(ticket=world.tickets["t1"], rule=world.rules["r1"]).update(
        outcome=AutomationChange.Outcome.UNDONE, undone_at=NOW + timedelta(minutes=2))
    report_rollup(now=LATER)
    assert per_week(F.ACCEPTED) == [2, 2]
    assert per_week(F.UNDONE) == [0, 2]


def test_beat_runs_the_rollup_every_reports_interval(world, settings):
    app.finalize()  # beat's schedule is made when the app is finalized, as a worker does at start
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["escalations.tasks.roll_up_reports"] == float(settings.REPORTS_ROLLUP_SECONDS)
    ReportFact.objects.all().delete()
    ReportRollup.objects.all().delete()
    with time_machine.travel(LATER, tick=False):
        assert tasks.roll_up_reports() == {"full": True, "tickets": 0}
    assert ReportFact.objects.filter(figure=F.SLA).count() == 6
    with time_machine.travel(at(27, 13), tick=False):  # t5's and t6's deadlines have passed since
        assert tasks.roll_up_reports() == {"full": False, "tickets": 2}
    assert ReportFact.objects.filter(figure=F.SLA).count() == 8


def test_the_command_brings_the_rollup_up_to_date_or_rebuilds_it(world):
    out = io.StringIO()
    with time_machine.travel(LATER, tick=False):
        call_command("report_rollup", stdout=out)
        assert out.getvalue().startswith("Reports rollup: rebuilt 1 ticket in ")  # t6, its pending actions
        call_command("report_rollup", "--full", stdout=out)
    assert "rebuilt every ticket" in out.getvalue()
    assert ReportRollup.objects.get(pk=1).last_full
