"""The SLA clock: states at their boundaries, Odoo-given versus computed deadlines, paused stages.

Times are UTC; Brussels is UTC+1 in November. Expected values are worked out by hand in comments.
"""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations.engine import triggers
from escalations.models import (
    CalendarAttendance,
    SlaStatus,
    Ticket,
    TicketClock,
    TicketStageChange,
    WorkingCalendar,
)
from escalations.queue import sla_expression
from escalations.sla import (
    AT_RISK,
    BREACHED,
    NO_SLA,
    ON_TRACK,
    PAUSED,
    REACHED,
    RiskRule,
    refresh_clocks,
    sla_state,
    ticket_sla,
)
from tests.factories import (
    ClosedStageFactory,
    EscalationPolicyFactory,
    StageFactory,
    TeamFactory,
    TicketClockFactory,
    TicketFactory,
)

H = timedelta(hours=1)
S = timedelta(seconds=1)
D = datetime(2026, 11, 30, 12, tzinfo=UTC)  # a deadline


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# -- states at the boundaries (no database) -------------------------------------------------------


def states(rule, deadline, *, window_start, moments):
    at_risk_at = rule.at_risk_at(deadline, window_start=window_start)
    return [sla_state(deadline, now=m, at_risk_at=at_risk_at) for m in moments]


def test_at_risk_by_minutes_then_breached_at_the_deadline():
    rule = RiskRule(within=timedelta(minutes=30))
    # At risk from 11:30 on (30 minutes left), breached from 12:00 on (nothing left).
    moments = [D - 30 * 60 * S - S, D - 30 * 60 * S, D - S, D, D + S]
    assert states(rule, D, window_start=D - 4 * H, moments=moments) == [
        ON_TRACK, AT_RISK, AT_RISK, BREACHED, BREACHED,
    ]


def test_at_risk_by_share_of_the_window():
    # A 4-hour window (08:00-12:00), at risk under 25 % left: from 11:00 on.
    rule = RiskRule(within=None, share=0.25)
    moments = [D - H - S, D - H, D - S, D]
    assert states(rule, D, window_start=D - 4 * H, moments=moments) == [ON_TRACK, AT_RISK, AT_RISK, BREACHED]


def test_with_both_thresholds_the_first_to_trigger_wins():
    rule = RiskRule(within=timedelta(minutes=30), share=0.25)
    # 4-hour window: 25 % is 60 minutes, more than 30: at risk from 11:00.
    assert rule.at_risk_at(D, window_start=D - 4 * H) == D - H
    # 1-hour window: 25 % is 15 minutes, less than 30: at risk from 11:30.
    assert rule.at_risk_at(D, window_start=D - H) == D - 30 * 60 * S


def test_default_threshold_is_one_hour_and_no_deadline_is_no_sla():
    assert states(RiskRule.of(None), D, window_start=None, moments=[D - H - S, D - H]) == [ON_TRACK, AT_RISK]
    assert sla_state(None, now=D) == NO_SLA


# -- one rule, read in Python and in SQL ----------------------------------------------------------

DEADLINES = {"no deadline": None, "passed": D - S, "now": D, "in 30 min": D + 30 * 60 * S,
             "in 5 h": D + 5 * H}
AT_RISK_TIMES = {"no at-risk time": None, "at risk since 2 h": D - 2 * H, "at risk now": D,
                 "at risk in 10 min": D + 10 * 60 * S}


