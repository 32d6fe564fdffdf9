"""Email notices, against a real SMTP server on loopback: who gets one, what it says, and that each
person hears about each event once, across retries, racing workers, a mail server that is down and an
address that is refused."""

import logging
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from escalations.engine import (
    escalation_accept,
    escalation_deescalate,
    escalation_raise_manual,
    evaluate_escalations,
)
from escalations.models import Customer, EscalationEvent, Notice, SlaStatus, SyncState
from escalations.notices.create import notice_create_for_events, notice_create_reminders
from escalations.notices.email import ticket_dashboard_url
from escalations.notices.recipients import level_recipients
from escalations.notices.send import notice_send, notice_sweep, retry_delay
from tests.conftest import T0
from tests.factories import (
    AgentFactory,
    EscalationPolicyFactory,
    ProfileFactory,
    TeamFactory,
    TicketClockFactory,
    TicketFactory,
    UserFactory,
)
from tests.smtp import SmtpServer, point_settings_at

State = Notice.State
ONCALL = "oncall@example.com"


@pytest.fixture
def policy(db, lead):
    policy = EscalationPolicyFactory(team=TeamFactory(name="Hardware support"))
    level1 = policy.levels.get(number=1)
    level1.notify_users.set([lead])
    # A duplicate of the lead's address (other case), a blank line and a typo: one email each, no crash.
    level1.notify_emails = f"{ONCALL}\n\n  LEAD@example.com \nnot an address\n"
    level1.save()
    level2 = policy.levels.get(number=2)
    level2.notify_emails = "seniors@example.com"
    level2.save()
    return policy


@pytest.fixture
def ticket(policy):
    """At risk at T0: the SLA deadline is 45 minutes away, under the default one-hour threshold."""
    SyncState.objects.update_or_create(pk=1, defaults={"server_version": "18.0", "flavour": "enterprise"})
    customer = Customer.objects.create(odoo_id=77, name="Azure Interior", email="it@azure.example.com")
    ticket = TicketFactory(
        team=policy.team, name="Printer on fire", reference="HD-1042", priority="3", customer=customer,
        customer_name="Azure Interior", customer_email="it@azure.example.com",
        assignee=AgentFactory(name="Marc Demo"),
    )
    deadline = T0 + timedelta(minutes=45)
    SlaStatus.objects.create(ticket=ticket, odoo_id=1, name="Resolve urgent in 4 hours", deadline=deadline,
                             state=SlaStatus.State.RUNNING)
    TicketClockFactory(ticket=ticket, deadline=deadline)
    return ticket


def escalate(now=T0):
    result = evaluate_escalations(now=now)
    assert result.raised == 1
    return result


def notices(**filters):
    return list(Notice.objects.filter(**filters).order_by("email"))


# -- who is told ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_raised_escalation_gives_each_recipient_of_the_level_one_pending_notice(ticket, policy, caplog):
    with caplog.at_level(logging.WARNING, logger="escalations.notices"):
        escalate()
    found = notices()
    assert [(n.email, n.kind, n.state, n.level.number) for n in found] == [
        ("lead@example.com", "escalated", "pending", 1), (ONCALL, "escalated", "pending", 1),
    ]
    assert found[0].user.username == "lead" and found[1].user is None
    assert "skipping invalid notice address 'not an address'" in caplog.text


@pytest.mark.django_db
def test_evaluating_again_creates_no_second_notice(ticket):
    escalate()
    evaluate_escalations(now=T0)
    event = EscalationEvent.objects.get(kind="raised")
    assert notice_create_for_events(events=[event], now=T0 + timedelta(minutes=1)) == 0
    assert Notice.objects.count() == 2


@pytest.mark.django_db
def test_moving_up_notifies_the_next_level(ticket):
    escalate()
    evaluate_escalations(now=T0 + timedelta(minutes=31))  # level 1 accepts within 30 minutes
    moved = notices(kind="moved_up")
    assert [(n.email, n.level.number) for n in moved] == [("seniors@example.com", 2)]


