"""Quiet hours, against a real SMTP server: in a person's quiet hours (on their clock) no reminders,
and notices wait for the morning, except escalations reaching the policy's top level."""

from datetime import UTC, datetime, time, timedelta

import pytest

from escalations.engine import escalation_accept, evaluate_escalations
from escalations.models import Notice
from escalations.notices.create import notice_create_reminders
from escalations.notices.digest import notice_release_held
from escalations.notices.people import NoticePrefs, zone_named
from escalations.notices.send import notice_sweep
from tests.factories import EscalationPolicyFactory, ProfileFactory, TicketClockFactory
from tests.notice_helpers import deliver, subject

State = Notice.State
# 00:30 in Brussels (UTC+1 in November); the lead's quiet hours, 22:00 to 07:00 there, end at 06:00 UTC.
NIGHT = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
MORNING = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
LEAD, ONCALL = "lead@example.com", "oncall@example.com"


@pytest.fixture
def quiet_lead(lead):
    ProfileFactory(user=lead, agent=None, time_zone="Europe/Brussels", quiet_from=time(22), quiet_to=time(7))
    return lead


@pytest.fixture
def policy(db, quiet_lead):
    """The lead is on both levels; level 1 also tells the on-call address, which has no quiet hours."""
    policy = EscalationPolicyFactory()
    level1, level2 = policy.levels.get(number=1), policy.levels.get(number=2)
    level1.members.set([quiet_lead])
    level1.notify_emails = ONCALL
    level1.save()
    level2.members.set([quiet_lead])
    return policy


def at_risk(policy, *, at, number):
    clock = TicketClockFactory(ticket__team=policy.team, ticket__reference=f"T{number}",
                               ticket__name=f"Printer {number}", deadline=at + timedelta(minutes=50),
                               at_risk_at=at)
    return clock.ticket


def test_quiet_hours_follow_the_persons_clock_across_midnight():
    prefs = NoticePrefs(zone=zone_named("Europe/Brussels"), quiet_from=time(22), quiet_to=time(7))
    hours = [datetime(2026, 11, 25, hour, 59, tzinfo=UTC) for hour in (20, 21, 5, 6)]
    assert [prefs.in_quiet_hours(at) for at in hours] == [False, True, True, False]
    assert prefs.quiet_ends(NIGHT) == MORNING
    assert prefs.quiet_ends(datetime(2026, 11, 25, 21, 0, tzinfo=UTC)) == MORNING
    # Summer time: 07:00 in Brussels is 05:00 UTC.
    assert prefs.quiet_ends(datetime(2026, 7, 1, 1, 0, tzinfo=UTC)) == datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
    assert zone_named("Not/AZone").key == "UTC"  # an unknown name: the console's zone
    same = NoticePrefs(zone=zone_named(""), quiet_from=time(7), quiet_to=time(7))
    assert not same.in_quiet_hours(NIGHT)


@pytest.mark.django_db
def test_at_night_a_lower_level_waits_for_the_morning_and_the_top_level_goes_through(smtp, policy):
    at_risk(policy, at=NIGHT - timedelta(minutes=1), number=1)
    evaluate_escalations(now=NIGHT)
    deliver(NIGHT)
    assert smtp.mailbox.to(LEAD) == [] and len(smtp.mailbox.to(ONCALL)) == 1
    held = Notice.objects.get(email=LEAD)
    assert (held.state, held.held_for, held.release_at) == (State.HELD, "quiet", MORNING)

    evaluate_escalations(now=NIGHT + timedelta(minutes=31))  # nobody accepted: up to the top level
    deliver(NIGHT + timedelta(minutes=31))
    assert [subject(m) for m in smtp.mailbox.to(LEAD)] == [
        "Moved up to L2: T1 Printer 1 — SLA at risk, 18 min left"]

    deliver(MORNING - timedelta(minutes=1))
    assert len(smtp.mailbox.to(LEAD)) == 1
    deliver(MORNING)
    assert subject(smtp.mailbox.to(LEAD)[-1]) == "Escalated to L1: T1 Printer 1 — SLA breached 5 h ago"


@pytest.mark.django_db
def test_what_waited_through_the_night_comes_as_one_digest(smtp, policy):
    for number in range(3):
        at_risk(policy, at=NIGHT + timedelta(minutes=number), number=number)
        evaluate_escalations(now=NIGHT + timedelta(minutes=number, seconds=30))
        deliver(NIGHT + timedelta(minutes=number, seconds=30))
    assert smtp.mailbox.to(LEAD) == []
    deliver(MORNING)
    [morning] = smtp.mailbox.to(LEAD)
    assert subject(morning) == "Digest of 3 notices: 3 escalated to L1"
    assert len(smtp.mailbox.to(ONCALL)) == 3


