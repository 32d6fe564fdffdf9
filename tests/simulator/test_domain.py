"""Domain evaluation details (odoo.md §3, checklist 12), in-process through `state.call`."""

import pytest


@pytest.fixture
def partners(state):
    def names(domain, **kw):
        return {r["name"] for r in state.call("res.partner", "search_read", [domain, ["name"]], kw)}

    return names


def test_like_operators_and_patterns(partners):
    assert partners([("name", "=like", "Anna %")]) == partners([("name", "like", "Anna ")])
    assert partners([("name", "=ilike", "brightline%")]) == {"Brightline Logistics"}
    assert partners([("name", "like", "brightline")]) == set()  # like is case-sensitive
    assert "Brightline Logistics" not in partners([("name", "not ilike", "bright")])


def test_negative_operators_match_empty_values(state):
    ids = lambda d: set(state.call("helpdesk.ticket", "search", [d]))  # noqa: E731
    assigned, unassigned = ids([("user_id", "!=", False)]), ids([("user_id", "=", False)])
    assert assigned and unassigned and not assigned & unassigned
    some_user = state.call("helpdesk.ticket", "read", [list(assigned)[:1], ["user_id"]])[0]["user_id"][0]
    # `!=` and `not in` keep the tickets with no user at all, as SQL in Odoo does
    assert unassigned <= ids([("user_id", "!=", some_user)])
    assert unassigned <= ids([("user_id", "not in", [some_user])])
    assert ids([("user_id", "in", [some_user, False])]) == ids(
        ["|", ("user_id", "=", some_user), ("user_id", "=", False)]
    )


def test_many2one_by_name_and_hierarchy(state, partners):
    company = state.call("res.partner", "search", [[("name", "=", "Brightline Logistics")]])[0]
    contacts = partners([("parent_id", "=", "Brightline Logistics")])
    assert contacts and partners([("id", "child_of", company)]) == contacts | {"Brightline Logistics"}
    one = state.call("res.partner", "search", [[("parent_id", "=", company)]], {"limit": 1})
    assert partners([("id", "parent_of", one)]) == {"Brightline Logistics"} | partners([("id", "in", one)])


def test_dates_and_datetimes(state):
    count = lambda d: state.call("helpdesk.ticket", "search_count", [d], {"context": {"active_test": False}})  # noqa: E731
    total = count([])
    assert count([("create_date", ">=", "2026-11-01")]) + count([("create_date", "<", "2026-11-01")]) == total
    # a bare date compared with `<=` means the end of that day, as in Odoo
    assert count([("create_date", "<=", "2026-11-27")]) == count(
        [("create_date", "<=", "2026-11-27 23:59:59")]
    )


def test_x2many_and_paths(state):
    escalate = state.call("helpdesk.tag", "search", [[("name", "=", "Escalate")]])
    by_id = set(state.call("helpdesk.ticket", "search", [[("tag_ids", "in", escalate)]]))
    assert by_id == set(state.call("helpdesk.ticket", "search", [[("tag_ids.name", "=", "Escalate")]]))
    assert by_id == set(state.call("helpdesk.ticket", "search", [[("tag_ids", "=", "Escalate")]]))
    untagged = set(state.call("helpdesk.ticket", "search", [[("tag_ids", "=", False)]]))
    assert untagged and not untagged & by_id


def test_errors(state):
    with pytest.raises(ValueError, match="Invalid field helpdesk.ticket.nope"):
        state.call("helpdesk.ticket", "search", [[("nope", "=", 1)]])
    with pytest.raises(ValueError, match="syntactically"):
        state.call("helpdesk.ticket", "search", [["|", ("priority", "=", "1")]])
    with pytest.raises(ValueError, match="cannot be searched"):
        state.call("helpdesk.ticket", "search", [[("open_hours", ">", 1)]])
    with pytest.raises(ValueError, match="Invalid field 'nope'"):
        state.call("helpdesk.ticket", "search", [[]], {"order": "nope desc"})
