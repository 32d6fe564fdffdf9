"""The incremental sync against write_date as Odoo keeps it (odoo.md §8.1): stored to the microsecond
at the writing transaction's start, sent in whole seconds. Many tickets share one stamp (a mass edit,
an import, a cron), and a page boundary falls inside it; the sync must end, and read each changed
ticket a bounded number of times."""

from datetime import timedelta

import pytest

from escalations.models import Ticket
from escalations.sync.run import sync_odoo
from tests.conftest import API_KEY, start_simulator

pytestmark = pytest.mark.django_db

PAGE_READS = 2  # a page of tickets, and their SLA records


def quiet_sync_calls() -> int:
    """RPC calls of a sync that finds nothing new: logging in, the small models, the deletion check
    and one look for tickets."""
    result = sync_odoo()
    assert result.pages == 0
    return result.rpc_calls - 1


@pytest.fixture
def big_odoo(settings):
    server = start_simulator(tickets=1300)
    settings.ODOO_URL, settings.ODOO_DB, settings.ODOO_API_KEY = server.url, server.state.db_name, API_KEY
    settings.ODOO_TIMEOUT = 30
    yield server
    server.stop()


def mid_second(state, seconds=60, micro=250_000):
    """Move the simulator's clock on to the middle of a second and stop it there."""
    state.clock.freeze()
    state.clock.set(state.clock.now().replace(microsecond=micro) + timedelta(seconds=seconds))


def test_twelve_hundred_tickets_written_in_one_transaction_are_each_read_at_most_twice(big_odoo, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    settings.SYNC_PAGE_SIZE = 100
    sync_odoo(full=True)
    login = quiet_sync_calls()
    mid_second(big_odoo.state)
    ids = big_odoo.state.rewrite_tickets(1200, {"name": "Renamed in a mass edit"})

    result = sync_odoo()

    assert Ticket.objects.filter(odoo_id__in=ids, name="Renamed in a mass edit").count() == 1200
    assert result.updated == 1200
    # The first page shows 100 of them in one second; that second is then read alone by id: 12 full
    # pages and an empty one, then one look past it. Each ticket is read twice at most.
    assert result.rpc_calls == login + 13 * PAGE_READS + 1 + 1
    assert quiet_sync_calls() == login


def test_a_second_split_across_pages_by_interleaved_transactions(odoo, settings):
    """Two transactions in one second, the later one writing the lower ids: ordered by the stored
    stamp, the page boundary falls in the middle of the second and the ids there are not in order."""
    settings.SYNC_OVERLAP_SECONDS = 0
    settings.SYNC_PAGE_SIZE = 10
    state = odoo.state
    sync_odoo(full=True)
    login = quiet_sync_calls()
    ids = sorted(state.store.tables["helpdesk.ticket"])
    mid_second(state, micro=100_000)
    state.call("helpdesk.ticket", "write", [ids[:3], {"name": "a second earlier"}])
    state.clock.advance(timedelta(seconds=1))
    state.call("helpdesk.ticket", "write", [ids[30:42], {"name": "late transaction, high ids"}])
    state.clock.advance(timedelta(microseconds=500_000))
    state.call("helpdesk.ticket", "write", [ids[5:13], {"name": "later transaction, low ids"}])

    result = sync_odoo()

    mirrored = dict(Ticket.objects.values_list("odoo_id", "name"))
    assert all(mirrored[i] == "late transaction, high ids" for i in ids[30:42])
    assert all(mirrored[i] == "later transaction, low ids" for i in ids[5:13])
    assert Ticket.objects.filter(odoo_id__in=ids[:3], name="a second earlier").count() == 3
    assert result.updated == 23
    # [3 rows + 7 of the busy second], [10 more of it, none in id order], then that second alone by
    # id without the first 7: [10], [3], and one look past it that finds nothing.
    assert result.rpc_calls == login + 4 * PAGE_READS + 1


@pytest.mark.parametrize("page_size", [1, 7, 50])
def test_any_page_size_ends_and_the_next_sync_reads_nothing(odoo, settings, page_size):
    settings.SYNC_OVERLAP_SECONDS = 0
    settings.SYNC_PAGE_SIZE = page_size
    state = odoo.state
    sync_odoo(full=True)
    mid_second(state)
    changed = state.rewrite_tickets(40, {"name": "Renamed"})

    result = sync_odoo()

    assert result.updated == Ticket.objects.filter(odoo_id__in=changed, name="Renamed").count() == 40
    assert sync_odoo().updated == 0