@pytest.mark.django_db
def test_a_manual_escalation_writes_its_notices_in_its_transaction_and_sends_them_on_commit(
    policy, ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=2), user=agent,
                                reason="Customer threatens to leave", now=T0)
    assert [n.email for n in notices()] == ["seniors@example.com"]
    assert len(callbacks) == 1  # one send task, enqueued only once the transaction commits


@pytest.mark.django_db
def test_accept_and_deescalation_notify_only_when_the_level_asks_and_not_the_actor(policy, ticket, lead):
    escalation = escalate().raised_ids[0]
    escalation = ticket.escalations.get(pk=escalation)
    escalation_accept(escalation=escalation, user=lead, now=T0 + timedelta(minutes=1))
    assert notices(kind="accepted") == []

    level1 = policy.levels.get(number=1)
    level1.notify_on_accept = level1.notify_on_deescalate = True
    level1.save()
    other = escalation_raise_manual(ticket=TicketFactory(team=policy.team), level=level1, user=lead,
                                    reason="VIP", now=T0)
    escalation_accept(escalation=other, user=lead, now=T0 + timedelta(minutes=2))
    escalation_deescalate(escalation=other, user=lead, reason="Fixed by phone", now=T0 + timedelta(minutes=3))
    # The lead did both: only the on-call address hears about them.
    assert [n.email for n in notices(kind="accepted")] == [ONCALL]
    assert [n.email for n in notices(kind="de_escalated")] == [ONCALL]


@pytest.mark.django_db
def test_recipients_skip_inactive_users_and_users_without_an_address(policy, lead):
    level = policy.levels.get(number=1)
    level.notify_users.add(UserFactory(username="gone", is_active=False),
                           UserFactory(username="nomail", email=""))
    assert [r.email for r in level_recipients(level=level)] == ["lead@example.com", ONCALL]


# -- the message as received ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_email_as_received_has_both_parts_the_facts_the_time_left_and_both_links(smtp, ticket):
    escalate()
    lead_notice = Notice.objects.get(email="lead@example.com")
    outcome = notice_send(notice_id=lead_notice.pk, now=T0 + timedelta(minutes=2))
    assert outcome.state == State.SENT

    [received] = smtp.mailbox.received
    message = received.message
    assert received.rcpt_tos == ["lead@example.com"]
    # Django 5.2 folds an encoded subject onto a continuation line; the parser keeps the fold's space.
    assert message["Subject"].strip() == "Escalated to L1: HD-1042 Printer on fire — SLA at risk, 43 min left"
    assert message["To"] == "lead@example.com"
    assert "escalations@localhost" in message["From"]
    assert message["X-Escalation-Notice"] == str(lead_notice.pk)
    assert message.get_content_type() == "multipart/alternative"

    dashboard = ticket_dashboard_url(ticket_id=ticket.odoo_id)
    assert dashboard == f"http://127.0.0.1:8000/tickets/{ticket.odoo_id}/"
    odoo = f"http://127.0.0.1:8069/odoo/helpdesk.ticket/{ticket.odoo_id}"
    text, html = received.part("plain"), received.part("html")
    for body in (text, html):
        assert "This ticket was escalated to L1 Team lead." in body
        assert "Azure Interior" in body and "Hardware support" in body and "Marc Demo" in body
        assert "Urgent" in body  # the priority
        assert "SLA at risk" in body  # the trigger
        assert "43 min left" in body  # the time left at sending, not at raising
        assert "Resolve urgent in 4 hours" in body
        assert "Wed 25 Nov 2026, 10:15 UTC" in body  # the deadline
        assert dashboard in body and odoo in body
        assert "Raised" in body  # the recent history
    assert f'href="{dashboard}"' in html and f'href="{odoo}"' in html

    lead_notice.refresh_from_db()
    assert (lead_notice.state, lead_notice.attempts, lead_notice.sent_at) == (
        State.SENT, 1, T0 + timedelta(minutes=2))
    assert lead_notice.subject == message["Subject"].strip()


@pytest.mark.django_db
def test_a_breached_sla_says_so_in_the_subject(smtp, ticket):
    escalate()
    notice = Notice.objects.get(email=ONCALL)
    notice_send(notice_id=notice.pk, now=T0 + timedelta(hours=1))
    [received] = smtp.mailbox.received
    assert received.message["Subject"].strip() == (
        "Escalated to L1: HD-1042 Printer on fire — SLA breached 15 min ago")
    assert "overdue by 15 min" in received.part("plain")


