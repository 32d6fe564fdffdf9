"""The notice budget, against a real SMTP server: at most NOTICE_BUDGET single notices per person per
window, the rest in one digest; a first sync's backlog in one digest per person; nothing lost."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from escalations.engine import evaluate_escalations
from escalations.models import EscalationEvent, Notice
from escalations.notices.create import notice_create_for_events
from escalations.notices.digest import notice_release_held
from tests.conftest import T0
from tests.factories import (
    EscalationPolicyFactory,
    StageFactory,
    TeamFactory,
    TicketClockFactory,
    TicketFactory,
)
from tests.notice_helpers import deliver, is_digest, references, subject

State = Notice.State
ONCALL = "oncall@example.com"
PEOPLE = ["lead@example.com", "agent@example.com", ONCALL]


@pytest.fixture
def policy(db, lead, agent):
    """Level 1: the lead and the agent as members (the lead also listed to notify: one email), and
    an on-call address."""
    policy = EscalationPolicyFactory(team=TeamFactory(name="Hardware support"))
    level1 = policy.levels.get(number=1)
    level1.members.set([lead, agent])
    level1.notify_users.set([lead])
    level1.notify_emails = ONCALL
    level1.save()
    return policy


@pytest.fixture
def stage(db):
    return StageFactory()


def at_risk_ticket(policy, stage, *, at, number):
    """Goes at risk at `at` (a fresh trigger, no backlog)."""
    ticket = TicketFactory(team=policy.team, stage=stage, assignee=None, reference=f"T{number}",
                           name=f"Printer {number}")
    TicketClockFactory(ticket=ticket, deadline=at + timedelta(minutes=50), at_risk_at=at)
    return ticket


def breached_ticket(policy, stage, *, number, ago):
    ticket = TicketFactory(team=policy.team, stage=stage, assignee=None, reference=f"T{number}",
                           name=f"Printer {number}")
    TicketClockFactory(ticket=ticket, deadline=T0 - ago)
    return ticket


def emails_per_person(smtp):
    return Counter(address for received in smtp.mailbox.received for address in received.rcpt_tos)


def told_per_person(smtp):
    """Each person's ticket references, over every email they received (singles and digests)."""
    told = {address: [] for address in PEOPLE}
    for received in smtp.mailbox.received:
        for address in received.rcpt_tos:
            told[address] += references(received)
    return told


@pytest.mark.django_db
@pytest.mark.parametrize("backlog", [True, False], ids=["breached-3h-ago", "at-risk-now"])
def test_a_first_evaluation_of_200_escalations_sends_each_person_one_digest(smtp, policy, stage, backlog):
    for number in range(200):
        if backlog:  # the first sync of a helpdesk that has been breaching for hours
            breached_ticket(policy, stage, number=number, ago=timedelta(hours=3))
        else:  # far more than the budget in one evaluation, all fresh
            at_risk_ticket(policy, stage, at=T0 - timedelta(minutes=1), number=number)
    assert evaluate_escalations(now=T0).raised == 200

    deliver(T0)
    deliver(T0 + timedelta(minutes=15))  # and nothing more comes later

    assert emails_per_person(smtp) == {address: 1 for address in PEOPLE}
    for received in smtp.mailbox.received:
        assert is_digest(received)
        assert subject(received) == "Digest of 200 notices: 200 escalated to L1"
    expected = sorted(f"T{number}" for number in range(200))
    assert {address: sorted(refs) for address, refs in told_per_person(smtp).items()} == {
        address: expected for address in PEOPLE}
    assert Notice.objects.filter(kind="escalated", state=State.IN_DIGEST).count() == 600
    assert set(Notice.objects.filter(kind="digest").values_list("state", flat=True)) == {State.SENT}


@pytest.mark.django_db
def test_a_burst_over_a_window_gives_at_most_the_budget_in_singles_and_one_digest(
    smtp, policy, stage, settings
):
    assert (settings.NOTICE_BUDGET, settings.NOTICE_BUDGET_WINDOW_MINUTES) == (5, 10)
    # Twenty escalations, one every 30 seconds for ten minutes; the worker and the sweep keep up.
    for number in range(20):
        now = T0 + timedelta(seconds=30 * number)
        at_risk_ticket(policy, stage, at=now, number=number)
        assert evaluate_escalations(now=now).raised == 1
        deliver(now)
        if number == 5:
            held = Notice.objects.get(email="lead@example.com", state=State.HELD)
            assert held.release_at == T0 + timedelta(minutes=10)  # when the first single leaves the window
    assert emails_per_person(smtp) == {address: 5 for address in PEOPLE}  # the digest is not due yet

    deliver(T0 + timedelta(minutes=10))

    assert emails_per_person(smtp) == {address: 6 for address in PEOPLE}
    for address in PEOPLE:
        mails = smtp.mailbox.to(address)
        assert [is_digest(m) for m in mails] == [False] * 5 + [True]
        assert subject(mails[-1]) == "Digest of 15 notices: 15 escalated to L1"
    # Nothing lost, nothing twice: every escalation in exactly one email per person.
    expected = sorted(f"T{number}" for number in range(20))
    assert {address: sorted(refs) for address, refs in told_per_person(smtp).items()} == {
        address: expected for address in PEOPLE}


