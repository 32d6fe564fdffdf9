"""The periodic sync tasks: failures are recorded, a refused key is not hammered."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalations import tasks
from escalations.models import SyncState, Ticket

pytestmark = pytest.mark.django_db


def test_periodic_sync_mirrors_and_records_success(odoo):
    result = tasks.sync_incremental()
    assert result["created"] == Ticket.objects.count() > 0
    assert SyncState.load().last_incremental_at is not None


def test_periodic_sync_pauses_after_odoo_refuses_the_key(odoo, settings):
    settings.ODOO_API_KEY = "a-revoked-key"
    assert tasks.sync_incremental() is None
    state = SyncState.load()
    assert state.auth_failed_at is not None and "refused" in state.last_error.lower()

    before = odoo.state.rpc_count
    tasks.sync_incremental()
    tasks.sync_full()
    assert odoo.state.rpc_count == before  # nothing sent while paused

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SYNC_AUTH_PAUSE_SECONDS + 1)):
        tasks.sync_incremental()
    assert odoo.state.rpc_count > before  # tries again after the pause


def test_odoo_down_is_recorded_and_the_next_tick_recovers(odoo):
    odoo.faults.set("http_502")
    assert tasks.sync_incremental() is None
    assert "502" in SyncState.load().last_error
    odoo.faults.clear()
    assert tasks.sync_incremental()["created"] > 0
    assert SyncState.load().last_error == ""