# -- once, whatever happens ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_sending_twice_sends_once(smtp, ticket):
    escalate()
    notice = Notice.objects.get(email=ONCALL)
    first = notice_send(notice_id=notice.pk, now=T0)
    second = notice_send(notice_id=notice.pk, now=T0 + timedelta(seconds=1))
    assert (first.state, first.claimed) == (State.SENT, True)
    assert (second.state, second.claimed) == (State.SENT, False)
    assert len(smtp.mailbox.to(ONCALL)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_one_email(smtp, ticket):
    escalate()
    notice = Notice.objects.get(email=ONCALL)
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(notice_send(notice_id=notice.pk))
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(o.claimed for o in outcomes) == [False, True]
    assert len(smtp.mailbox.to(ONCALL)) == 1
    notice.refresh_from_db()
    assert (notice.state, notice.attempts) == (State.SENT, 1)


@pytest.mark.django_db
def test_a_mail_server_down_means_a_retry_later_and_then_one_email(settings, ticket):
    server = SmtpServer()  # chosen port, not listening yet
    point_settings_at(settings, server.port)
    escalate()
    notice = Notice.objects.get(email=ONCALL)

    outcome = notice_send(notice_id=notice.pk, now=T0)
    notice.refresh_from_db()
    assert notice.state == State.AWAITING_RETRY and outcome.retry_in == settings.NOTICE_RETRY_BASE_SECONDS
    assert notice.next_attempt_at == T0 + timedelta(seconds=settings.NOTICE_RETRY_BASE_SECONDS)
    assert "Could not reach the mail server" in notice.last_error

    server.start()
    try:
        assert notice_send(notice_id=notice.pk, now=T0 + timedelta(seconds=30)).state == State.SENT
        assert notice_send(notice_id=notice.pk, now=T0 + timedelta(seconds=60)).claimed is False
    finally:
        server.stop()
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, notice.last_error) == (State.SENT, 2, "")
    assert len(server.mailbox.to(ONCALL)) == 1


@pytest.mark.django_db
def test_a_refused_address_fails_at_once_and_the_others_still_get_theirs(smtp, ticket):
    smtp.mailbox.refuse.add(ONCALL)
    escalate()
    for notice in notices():
        notice_send(notice_id=notice.pk, now=T0)
    refused, delivered = Notice.objects.get(email=ONCALL), Notice.objects.get(email="lead@example.com")
    assert (refused.state, refused.attempts) == (State.FAILED, 1)
    assert "refused the recipient" in refused.last_error and "550" in refused.last_error
    assert "User unknown" in refused.last_error
    assert delivered.state == State.SENT
    assert [r.rcpt_tos for r in smtp.mailbox.received] == [["lead@example.com"]]