@pytest.mark.django_db
def test_after_a_digest_singles_come_when_the_window_has_room_and_the_next_digest_waits_a_window(
    smtp, policy, stage
):
    for number in range(7):  # five singles in the first 40 seconds, two held
        now = T0 + timedelta(seconds=10 * number)
        at_risk_ticket(policy, stage, at=now, number=number)
        evaluate_escalations(now=now)
        deliver(now)
    deliver(T0 + timedelta(minutes=10))  # the digest of two; the single sent at T0 left the window
    assert [is_digest(m) for m in smtp.mailbox.to(ONCALL)] == [False] * 5 + [True]

    for number in range(7, 10):
        now = T0 + timedelta(minutes=10, seconds=number)
        at_risk_ticket(policy, stage, at=now, number=number)
        evaluate_escalations(now=now)
        deliver(now)
    # One more single fitted in the window; the two beyond wait for a digest one window after the
    # last one, though the window has room again sooner (at 10 min 10 s).
    assert [is_digest(m) for m in smtp.mailbox.to(ONCALL)] == [False] * 5 + [True, False]
    held = Notice.objects.filter(email=ONCALL, state=State.HELD)
    assert set(held.values_list("release_at", flat=True)) == {T0 + timedelta(minutes=20)}
    # Once the window has room, news still joins the digest that waits (were it sent alone, what
    # waits longer could make two digests in one window).
    now = T0 + timedelta(minutes=11)
    at_risk_ticket(policy, stage, at=now, number=10)
    evaluate_escalations(now=now)
    deliver(now)
    deliver(T0 + timedelta(minutes=19, seconds=59))
    assert len(smtp.mailbox.to(ONCALL)) == 7
    deliver(T0 + timedelta(minutes=20))
    assert subject(smtp.mailbox.to(ONCALL)[-1]) == "Digest of 3 notices: 3 escalated to L1"


@pytest.mark.django_db
def test_a_small_backlog_still_comes_as_one_digest_and_fresh_news_alone(smtp, policy, stage):
    for number in range(3):
        breached_ticket(policy, stage, number=number, ago=timedelta(hours=2))
    evaluate_escalations(now=T0)
    deliver(T0)
    assert [subject(m) for m in smtp.mailbox.to(ONCALL)] == ["Digest of 3 notices: 3 escalated to L1"]

    at_risk_ticket(policy, stage, at=T0 + timedelta(minutes=1), number=9)
    evaluate_escalations(now=T0 + timedelta(minutes=1))
    deliver(T0 + timedelta(minutes=1))
    assert subject(smtp.mailbox.to(ONCALL)[-1]) == "Escalated to L1: T9 Printer 9 — SLA at risk, 50 min left"


@pytest.mark.django_db
def test_a_digest_tells_what_changed_since_and_links_each_ticket(smtp, policy, stage, lead):
    from escalations.engine import escalation_accept

    tickets = [breached_ticket(policy, stage, number=n, ago=timedelta(hours=3)) for n in range(2)]
    evaluate_escalations(now=T0)
    notice_release_held(now=T0)  # the digest is made; the worker has not sent it yet
    escalation_accept(escalation=tickets[0].escalations.get(), user=lead, now=T0 + timedelta(minutes=1))
    Notice.objects.filter(kind="digest").update(state=State.PENDING)
    deliver(T0 + timedelta(minutes=2))

    [digest] = smtp.mailbox.to(ONCALL)
    text, html = digest.part("plain"), digest.part("html")
    lines = text.splitlines()
    assert "- Escalated to L1: T0 Printer 0 — SLA breached 3 h ago (since accepted by Lena Lead)" in lines
    assert "- Escalated to L1: T1 Printer 1 — SLA breached 3 h ago" in lines
    assert "Since accepted by Lena Lead" in html
    for ticket in tickets:
        assert f"http://127.0.0.1:8000/tickets/{ticket.odoo_id}/" in text
        assert f'href="http://127.0.0.1:8000/tickets/{ticket.odoo_id}/"' in html
    settings_url = "http://127.0.0.1:8000/settings/notices/"
    assert settings_url in text and f'href="{settings_url}"' in html


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_releasing_at_once_make_one_digest_per_person(policy, stage):
    for number in range(3):
        breached_ticket(policy, stage, number=number, ago=timedelta(hours=3))
    evaluate_escalations(now=T0)
    # As if held for the budget until ten minutes later: two sweeps then race to release them.
    Notice.objects.filter(kind="digest").delete()
    Notice.objects.filter(kind="escalated").update(state=State.HELD, held_for="budget",
                                                   release_at=T0 + timedelta(minutes=10))
    start, released = threading.Barrier(2), []

    def sweep():
        try:
            start.wait(timeout=10)
            released.append(notice_release_held(now=T0 + timedelta(minutes=10)))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(released) == 3
    digests = Notice.objects.filter(kind="digest")
    assert sorted(digests.values_list("email", flat=True)) == sorted(PEOPLE)
    for digest in digests:
        assert digest.items.count() == 3
    assert not Notice.objects.filter(state=State.HELD).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_creating_notices_for_one_person_at_once_share_one_budget(policy, stage):
    for number in range(6):
        at_risk_ticket(policy, stage, at=T0 - timedelta(minutes=1), number=number)
    evaluate_escalations(now=T0)
    Notice.objects.all().delete()  # the events stay: two workers now write their notices at once
    events = list(EscalationEvent.objects.select_related("escalation__policy", "to_level").order_by("pk"))
    start = threading.Barrier(2)

    def create(half):
        try:
            start.wait(timeout=10)
            notice_create_for_events(events=half, now=T0 + timedelta(seconds=1))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(events[part::2],)) for part in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Three alone for whoever came first; the other three did not fit in what was left.
    for address in PEOPLE:
        mine = Notice.objects.filter(email=address)
        states = Counter(mine.exclude(kind="digest").values_list("state", flat=True))
        assert states == {State.PENDING: 3, State.IN_DIGEST: 3}
        assert mine.filter(kind="digest").count() == 1
