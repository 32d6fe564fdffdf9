"""A level's members are told, with its extra addresses, each person once: the bug was that adding a
person to level 2 sent the notices of the next move-up only to the level's extra address."""

from datetime import timedelta

import pytest

from escalations.engine import evaluate_escalations
from escalations.models import Notice
from escalations.notices.recipients import level_recipients
from tests.conftest import T0
from tests.factories import EscalationPolicyFactory, TicketClockFactory, UserFactory
from tests.notice_helpers import deliver, subject


@pytest.fixture
def senior(db):
    return UserFactory(username="senior", first_name="Sena", last_name="Senior")


@pytest.fixture
def policy(db, lead, senior):
    policy = EscalationPolicyFactory()
    level1 = policy.levels.get(number=1)
    level1.members.set([lead])  # a member only: nobody listed to notify
    level2 = policy.levels.get(number=2)
    level2.members.set([senior])
    level2.notify_emails = "seniors@example.com"
    level2.save()
    return policy


@pytest.mark.django_db
def test_level_members_get_the_notices_of_their_level_with_its_extra_addresses(smtp, policy):
    for minutes in (5, 6):
        TicketClockFactory(ticket__team=policy.team, deadline=T0 + timedelta(minutes=50),
                           at_risk_at=T0 - timedelta(minutes=minutes))
    evaluate_escalations(now=T0)
    deliver(T0)
    assert [m.rcpt_tos for m in smtp.mailbox.received] == [["lead@example.com"]] * 2

    evaluate_escalations(now=T0 + timedelta(minutes=31))  # nobody accepted: up to level 2
    deliver(T0 + timedelta(minutes=31))
    for address in ("senior@example.com", "seniors@example.com"):
        assert [subject(m)[:15] for m in smtp.mailbox.to(address)] == ["Moved up to L2:"] * 2


@pytest.mark.django_db
def test_a_person_listed_twice_gets_one_email_per_notice(smtp, policy, senior):
    level2 = policy.levels.get(number=2)
    level2.notify_users.set([senior])  # a member and listed to notify
    level2.notify_emails = "seniors@example.com\nSenior@Example.com"  # and their address again
    level2.save()
    assert [(r.email, r.user_id) for r in level_recipients(level=level2)] == [
        ("senior@example.com", senior.pk), ("seniors@example.com", None)]

    TicketClockFactory(ticket__team=policy.team, deadline=T0 + timedelta(minutes=50),
                       at_risk_at=T0 - timedelta(minutes=5))
    evaluate_escalations(now=T0)
    evaluate_escalations(now=T0 + timedelta(minutes=31))
    deliver(T0 + timedelta(minutes=31))
    assert len(smtp.mailbox.to("senior@example.com")) == 1
    assert Notice.objects.filter(kind="moved_up").count() == 2


@pytest.mark.django_db
def test_inactive_members_and_members_without_an_address_are_left_out(policy, senior):
    level2 = policy.levels.get(number=2)
    level2.members.add(UserFactory(username="gone", is_active=False),
                       UserFactory(username="nomail", email=""))
    assert [r.email for r in level_recipients(level=level2)] == ["senior@example.com", "seniors@example.com"]
