"""write_date as Odoo really keeps it (odoo.md §8.1): the transaction's start to the microsecond,
shared by every record the transaction writes, read over RPC cut to whole seconds, and compared in
domains against the stored value, as PostgreSQL does."""

from datetime import timedelta

import pytest


@pytest.fixture
def state(make_server):
    state = make_server(tickets=30).state
    # Mid-second, so that the stored stamps are not whole seconds by luck.
    state.clock.freeze()
    state.clock.set(state.clock.now().replace(microsecond=0) + timedelta(seconds=5, microseconds=400_000))
    return state


def stored(state, tid):
    return state.store.get("helpdesk.ticket", tid)["write_date"]


def test_one_transaction_stamps_every_record_with_the_same_microsecond(state):
    ids = state.rewrite_tickets(10)
    stamps = {stored(state, tid) for tid in ids}
    assert len(stamps) == 1 and next(iter(stamps)).microsecond == 400_000


def test_separate_transactions_in_one_second_get_different_stamps(state):
    state.clock.unfreeze()
    first, second = state.call("helpdesk.ticket", "search", [[]], {"limit": 2})
    state.call("helpdesk.ticket", "write", [[first], {"priority": "2"}])
    state.call("helpdesk.ticket", "write", [[second], {"priority": "2"}])
    assert stored(state, first) < stored(state, second)


def test_rpc_returns_whole_seconds_and_domains_compare_the_stored_value(state):
    ids = state.rewrite_tickets(5)
    second = stored(state, ids[0]).replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S")
    rows = state.call("helpdesk.ticket", "read", [ids, ["write_date"]])
    assert {r["write_date"] for r in rows} == {second}
    # The stored value is 0.4 s after the second it is shown as: `=` misses it, `>` catches it again.
    assert state.call("helpdesk.ticket", "search", [[("write_date", "=", second)]]) == []
    later = state.call("helpdesk.ticket", "search", [[("write_date", ">", second)]])
    assert set(ids) <= set(later)
    assert not set(ids) & set(state.call("helpdesk.ticket", "search", [[("write_date", "<=", second)]]))


def test_unchanged_values_still_move_write_date(state):
    (tid,) = state.call("helpdesk.ticket", "search", [[]], {"limit": 1})
    before = state.call("helpdesk.ticket", "read", [[tid], ["priority", "write_date"]])[0]
    state.clock.advance(timedelta(minutes=5))
    state.rewrite_tickets()
    after = state.call("helpdesk.ticket", "read", [[tid], ["priority", "write_date"]])[0]
    assert after["priority"] == before["priority"] and after["write_date"] > before["write_date"]
    assert stored(state, tid) == state.clock.tx_now()


def test_control_endpoint_rewrites_tickets_in_one_transaction(make_server):
    import json
    import urllib.request

    server = make_server(tickets=12)
    request = urllib.request.Request(
        f"{server.url}/__simulator__/control", method="POST",
        data=json.dumps({"rewrite_tickets": {"count": 8}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    stamps = sorted({stored(server.state, tid) for tid in range(1, 13)}, reverse=True)
    newest = stamps[0]
    assert sum(1 for tid in range(1, 13) if stored(server.state, tid) == newest) == 8


def test_oca16_sla_cron_rewrites_every_open_ticket_under_a_policy_in_one_transaction(make_server):
    """odoo.md §8.3: `check_sla` assigns the deadline and the expired flag whether they change or not."""
    state = make_server(flavour="oca", version=16, tickets=40).state
    state.run_sla_cron()
    fields = ["sla_deadline", "sla_expired", "write_date"]
    with_sla = state.call(
        "helpdesk.ticket", "search_read", [[("sla_deadline", "!=", False)]], {"fields": fields}
    )
    assert len(with_sla) > 5
    state.clock.advance(timedelta(minutes=5))

    state.run_sla_cron()

    ids = [r["id"] for r in with_sla]
    again = {r["id"]: r for r in state.call("helpdesk.ticket", "read", [ids, fields])}
    for before in with_sla:
        after = again[before["id"]]
        assert after["sla_deadline"] == before["sla_deadline"]  # nothing changed...
        assert after["write_date"] > before["write_date"]  # ...and yet every one was written
    assert len({stored(state, r["id"]) for r in with_sla}) == 1
