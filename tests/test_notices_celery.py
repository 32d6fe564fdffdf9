"""Notices through a real Celery worker: enqueued when the engine's transaction commits, sent by the
worker to a real SMTP server, recorded as sent."""

import os

import pytest
from django.conf import settings

from escalations.engine import evaluate_escalations
from escalations.models import Notice
from tests.conftest import T0
from tests.smtp import SmtpServer
from tests.test_notices import ONCALL, policy, ticket  # noqa: F401 (fixtures)
from tests.workers import start_worker, stop_worker, wait_for


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def notice_worker(smtp_server, tmp_path):
    # The worker listens on the broker this process sends to: Redis when CELERY_BROKER_URL is set (CI),
    # else the embedded folder broker, whose folder lives under this process's VAR_DIR.
    env = {"CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "VAR_DIR": str(settings.VAR_DIR),
           "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}"}
    with open(tmp_path / "worker.log", "w") as log:
        worker = start_worker(env, log=log, hostname=f"notices-{os.getpid()}@%h")
        yield worker
        stop_worker(worker)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_the_notices_once_the_escalation_commits(ticket, smtp_server, notice_worker):  # noqa: F811
    evaluate_escalations(now=T0)

    received = smtp_server.mailbox.received

    def all_sent():
        return not Notice.objects.exclude(state=Notice.State.SENT).exists() and len(received) == 2

    assert wait_for(all_sent, timeout=60), list(Notice.objects.values_list("email", "state", "last_error"))
    assert sorted(r.rcpt_tos[0] for r in received) == ["lead@example.com", ONCALL]
    assert all(r.message["Subject"].strip().startswith("Escalated to L1: HD-1042") for r in received)
    assert set(Notice.objects.values_list("attempts", flat=True)) == {1}


@pytest.fixture
def quick_retry_worker(smtp_server, tmp_path):
    env = {"CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "VAR_DIR": str(settings.VAR_DIR),
           "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}", "NOTICE_RETRY_BASE_SECONDS": "1"}
    with open(tmp_path / "worker.log", "w") as log:
        worker = start_worker(env, log=log, hostname=f"notices-retry-{os.getpid()}@%h")
        yield worker
        stop_worker(worker)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_notice_the_server_defers_is_sent_by_the_retry_notice_send_enqueues(  # noqa: F811
    ticket, smtp_server, quick_retry_worker  # noqa: F811
):
    """No task retries itself: notice_send records the wait and enqueues the next attempt for then."""
    smtp_server.mailbox.defer_once = {ONCALL}
    evaluate_escalations(now=T0)

    def all_sent():
        return not Notice.objects.exclude(state=Notice.State.SENT).exists()

    assert wait_for(all_sent, timeout=60), list(Notice.objects.values_list("email", "state", "last_error"))
    assert dict(Notice.objects.values_list("email", "attempts")) == {"lead@example.com": 1, ONCALL: 2}
    assert sorted(r.rcpt_tos[0] for r in smtp_server.mailbox.received) == ["lead@example.com", ONCALL]

