"""The periodic sync through a real Celery worker (with beat) on Redis, against the simulator."""

from datetime import timedelta

import pytest

from escalations.models import SyncState, Ticket
from tests.conftest import API_KEY
from tests.workers import start_worker, stop_worker, wait_for, worker_broker_url


@pytest.fixture
def celery_worker(odoo, tmp_path):
    env = {
        "CELERY_BROKER_URL": worker_broker_url(),
        "ODOO_URL": odoo.url,
        "ODOO_DB": odoo.state.db_name,
        "ODOO_API_KEY": API_KEY,
        "SYNC_INTERVAL_SECONDS": "1",
        "SYNC_OVERLAP_SECONDS": "0",
        "VAR_DIR": str(tmp_path),
    }
    # A file, not a pipe nobody reads: a full pipe would block the worker.
    with open(tmp_path / "worker.log", "w") as log:
        worker = start_worker(env, beat_schedule=tmp_path / "beat-schedule", log=log)
        yield worker
        stop_worker(worker)


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
