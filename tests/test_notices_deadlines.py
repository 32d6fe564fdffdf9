"""Reminders before a deadline: at the shares of the SLA window left that each person chose (the
console's NOTICE_REMINDERS by default), once each, only the latest share due, none in quiet hours."""

from datetime import time, timedelta

import pytest

from escalations.engine import escalation_accept, escalation_raise_manual
from escalations.models import Notice
from escalations.notices.deadlines import notice_create_deadline_reminders
from escalations.notices.send import notice_send
from tests.conftest import T0
from tests.factories import EscalationPolicyFactory, ProfileFactory, TicketClockFactory, UserFactory
from tests.notice_helpers import deliver, subject

State = Notice.State
ONCALL = "oncall@example.com"


@pytest.fixture
def people(db, lead, agent):
    """The lead keeps the default (50 % and 10 %), the agent chose 25 %, the senior none."""
    senior = UserFactory(username="senior")
    ProfileFactory(user=agent, agent=None, deadline_reminders="25")
    ProfileFactory(user=senior, agent=None, deadline_reminders="none")
    return lead, agent, senior


@pytest.fixture
def level1(people):
    policy = EscalationPolicyFactory()
    level1 = policy.levels.get(number=1)
    level1.accept_within = None
    level1.notify_emails = ONCALL
    level1.save()
    level1.members.set(people)
    return level1


def escalated(level1, lead, *, at=T0 - timedelta(hours=1)):
    """A ticket with an eight-hour SLA window, from T0 - 4 h to T0 + 4 h (half of it left at T0),
    escalated by hand at `at`."""
    clock = TicketClockFactory(ticket__team=level1.policy.team, ticket__reference="HD-7",
                               ticket__name="VPN down", window_start=T0 - timedelta(hours=4),
                               deadline=T0 + timedelta(hours=4), at_risk_at=T0 + timedelta(hours=3))
    return escalation_raise_manual(ticket=clock.ticket, level=level1, user=lead, reason="VIP", now=at)


def reminded():
    return sorted(Notice.objects.filter(kind="deadline").values_list("email", "occasion"))


@pytest.mark.django_db
def test_each_person_is_reminded_at_the_shares_they_chose_once_each(smtp, level1, people, settings):
    assert settings.NOTICE_REMINDERS == (50, 10)
    lead, _, _ = people
    escalated(level1, lead)
    deliver(T0 - timedelta(hours=1))  # the escalation notices
    smtp.mailbox.received.clear()

    assert notice_create_deadline_reminders(now=T0 - timedelta(minutes=1)) == 0
    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=1)) == 2
    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=2)) == 0
    deliver(T0 + timedelta(minutes=2))
    assert [subject(m) for m in smtp.mailbox.to("lead@example.com")] == [
        "SLA deadline in 3 h: HD-7 VPN down — 50 % of the SLA window left, escalated to L1"]

    assert notice_create_deadline_reminders(now=T0 + timedelta(hours=2, minutes=1)) == 1  # the agent's 25 %
    deliver(T0 + timedelta(hours=2, minutes=1))
    assert notice_create_deadline_reminders(now=T0 + timedelta(hours=3, minutes=13)) == 2
    deliver(T0 + timedelta(hours=3, minutes=13))
    assert subject(smtp.mailbox.to("lead@example.com")[-1]) == (
        "SLA deadline in 47 min: HD-7 VPN down — 10 % of the SLA window left, escalated to L1")
    assert [subject(m)[:26] for m in smtp.mailbox.to("agent@example.com")] == ["SLA deadline in 1 h 59 min"]
    assert smtp.mailbox.to("senior@example.com") == []
    assert [email for email, _ in reminded()] == [
        "agent@example.com", "lead@example.com", "lead@example.com", ONCALL, ONCALL]
    body = smtp.mailbox.to("lead@example.com")[-1].part("plain")
    assert "10 % of this ticket's SLA window is left, and it is escalated to L1 Team lead." in body


@pytest.mark.django_db
def test_a_late_sweep_sends_only_the_latest_share_due(level1, people):
    escalated(level1, people[0])
    assert notice_create_deadline_reminders(now=T0 + timedelta(hours=3, minutes=15)) == 3
    assert {occasion.split(" ")[0] for _, occasion in reminded()} == {"10%", "25%"}
    assert notice_create_deadline_reminders(now=T0 + timedelta(hours=3, minutes=16)) == 0


@pytest.mark.django_db
def test_no_reminder_for_a_share_passed_before_the_escalation_reached_the_level(level1, people):
    escalated(level1, people[0], at=T0 + timedelta(hours=1))  # after half the window had gone
    assert notice_create_deadline_reminders(now=T0 + timedelta(hours=1, minutes=1)) == 0
    assert notice_create_deadline_reminders(now=T0 + timedelta(hours=2, minutes=1)) == 1  # the agent's 25 %


@pytest.mark.django_db
def test_a_reminder_whose_deadline_passed_before_it_went_out_is_not_sent(smtp, level1, people):
    escalated(level1, people[0])
    notice_create_deadline_reminders(now=T0 + timedelta(hours=3, minutes=15))
    notice = Notice.objects.get(kind="deadline", email="lead@example.com")
    assert notice_send(notice_id=notice.pk, now=T0 + timedelta(hours=4, minutes=1)).state == State.FAILED
    notice.refresh_from_db()
    assert notice.last_error == "Not sent: the deadline passed before the reminder went out."
    assert smtp.mailbox.to("lead@example.com") == []


@pytest.mark.django_db
def test_no_deadline_reminders_for_ended_escalations_or_paused_clocks(level1, people):
    lead = people[0]
    escalation = escalated(level1, lead)
    escalation.ticket.clock.paused = True
    escalation.ticket.clock.save()
    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=1)) == 0
    escalation.ticket.clock.paused = False
    escalation.ticket.clock.save()
    escalation_accept(escalation=escalation, user=lead, now=T0)  # accepted: still reminded
    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=1)) == 2
    escalation.refresh_from_db()
    escalation.ended_at = T0 + timedelta(minutes=2)
    escalation.save()
    assert notice_create_deadline_reminders(now=T0 + timedelta(hours=3, minutes=15)) == 0


@pytest.mark.django_db
def test_no_deadline_reminder_in_quiet_hours_and_the_share_still_due_after_them(level1, people):
    lead = people[0]
    ProfileFactory(user=lead, agent=None, time_zone="UTC", quiet_from=time(9), quiet_to=time(10))
    escalated(level1, lead)
    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=1)) == 1  # 09:31: only on-call
    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=31)) == 1  # 10:01: the lead's
    assert [email for email, _ in reminded()] == ["lead@example.com", ONCALL]


@pytest.mark.django_db
def test_no_reminder_for_a_ticket_odoo_no_longer_shows_the_console(level1, people):
    escalation = escalated(level1, people[0])
    escalation.ticket.invisible_since = T0 - timedelta(minutes=30)
    escalation.ticket.save()

    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=1)) == 0
    escalation.ticket.invisible_since = None  # shown again: its deadline is read again, and counts
    escalation.ticket.save()
    assert notice_create_deadline_reminders(now=T0 + timedelta(minutes=1)) == 2  # the lead, the on-call
