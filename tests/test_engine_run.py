"""Running the engine: after each sync, under Celery beat, from the command line, and end to end
from a ticket whose SLA goes at risk in the (simulated) Odoo."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from dashboard.celery import app
from escalations import tasks
from escalations.models import Escalation, Ticket, Trigger
from escalations.sla import refresh_clocks
from escalations.sync.run import sync_odoo
from tests.conftest import T0
from tests.factories import EscalationPolicyFactory, TicketClockFactory

pytestmark = pytest.mark.django_db


def test_a_ticket_going_at_risk_in_odoo_is_escalated_after_the_sync(odoo):
    clock = odoo.state.clock
    # One time for both sides: the simulator's clock stands still and the app travels with it.
    clock.freeze()
    with time_machine.travel(clock.now(), tick=False) as traveller:
        sync_odoo(full=True)
        ticket = Ticket.objects.open().filter(
            team__isnull=False, sla_deadline__gt=clock.now() + timedelta(hours=2)
        ).order_by("sla_deadline").first()
        EscalationPolicyFactory(team=ticket.team, at_risk_within=timedelta(hours=1), on_sla_breached=False)
        refresh_clocks(team_ids=[ticket.team_id])  # as saving the policy in the admin does

        tasks.sync_incremental()
        assert not Escalation.objects.filter(ticket=ticket).exists()

        half_an_hour_left = ticket.sla_deadline - timedelta(minutes=30)
        clock.set(half_an_hour_left)
        traveller.move_to(half_an_hour_left)
        result = tasks.sync_incremental()

    escalation = Escalation.objects.get(ticket=ticket)
    assert result["escalations"]["raised"] >= 1
    assert (escalation.trigger, escalation.level.number) == (Trigger.SLA_AT_RISK, 1)
    assert escalation.facts["seconds_left"] == 30 * 60
    assert escalation.raised_at == half_an_hour_left


def test_the_evaluate_task_is_on_the_beat_schedule_every_engine_interval():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["escalations.tasks.evaluate"] == 60.0


def test_the_evaluate_task_raises_and_a_repeat_does_nothing():
    policy = EscalationPolicyFactory()
    TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(minutes=5))
    with time_machine.travel(T0, tick=False):
        assert tasks.evaluate() == {"raised": 1, "moved_up": 0, "ended": 0}
        assert tasks.evaluate() == {"raised": 0, "moved_up": 0, "ended": 0}


def test_the_command_prints_what_it_did_as_json(capsys):
    policy = EscalationPolicyFactory()
    clock = TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(minutes=5))
    with time_machine.travel(T0, tick=False):
        call_command("evaluate_escalations", "--json")
        printed = json.loads(capsys.readouterr().out)
        assert (printed["raised"], printed["moved_up"], printed["ended"]) == (1, 0, 0)
        assert printed["raised_ids"] == [Escalation.objects.get(ticket=clock.ticket).pk]

        call_command("evaluate_escalations")
        assert capsys.readouterr().out.startswith("escalations: 0 raised, 0 moved up, 0 ended")
