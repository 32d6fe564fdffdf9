"""Real Celery worker processes for the tests that go through the broker, against the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from escalations.benchmarks import database_url


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
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env={**os.environ, "DATABASE_URL": database_url(), **env},
        stdout=log, stderr=subprocess.STDOUT,
    )


def stop_worker(worker) -> None:
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
