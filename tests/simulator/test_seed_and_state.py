"""The seeded data, saving/loading state, and the live activity thread."""

import time
from collections import Counter
from datetime import UTC, datetime

from escalations.odoo.simulator.live import LiveActivity
from escalations.odoo.simulator.persist import load, save
from escalations.odoo.simulator.seed import build_state

from .conftest import NOW


def summary(state):
    rows = state.call(
        "helpdesk.ticket",
        "search_read",
        [[]],
        {
            "fields": ["name", "stage_id", "user_id", "write_date", "sla_deadline"],
            "context": {"active_test": False},
        },
    )
    return [tuple(str(v) for v in r.values()) for r in rows]


def test_seed_is_deterministic_and_realistic():
    a = build_state(seed=7, tickets=200, now=NOW)
    b = build_state(seed=7, tickets=200, now=NOW)
    assert summary(a) == summary(b)
    assert summary(build_state(seed=8, tickets=200, now=NOW)) != summary(a)
    stages = Counter(r["stage_id"][1] for r in a.call("helpdesk.ticket", "search_read", [[], ["stage_id"]]))
    assert {"New", "In Progress", "Waiting on Customer", "Solved", "Cancelled"} <= set(stages)
    assert a.call("helpdesk.ticket", "search_count", [[("active", "=", False)]]) > 0
    assert a.call("helpdesk.team", "search_count", [[]]) == 4
    assert a.call("res.users", "search_count", [[("share", "=", False)]]) >= 12
    assert a.call("res.partner", "search_count", [[("email", "ilike", "@")]]) >= 40
    assert a.call("helpdesk.tag", "search", [[("name", "=", "Escalate")]])


def test_seed_has_tickets_at_risk_breached_and_far_away():
    state = build_state(seed=42, tickets=300, now=NOW)
    now = "2026-11-27 09:00:00"
    soon = "2026-11-27 10:00:00"
    open_ = [("stage_id.fold", "=", False)]
    assert state.call(
        "helpdesk.ticket",
        "search_count",
        [open_ + [("sla_deadline", ">", now), ("sla_deadline", "<=", soon)]],
    )
    assert state.call("helpdesk.ticket", "search_count", [open_ + [("sla_deadline", "<", now)]])
    assert state.call(
        "helpdesk.ticket", "search_count", [open_ + [("sla_deadline", ">", "2026-11-30 00:00:00")]]
    )
    assert state.call("helpdesk.ticket", "search_count", [open_ + [("user_id", "=", False)]])


def test_state_file_round_trip(tmp_path):
    state = build_state(flavour="oca", version=17, seed=3, tickets=40, api_key="key-1", now=NOW)
    path = tmp_path / "sim.json"
    save(state, str(path))
    again = load(str(path), now=datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    assert summary(again) == summary(state)
    assert again.authenticate("helpdesk", "console@example.com", "key-1") == state.integration_uid
    tid = again.call("helpdesk.ticket", "create", [{"name": "after load", "description": "x"}])
    assert again.call("helpdesk.ticket", "read", [[tid], ["number"]])[0]["number"] == "HT00041"


def test_live_activity_changes_tickets():
    state = build_state(seed=1, tickets=30, now=NOW)
    live = LiveActivity(state, interval=3600, seed=1)
    before = summary(state)
    kinds = [live.step() for _ in range(12)]
    assert summary(state) != before and len(set(kinds)) > 1
    live = LiveActivity(state, interval=0.01, seed=2).start()
    time.sleep(0.1)
    live.stop()
