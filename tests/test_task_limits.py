"""Celery tasks have time limits: a real prefork worker (the production pool; the solo pool enforces
none) stops a sync stuck on an Odoo that does not answer at the soft limit, the sync gives back its
lease, and the worker takes the next task. A send's limits end before its lease does."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

import escalations.tasks  # noqa: F401 - the tasks registered in this process too (see send)
from escalations.benchmarks import database_url
from escalations.models import SyncState
from tests import workers
from tests.conftest import API_KEY

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

SYNC = "escalations.tasks.sync_incremental"


@pytest.fixture
def prefork_worker(odoo, tmp_path):
    """One prefork worker process, with a 5-second soft limit and an Odoo timeout far above it (a shorter
    limit, on a loaded machine, could stop the task before it reaches Odoo: before it takes the lease)."""
    broker = workers.worker_broker_url()
    workers.purge_queue(broker)
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker,
           "VAR_DIR": str(tmp_path), "ODOO_URL": odoo.url, "ODOO_DB": odoo.state.db_name,
           "ODOO_API_KEY": API_KEY, "ODOO_TIMEOUT": "120",
           "CELERY_TASK_SOFT_TIME_LIMIT": "5", "CELERY_TASK_TIME_LIMIT": "30"}
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--pool", "prefork",
             "--concurrency", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
            cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    assert workers.wait_for(lambda: "ready." in log.read_text()), log.read_text()
    yield broker, log
    workers.stop_worker(worker)


def send(broker: str, task: str) -> None:
    from dashboard.celery import app

    # Celery stamps the limits the sending process knows for a registered task into the message (this
    # process's: 900 s), and a worker obeys the message over its own settings: None leaves the
    # worker's. Whether the task is registered here depended on the tests that ran before: it is now.
    assert task in app.tasks
    with app.connection_for_write(broker) as connection:
        app.send_task(task, connection=connection, time_limit=None, soft_time_limit=None)


def test_a_sync_stuck_on_an_odoo_that_does_not_answer_is_stopped_at_the_soft_limit(odoo, prefork_worker):
    broker, log = prefork_worker
    # Odoo reads the request, then says nothing for a minute: ODOO_TIMEOUT (120 s) would wait it out.
    odoo.faults.set("hang", hang_seconds=60)
    send(broker, SYNC)
    assert workers.wait_for(lambda: SyncState.objects.filter(pk=1).exclude(lease_owner="").exists())
    started = time.monotonic()

    # Stopped at 5 s, the lease given back (the next sync need not wait for it to run out).
    assert workers.wait_for(lambda: SyncState.objects.filter(pk=1, lease_owner="").exists(), timeout=20)
    assert time.monotonic() - started < 15
    assert workers.wait_for(lambda: "SoftTimeLimitExceeded" in log.read_text(), timeout=5), log.read_text()
    assert SyncState.objects.get(pk=1).last_success_at is None

    # The worker's one process is free again: the next sync runs and succeeds.
    odoo.faults.clear()
    send(broker, SYNC)
    assert workers.wait_for(lambda: SyncState.objects.get(pk=1).last_success_at is not None), log.read_text()


def test_a_send_is_stopped_before_its_lease_runs_out():
    """The sweepers re-queue a send whose lease ran out: it must be dead by then, or it could run twice."""
    for task, lease in (("escalations.tasks.send_odoo_action", settings.OUTBOX_LEASE_SECONDS),
                        ("escalations.tasks.send_notice", settings.NOTICE_INFLIGHT_TIMEOUT_SECONDS)):
        limits = settings.CELERY_TASK_ANNOTATIONS[task]
        assert 0 < limits["soft_time_limit"] < limits["time_limit"] < lease