@pytest.mark.django_db
def test_temporary_failures_back_off_up_to_a_cap_and_then_give_up(settings, ticket):
    settings.NOTICE_RETRY_BASE_SECONDS, settings.NOTICE_RETRY_MAX_SECONDS = 30, 300
    assert [retry_delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    point_settings_at(settings, SmtpServer().port)  # nobody listening
    settings.NOTICE_MAX_ATTEMPTS = 2
    escalate()
    notice = Notice.objects.get(email=ONCALL)
    assert notice_send(notice_id=notice.pk, now=T0).state == State.AWAITING_RETRY
    assert notice_send(notice_id=notice.pk, now=T0 + timedelta(minutes=1)).state == State.FAILED
    notice.refresh_from_db()
    assert notice.last_error.startswith("Gave up after 2 attempts.")


@pytest.mark.django_db
def test_the_sweeper_hands_lost_notices_to_a_new_task(ticket, settings):
    escalate()
    stuck, lost = notices()
    Notice.objects.filter(pk=stuck.pk).update(state=State.INFLIGHT, claimed_at=T0, attempts=1)
    assert notice_sweep(now=T0 + timedelta(seconds=30)) == []  # the pending one is not late yet

    later = T0 + timedelta(seconds=settings.NOTICE_INFLIGHT_TIMEOUT_SECONDS + 1)
    assert notice_sweep(now=later) == [stuck.pk, lost.pk]
    stuck.refresh_from_db()
    assert stuck.state == State.AWAITING_RETRY and "never finished" in stuck.last_error


# -- reminders -----------------------------------------------------------------------------------------


@pytest.fixture
def reminding(policy, agent):
    """Level 1 reminds after 20 minutes; the agent is on it too but opted out of reminders."""
    level1 = policy.levels.get(number=1)
    level1.remind_after = timedelta(minutes=20)
    level1.save()
    level1.notify_users.add(agent)
    ProfileFactory(user=agent, reminders_opt_out=True)
    return level1


@pytest.mark.django_db
def test_an_unaccepted_escalation_gets_one_reminder_after_the_timeout_except_for_opted_out_users(
    smtp, ticket, reminding, agent
):
    escalate()
    # Opting out of reminders does not stop escalation notices to a level the person is on.
    assert "agent@example.com" in [n.email for n in notices(kind="escalated")]

    with time_machine.travel(T0 + timedelta(minutes=19), tick=False):
        assert notice_create_reminders() == 0
    with time_machine.travel(T0 + timedelta(minutes=21), tick=False):
        assert notice_create_reminders() == 2
        assert notice_create_reminders() == 0
        reminders = notices(kind="reminder")
        assert [n.email for n in reminders] == ["lead@example.com", ONCALL]
        for notice in reminders:
            notice_send(notice_id=notice.pk)
    with time_machine.travel(T0 + timedelta(minutes=25), tick=False):
        assert notice_create_reminders() == 0  # once per escalation, level and person

    [received] = smtp.mailbox.to("lead@example.com")
    assert received.message["Subject"].strip() == (
        "Not accepted at L1 after 21 min: HD-1042 Printer on fire — SLA at risk, 24 min left")
    assert "still waiting for someone at L1 Team lead to accept it" in received.part("plain")
    assert smtp.mailbox.to("agent@example.com") == []


@pytest.mark.django_db
def test_a_reminder_accepted_before_it_goes_out_is_not_sent(smtp, ticket, reminding, lead):
    escalation = ticket.escalations.get(pk=escalate().raised_ids[0])
    notice_create_reminders(now=T0 + timedelta(minutes=21))
    escalation_accept(escalation=escalation, user=lead, now=T0 + timedelta(minutes=22))
    for notice in notices(kind="reminder"):
        assert notice_send(notice_id=notice.pk, now=T0 + timedelta(minutes=23)).state == State.FAILED
    assert smtp.mailbox.received == []
    assert all("accepted or moved" in n.last_error for n in notices(kind="reminder"))


@pytest.mark.django_db
def test_the_admin_lists_notices_read_only_with_their_state(client, ticket):
    escalate()
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/escalations/notice/?state__exact=pending")
    assert page.status_code == 200
    assert ONCALL in page.content.decode() and "lead@example.com" in page.content.decode()
    notice = Notice.objects.get(email=ONCALL)
    assert client.get(f"/admin/escalations/notice/{notice.pk}/change/").status_code == 200
    assert client.post(f"/admin/escalations/notice/{notice.pk}/delete/").status_code == 403


@pytest.mark.django_db
def test_the_sweeper_catches_up_on_events_whose_notices_a_crash_never_wrote(ticket, monkeypatch):
    from escalations.notices import create as notices_module
    from escalations.notices.create import notice_catch_up

    # The process dies between the engine's commit and the notices: the escalation and its event
    # exist, its notices do not.
    monkeypatch.setattr(notices_module, "notice_create_for_events", lambda **kwargs: 0)
    escalate()
    monkeypatch.undo()
    assert Notice.objects.count() == 0

    assert notice_catch_up(now=T0 + timedelta(seconds=5)) == 0  # still the normal path's to write
    assert notice_catch_up(now=T0 + timedelta(minutes=1)) == 2
    assert notice_catch_up(now=T0 + timedelta(minutes=2)) == 0  # once
    assert sorted(n.kind for n in Notice.objects.all()) == ["escalated", "escalated"]