@pytest.mark.django_db
def test_the_pages_the_queue_and_the_triggers_read_every_clock_alike():
    # The queue counts and filters by the state worked out in SQL; the ticket list, the ticket page and
    # the notices show the one worked out in Python; the engine raises "SLA at risk" and "SLA breached"
    # with its own filters. A newcomer once saw "On track" beside the trigger "SLA breached".
    team = EscalationPolicyFactory().team  # the SLA triggers are on
    cases = {}
    for paused, (deadline_case, deadline), (risk_case, at_risk_at) in product(
        (False, True), DEADLINES.items(), AT_RISK_TIMES.items()
    ):
        clock = TicketClockFactory(ticket__team=team, deadline=deadline, at_risk_at=at_risk_at, paused=paused)
        cases[clock.ticket_id] = ("paused" if paused else "running", deadline_case, risk_case)
    in_sql = dict(Ticket.objects.annotate(sla=sla_expression(D, prefix="")).values_list("pk", "sla"))
    at_risk = set(triggers.sla_at_risk(now=D).values_list("pk", flat=True))
    breached = set(triggers.sla_breached(now=D).values_list("pk", flat=True))

    disagreements = []
    for clock in TicketClock.objects.all():
        in_python = sla_state(clock.deadline, now=D, at_risk_at=clock.at_risk_at, paused=clock.paused)
        by_triggers = {clock.ticket_id in at_risk, clock.ticket_id in breached}
        readings = (in_python, in_sql[clock.ticket_id], by_triggers)
        if readings[1] != in_python or by_triggers != {in_python == AT_RISK, in_python == BREACHED}:
            disagreements.append((cases[clock.ticket_id], readings))
    assert disagreements == []
    assert len(cases) == 40


def test_a_deadline_with_no_at_risk_time_is_never_at_risk():
    # No threshold applies (a policy with only a share, and no window to take it of): the engine never
    # raises "SLA at risk" for it, so no page may say "At risk" either.
    assert RiskRule(within=None, share=0.25).at_risk_at(D, window_start=None) is None
    assert sla_state(D, now=D - 30 * 60 * S, at_risk_at=None) == ON_TRACK
    assert sla_state(D, now=D, at_risk_at=None) == BREACHED
    assert sla_state(D, now=D + H, at_risk_at=D - H, paused=True) == PAUSED


# -- the database: clocks and readings ----------------------------------------------------------

def office_calendar(*, odoo_id=None):
    """Mon-Fri 08:00-12:00 and 13:00-17:00 Brussels time."""
    cal = WorkingCalendar.objects.create(name="Office", tz="Europe/Brussels", odoo_id=odoo_id)
    CalendarAttendance.objects.bulk_create(
        CalendarAttendance(calendar=cal, weekday=d, hour_from=f, hour_to=t)
        for d in range(5) for f, t in ((8, 12), (13, 17))
    )
    return cal


def status(ticket, *, deadline, state=SlaStatus.State.RUNNING, odoo_id=1, reached_at=None, name="SLA"):
    return SlaStatus.objects.create(
        ticket=ticket, odoo_id=odoo_id, name=name, deadline=deadline, state=state, reached_at=reached_at
    )


@pytest.mark.django_db
def test_odoo_deadline_counts_the_nearest_unmet_one():
    policy = EscalationPolicyFactory(at_risk_within=timedelta(minutes=30))
    ticket = TicketFactory(team=policy.team, created_at=D - 4 * H)
    met = SlaStatus.State.MET
    status(ticket, odoo_id=1, deadline=D - 2 * H, state=met, reached_at=D - 3 * H, name="Reply")
    status(ticket, odoo_id=2, deadline=D, name="Solve")
    status(ticket, odoo_id=3, deadline=D - H, state=SlaStatus.State.PAUSED, name="Other")  # stands still

    assert refresh_clocks(ticket_ids=[ticket.pk]) == 1

    clock = TicketClock.objects.get(ticket=ticket)
    assert (clock.deadline, clock.source, clock.paused) == (D, "odoo", False)
    assert clock.at_risk_at == D - 30 * 60 * S
    assert clock.window_start == D - 4 * H
    with time_machine.travel(D - 30 * 60 * S, tick=False):
        reading = ticket_sla(ticket=ticket)
    assert (reading.state, reading.time_left, reading.nearest.name) == (AT_RISK, 30 * 60 * S, "Solve")
    assert [(d.name, d.state) for d in reading.deadlines] == [
        ("Reply", REACHED), ("Other", PAUSED), ("Solve", AT_RISK),
    ]
    with time_machine.travel(D + S, tick=False):
        reading = ticket_sla(ticket=ticket)
    assert (reading.state, reading.time_left) == (BREACHED, -S)


