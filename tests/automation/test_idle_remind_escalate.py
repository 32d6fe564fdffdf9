"""Idle in working time, the reminder (internal note and email) and the hand-over to escalation."""

from datetime import UTC, datetime, timedelta

import pytest

from escalations.automation.idle import working_cutoff
from escalations.automation.mail import reminder_send
from escalations.automation.run import automation_run
from escalations.automation.undo import UndoRefused, undo_change
from escalations.models import (
    AutomationChange,
    AutomationRule,
    CalendarAttendance,
    Escalation,
    SyncState,
    WorkingCalendar,
)
from escalations.sla.calendars import calendar_from_model
from escalations.sla.working_time import always
from tests.conftest import T0
from tests.factories import AgentFactory, EscalationPolicyFactory, TeamFactory, TicketFactory, UserFactory
from tests.outbox_helpers import make_lead

pytestmark = pytest.mark.django_db
Action, Trigger = AutomationRule.Action, AutomationRule.Trigger


def office_hours(odoo_id=900) -> WorkingCalendar:
    """Monday to Friday, 9:00 to 17:00 UTC."""
    calendar = WorkingCalendar.objects.create(odoo_id=odoo_id, name="Office", tz="UTC")
    for day in range(5):
        CalendarAttendance.objects.create(calendar=calendar, weekday=day, hour_from=9, hour_to=17)
    return calendar


def test_working_cutoff_counts_back_only_working_time():
    hours = calendar_from_model(office_hours())
    monday_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    # 120 working minutes before Monday 10:00: one hour on Monday, one on Friday (16:00 to 17:00).
    assert working_cutoff(hours, monday_10, 120) == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert working_cutoff(always(), monday_10, 120) == monday_10 - timedelta(hours=2)
    assert working_cutoff(hours, monday_10, 30) == monday_10 - timedelta(minutes=30)


@pytest.fixture
def console(db):
    SyncState.objects.update_or_create(pk=1, defaults={"odoo_uid": 5})


def remind_rule(team, minutes=120) -> AutomationRule:
    rule = AutomationRule.objects.create(
        name="Nudge idle tickets", enabled=True, enabled_at=T0 - timedelta(days=3), trigger=Trigger.IDLE,
        idle_minutes=minutes, action=Action.REMIND)
    rule.teams.set([team])
    return rule


def test_an_idle_assignee_is_reminded_once_per_idle_spell_on_the_teams_calendar(console, smtp):
    calendar = office_hours()
    team = TeamFactory(calendar_odoo_id=calendar.odoo_id)
    ana = AgentFactory(name="Ana Lopez", email="ana@example.com")
    monday_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    idle = TicketFactory(team=team, assignee=ana, odoo_write_uid=1,
                         odoo_write_date=datetime(2026, 11, 27, 15, 30, tzinfo=UTC))  # Friday 15:30
    fresh = TicketFactory(team=team, assignee=ana, odoo_write_uid=1,
                          odoo_write_date=datetime(2026, 11, 27, 16, 30, tzinfo=UTC))  # 90 working minutes
    remind_rule(team)

    run = automation_run(now=monday_10)

    assert run.changes == 1
    change = AutomationChange.objects.get()
    assert change.ticket_id == idle.pk
    assert change.summary == "Reminded Ana Lopez: no change for 120 working minutes"
    action = change.odoo_action
    assert action.payload["values"] == {} and "Nudge idle tickets" in action.payload["note"]
    assert reminder_send(change.pk) is True
    (mail,) = smtp.mailbox.to("ana@example.com")
    assert "Nudge idle tickets" in mail.message.get_content()
    # Same idle spell an hour later: not again. The other ticket's turn has come.
    automation_run(now=monday_10 + timedelta(hours=1))
    assert sorted(AutomationChange.objects.values_list("ticket_id", flat=True)) == sorted([idle.pk, fresh.pk])
    with pytest.raises(UndoRefused, match="cannot be taken back"):
        undo_change(change, user=make_lead(UserFactory(), supervisor=True))


def test_a_rule_hands_tickets_over_to_escalation_and_undo_ends_it(console):
    policy = EscalationPolicyFactory()
    ticket = TicketFactory(team=policy.team, odoo_write_uid=1, odoo_write_date=T0 - timedelta(hours=12))
    rule = AutomationRule.objects.create(
        name="Stale to the lead", enabled=True, enabled_at=T0 - timedelta(days=1), trigger=Trigger.IDLE,
        idle_minutes=600, action=Action.ESCALATE, escalate_level=1)
    rule.teams.set([policy.team])

    assert automation_run(now=T0).changes == 1
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.level.number == 1
    assert escalation.facts["reason"] == "Automation rule “Stale to the lead”"
    assert escalation.events.get().actor is None  # raised by no person: the rule, named as the reason
    # An open escalation keeps every rule off the ticket.
    assert automation_run(now=T0 + timedelta(hours=11)) is None

    undo_change(AutomationChange.objects.get(), user=make_lead(UserFactory(), supervisor=True))
    escalation.refresh_from_db()
    assert escalation.ended_at is not None
