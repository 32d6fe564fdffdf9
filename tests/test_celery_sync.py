"""The periodic sync through a real Celery worker (with beat) on Redis, against the simulator."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection

from escalations.models import SyncState, Ticket
from tests.conftest import API_KEY


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, timeout=40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def celery_worker(odoo, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0",
        "ODOO_URL": odoo.url,
        "ODOO_DB": odoo.state.db_name,
        "ODOO_API_KEY": API_KEY,
        "SYNC_INTERVAL_SECONDS": "1",
        "SYNC_OVERLAP_SECONDS": "0",
        "VAR_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--beat", "--pool", "solo",
         "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule"), "--without-mingle",
         "--without-gossip"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield worker
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_incremental_sync_in_a_worker_on_redis(odoo, celery_worker):
    assert wait_for(lambda: Ticket.objects.count() > 0), "the worker never mirrored the simulator"
    target = Ticket.objects.order_by("odoo_id").first().odoo_id
    odoo.state.clock.advance(timedelta(minutes=1))
    odoo.state.call("helpdesk.ticket", "write", [[target], {"name": "Changed in Odoo while the worker runs"}])

    assert wait_for(lambda: Ticket.objects.get(odoo_id=target).name.startswith("Changed in Odoo"))
    assert SyncState.load().last_incremental_at is not None
    assert celery_worker.poll() is None  # still running: syncs keep coming