@pytest.mark.django_db
def test_all_deadlines_met_reads_reached_and_a_late_one_breached():
    ticket = TicketFactory(created_at=D - 4 * H)
    status(ticket, deadline=D, state=SlaStatus.State.MET, reached_at=D - H)
    refresh_clocks(ticket_ids=[ticket.pk])
    assert TicketClock.objects.get(ticket=ticket).deadline is None
    reading = ticket_sla(ticket=ticket, now=D + H)
    assert (reading.state, reading.time_left, reading.deadlines[0].time_left) == (REACHED, None, H)

    SlaStatus.objects.filter(ticket=ticket).update(state=SlaStatus.State.FAILED, reached_at=D + 2 * H)
    assert ticket_sla(ticket=ticket, now=D + 3 * H).state == BREACHED


@pytest.mark.django_db
def test_policy_target_in_working_hours_on_the_teams_calendar():
    office_calendar(odoo_id=7)
    team = TeamFactory(calendar_odoo_id=7)
    EscalationPolicyFactory(team=team, target_hours=4, at_risk_within=H)
    # Created Fri 27 Nov 15:00 CET: 2 h on Friday, Monday 08:00-10:00 CET -> Mon 30 Nov 09:00 UTC.
    ticket = TicketFactory(team=team, created_at=utc(2026, 11, 27, 14))

    refresh_clocks(team_ids=[team.pk])

    clock = TicketClock.objects.get(ticket=ticket)
    assert (clock.deadline, clock.source) == (utc(2026, 11, 30, 9), "policy")
    assert clock.at_risk_at == utc(2026, 11, 30, 8)  # an hour before: Monday 09:00 CET
    with time_machine.travel(utc(2026, 11, 30, 8) - S, tick=False):
        assert ticket_sla(ticket=ticket).state == ON_TRACK
    with time_machine.travel(utc(2026, 11, 30, 8), tick=False):
        assert ticket_sla(ticket=ticket).state == AT_RISK
    with time_machine.travel(utc(2026, 11, 30, 9), tick=False):
        reading = ticket_sla(ticket=ticket)
    assert (reading.state, reading.source) == (BREACHED, "policy")
    assert reading.deadlines[0].deadline == clock.deadline


@pytest.mark.django_db
def test_policy_calendar_wins_over_the_teams_and_no_calendar_means_round_the_clock():
    office_calendar(odoo_id=7)
    team = TeamFactory(calendar_odoo_id=7)
    policy = EscalationPolicyFactory(team=team, target_hours=4)
    ticket = TicketFactory(team=team, created_at=utc(2026, 11, 27, 14))
    night = WorkingCalendar.objects.create(name="Nights", tz="UTC")
    CalendarAttendance.objects.create(calendar=night, weekday=4, hour_from=22, hour_to=6)  # Fri 22:00-06:00
    policy.calendar = night
    policy.save()
    refresh_clocks(team_ids=[team.pk])
    # Fri 14:00 UTC: the shift starts at 22:00, so 4 h later is Sat 02:00 UTC.
    assert TicketClock.objects.get(ticket=ticket).deadline == utc(2026, 11, 28, 2)

    policy.calendar = None
    policy.save()
    team.calendar_odoo_id = None
    team.save()
    refresh_clocks(team_ids=[team.pk])
    assert TicketClock.objects.get(ticket=ticket).deadline == utc(2026, 11, 27, 18)  # 14:00 + 4 h


@pytest.mark.django_db
def test_odoo_deadline_wins_over_the_policy_target():
    policy = EscalationPolicyFactory(target_hours=4)
    ticket = TicketFactory(team=policy.team, created_at=D - 10 * H)
    status(ticket, deadline=D)
    refresh_clocks(ticket_ids=[ticket.pk])
    clock = TicketClock.objects.get(ticket=ticket)
    assert (clock.deadline, clock.source) == (D, "odoo")  # not D - 6 h


