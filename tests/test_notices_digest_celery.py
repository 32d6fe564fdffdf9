"""Digests through a real Celery worker and a real SMTP server: a first evaluation's backlog goes out as
one digest per person once it commits, and beat's notice sweep sends the digests whose time came."""

from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone

from escalations.engine import evaluate_escalations
from escalations.models import Notice
from tests.conftest import T0
from tests.notice_helpers import is_digest, subject
from tests.test_notices_budget import PEOPLE, at_risk_ticket, breached_ticket, policy, stage  # noqa: F401
from tests.test_notices_celery import notice_worker, smtp_server  # noqa: F401 (fixtures)
from tests.workers import wait_for

State = Notice.State


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_one_digest_per_person_for_a_first_evaluation(  # noqa: F811
    policy, stage, smtp_server, notice_worker  # noqa: F811
):
    for number in range(30):
        breached_ticket(policy, stage, number=number, ago=timedelta(hours=3))
    assert evaluate_escalations(now=T0).raised == 30
    received = smtp_server.mailbox.received

    def all_sent():
        waiting = Notice.objects.filter(state__in=[State.PENDING, State.INFLIGHT])
        return len(received) == 3 and not waiting.exists()

    assert wait_for(all_sent, timeout=60), list(Notice.objects.values_list("email", "kind", "state"))
    assert sorted(address for m in received for address in m.rcpt_tos) == sorted(PEOPLE)
    assert {subject(m) for m in received} == {"Digest of 30 notices: 30 escalated to L1"}


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_notice_sweep_sends_the_digests_whose_time_came(  # noqa: F811
    policy, stage, smtp_server, notice_worker  # noqa: F811
):
    now = timezone.now()
    for number in range(2):
        at_risk_ticket(policy, stage, at=now - timedelta(minutes=1), number=number)
    evaluate_escalations(now=now)
    assert wait_for(lambda: len(smtp_server.mailbox.received) == 6, timeout=60)
    # As if these two had come over the budget: held until a moment that has now passed.
    Notice.objects.filter(kind="escalated").update(state=State.HELD, held_for="budget",
                                                   release_at=now - timedelta(seconds=1))
    smtp_server.mailbox.received.clear()

    current_app.send_task("escalations.tasks.sweep_notices")  # what beat sends every minute

    assert wait_for(lambda: len(smtp_server.mailbox.received) == 3, timeout=60)
    assert all(is_digest(m) for m in smtp_server.mailbox.received)
    assert not Notice.objects.filter(state=State.HELD).exists()