@pytest.mark.django_db
def test_a_digest_due_in_quiet_hours_waits_for_their_end(smtp, policy):
    evening = datetime(2026, 11, 25, 20, 55, tzinfo=UTC)  # 21:55 in Brussels
    for number in range(5):
        at_risk(policy, at=evening, number=number)
    evaluate_escalations(now=evening + timedelta(seconds=1))  # five singles: the budget
    deliver(evening + timedelta(seconds=1))
    for number in range(5, 7):  # two more wait for the window to free up, at 22:05 there
        at_risk(policy, at=evening + timedelta(minutes=1), number=number)
    evaluate_escalations(now=evening + timedelta(minutes=1, seconds=1))
    assert set(Notice.objects.filter(email=LEAD, state=State.HELD).values_list("release_at", flat=True)) == {
        evening + timedelta(minutes=10, seconds=1)}

    deliver(evening + timedelta(minutes=11))
    assert len(smtp.mailbox.to(LEAD)) == 5  # 22:06 in Brussels: quiet, and nothing for the top level
    assert set(Notice.objects.filter(email=LEAD, state=State.HELD).values_list("release_at", flat=True)) == {
        MORNING}
    deliver(MORNING)
    assert subject(smtp.mailbox.to(LEAD)[-1]) == "Digest of 2 notices: 2 escalated to L1"


@pytest.mark.django_db
def test_no_reminders_in_quiet_hours_the_reminder_comes_when_they_end(smtp, policy):
    level1 = policy.levels.get(number=1)
    level1.accept_within = None  # it stays at level 1
    level1.remind_after = timedelta(minutes=20)
    level1.save()
    at_risk(policy, at=NIGHT - timedelta(minutes=1), number=1)
    evaluate_escalations(now=NIGHT)

    assert notice_create_reminders(now=NIGHT + timedelta(minutes=21)) == 2
    deliver(NIGHT + timedelta(minutes=21))
    assert smtp.mailbox.to(LEAD) == [] and len(smtp.mailbox.to(ONCALL)) == 2
    reminder = Notice.objects.get(kind="reminder", email=LEAD)
    assert (reminder.state, reminder.release_at) == (State.HELD, MORNING)
    deliver(MORNING)
    # The escalation held overnight and the reminder, both due at once: one email.
    assert [subject(m) for m in smtp.mailbox.to(LEAD)] == ["Digest of 2 notices: 1 escalated to L1, "
                                                           "1 not accepted yet at L1"]


@pytest.mark.django_db
def test_a_reminder_held_overnight_is_dropped_if_someone_accepted_meanwhile(smtp, policy, agent):
    level1 = policy.levels.get(number=1)
    level1.accept_within, level1.remind_after = None, timedelta(minutes=20)
    level1.save()
    ticket = at_risk(policy, at=NIGHT - timedelta(minutes=1), number=1)
    evaluate_escalations(now=NIGHT)
    notice_create_reminders(now=NIGHT + timedelta(minutes=21))
    escalation_accept(escalation=ticket.escalations.get(), user=agent, now=NIGHT + timedelta(hours=3))
    deliver(MORNING)
    assert [subject(m)[:16] for m in smtp.mailbox.to(LEAD)] == ["Escalated to L1:"]
    reminder = Notice.objects.get(kind="reminder", email=LEAD)
    assert (reminder.state, reminder.last_error) == (
        State.FAILED, "Not sent: the escalation was accepted or moved before the reminder went out.")


@pytest.mark.django_db
def test_a_notice_released_in_the_morning_counts_as_waiting_from_then_for_the_sweeper(policy):
    at_risk(policy, at=NIGHT - timedelta(minutes=1), number=1)
    evaluate_escalations(now=NIGHT)
    held = Notice.objects.get(email=LEAD)
    assert notice_release_held(now=MORNING) == 1  # alone: it is the only one
    held.refresh_from_db()
    assert (held.state, held.release_at) == (State.PENDING, MORNING)
    assert held.pk not in notice_sweep(now=MORNING + timedelta(seconds=30))  # its task is on its way
    assert held.pk in notice_sweep(now=MORNING + timedelta(minutes=2))  # that task was lost