@pytest.mark.django_db
def test_time_in_a_paused_stage_does_not_count():
    office_calendar(odoo_id=7)
    team = TeamFactory(calendar_odoo_id=7)
    working, waiting = StageFactory(name="In progress"), StageFactory(name="Waiting for customer")
    policy = EscalationPolicyFactory(team=team, target_hours=4)
    policy.paused_stages.add(waiting)
    # Created Mon 30 Nov 08:00 CET, waiting for the customer from 09:00 to 10:30 CET.
    ticket = TicketFactory(team=team, stage=working, created_at=utc(2026, 11, 30, 7))
    for at, stage, before in ((utc(2026, 11, 30, 7), working, None), (utc(2026, 11, 30, 8), waiting, working),
                              (utc(2026, 11, 30, 9, 30), working, waiting)):
        TicketStageChange.objects.create(ticket=ticket, stage=stage, from_stage=before, at=at)

    refresh_clocks(ticket_ids=[ticket.pk])

    # 08-09 (1 h), 10:30-12 (1.5 h), 13:00-14:30 (1.5 h): 14:30 CET = 13:30 UTC, not 12:00 UTC.
    assert TicketClock.objects.get(ticket=ticket).deadline == utc(2026, 11, 30, 13, 30)


@pytest.mark.django_db
def test_clock_of_a_ticket_waiting_in_a_paused_stage_stands_still():
    waiting = StageFactory(name="Waiting for customer")
    policy = EscalationPolicyFactory(target_hours=4)
    policy.paused_stages.add(waiting)
    ticket = TicketFactory(team=policy.team, stage=waiting, created_at=D - 10 * H)

    refresh_clocks(ticket_ids=[ticket.pk])

    clock = TicketClock.objects.get(ticket=ticket)
    assert (clock.deadline, clock.at_risk_at, clock.paused, clock.source) == (None, None, True, "policy")
    reading = ticket_sla(ticket=ticket, now=D)
    assert (reading.state, reading.paused, reading.time_left) == (PAUSED, True, None)

    ticket.stage = ClosedStageFactory()
    ticket.save()
    assert ticket_sla(ticket=ticket, now=D).state == NO_SLA  # solved: the policy's target is over


@pytest.mark.django_db
def test_closed_tickets_lose_their_clock():
    ticket = TicketFactory(created_at=D - 4 * H)
    status(ticket, deadline=D)
    refresh_clocks(ticket_ids=[ticket.pk])
    assert TicketClock.objects.filter(ticket=ticket).exists()

    ticket.stage = ClosedStageFactory()
    ticket.save()
    assert refresh_clocks(ticket_ids=[ticket.pk]) == 0
    assert not TicketClock.objects.filter(ticket=ticket).exists()
    assert ticket_sla(ticket=ticket, now=D + H).state == BREACHED  # Odoo's deadline, still unmet

    other = TicketFactory(created_at=D - 4 * H)
    refresh_clocks()
    other.active = False
    other.save()
    refresh_clocks()  # a refresh of all open tickets drops the clocks of the others
    assert not TicketClock.objects.filter(ticket=other).exists()


@pytest.mark.django_db
def test_refresh_runs_a_constant_number_of_queries_per_batch():
    office_calendar(odoo_id=7)
    planned = EscalationPolicyFactory(team=TeamFactory(calendar_odoo_id=7), target_hours=8)
    planned.paused_stages.add(StageFactory())
    odoo_team = TeamFactory()

    def queries_for(count):
        for i in range(count):
            TicketFactory(team=planned.team, created_at=D - i * H)
            status(TicketFactory(team=odoo_team, created_at=D - 4 * H), deadline=D + i * H)
        with CaptureQueriesContext(connection) as ctx:
            written = refresh_clocks()
        return written, len(ctx.captured_queries)

    few, many = queries_for(5), queries_for(25)
    assert (few[0], many[0]) == (10, 50)  # the ten clocks of the first call did not change
    assert few[1] == many[1]
    assert refresh_clocks() == 0  # nothing changed: nothing written
