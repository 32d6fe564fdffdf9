"""Real Celery worker processes for the tests that go through the broker, against the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from escalations.benchmarks import database_url
from tests.broker import worker_broker_url  # noqa: F401 (the tests import it from here, with the rest)


def wait_for(predicate, timeout=40.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def purge_queue(broker_url: str) -> None:
    """Empty the task queue: every test that commits an action or a notice enqueues its task, with no
    worker to take it, so a shared broker holds hundreds of stale tasks a new worker would chew
    through before the test's own."""
    from dashboard.celery import app

    with app.connection_for_write(broker_url) as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)


def start_worker(env: dict, *, beat_schedule: Path | None = None, log=subprocess.DEVNULL, hostname=None):
    """A solo-pool worker (with beat when given a schedule file) on the test database, its queue emptied
    first."""
    purge_queue(env.get("CELERY_BROKER_URL") or settings.CELERY_BROKER_URL)
    command = [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--pool", "solo",
               "--loglevel", "INFO", "--without-mingle", "--without-gossip"]
    if beat_schedule is not None:
        command += ["--beat", "--schedule", str(beat_schedule)]
    if hostname:
        command += ["--hostname", hostname]
    # Its own process group: `--beat` runs beat in a child process, which must go with the worker
    # (an orphaned beat would go on sending sweeps to the shared broker for every later test).
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env={**os.environ, "DATABASE_URL": database_url(), **env},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _signal_group(worker, signum) -> None:
    try:
        os.killpg(worker.pid, signum)
    except ProcessLookupError:
        pass  # all gone already


def kill_worker(worker) -> None:
    """SIGKILL to the worker and its beat, as when the machine loses the process."""
    _signal_group(worker, signal.SIGKILL)
    worker.wait(timeout=10)


def stop_worker(worker) -> None:
    """A warm shutdown; then nothing of the worker's group may be left running."""
    if worker.poll() is None:
        _signal_group(worker, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(worker, signal.SIGKILL)
    if worker.poll() is None:
        worker.wait(timeout=10)


def outbox_worker_env(odoo, var_dir: Path) -> dict:
    """A worker's environment for sending the outbox to the test's simulator: the sweep every second
    (it also picks up actions enqueued on another broker), quick retries, the sync and engine idle."""
    from tests.conftest import API_KEY

    return {
        "CELERY_BROKER_URL": worker_broker_url(),
        "ODOO_URL": odoo.url, "ODOO_DB": odoo.state.db_name, "ODOO_API_KEY": API_KEY, "ODOO_TIMEOUT": "2",
        "SYNC_INTERVAL_SECONDS": "3600", "ENGINE_INTERVAL_SECONDS": "3600",
        "OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_LEASE_SECONDS": "4",
        "OUTBOX_RETRY_BASE_SECONDS": "1", "OUTBOX_RETRY_MAX_SECONDS": "2",
        "VAR_DIR": str(var_dir),
    }
