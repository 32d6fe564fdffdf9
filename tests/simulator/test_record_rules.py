"""Record rules, as the integration user meets them over RPC: hidden is not deleted.

A team made private (Enterprise `privacy_visibility = invited_internal`), a team the user is not a
member of (OCA "User: Team tickets"), an archived team, another company: Odoo leaves those tickets out
of every search, refuses to read or write them by id, and still says they exist.
"""

import json
import urllib.request
import xmlrpc.client

import odoorpc
import pytest

from escalations.odoo.simulator import rules

from .conftest import API_KEY, LOGIN, connect, kw

ALL = {"context": {"active_test": False}}


def team_of(state, ticket_id: int) -> int:
    return state.call("helpdesk.ticket", "read", [[ticket_id], ["team_id"]])[0]["team_id"][0]


def ids_of_team(state, team_id: int) -> set[int]:
    return set(state.call("helpdesk.ticket", "search", [[("team_id", "=", team_id)]], ALL))


def visible(odoo, domain=()) -> set[int]:
    return set(kw(odoo, "helpdesk.ticket", "search", [list(domain)], context={"active_test": False}))


def access_error(call):
    with pytest.raises(odoorpc.error.RPCError) as exc:
        call()
    return exc.value.info["data"]


def control(server, payload):
    req = urllib.request.Request(
        f"{server.url}/__simulator__/control", data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(req, timeout=5))


@pytest.fixture(params=[("enterprise", 17), ("oca", 16), ("oca", 18)], ids=lambda p: f"{p[0]}-{p[1]}")
def hidden(request, make_server):
    """A server whose integration user no longer sees one team; (server, client, team, its tickets)."""
    flavour, version = request.param
    server = make_server(flavour=flavour, version=version)
    state = server.state
    team = team_of(state, 1)
    tickets = ids_of_team(state, team)
    state.hide_team(team)
    return server, connect(server), team, tickets


def test_searches_leave_a_hidden_teams_tickets_out_silently(hidden):
    server, odoo, team, tickets = hidden
    everything = set(server.state.store.tables["helpdesk.ticket"])

    assert visible(odoo) == everything - tickets
    assert kw(odoo, "helpdesk.ticket", "search_count", [[]], context={"active_test": False}) == len(
        everything - tickets)
    assert visible(odoo, [("team_id", "=", team)]) == set()
    rows = kw(odoo, "helpdesk.ticket", "search_read", [[("id", "in", sorted(tickets))]], fields=["name"])
    assert rows == []
    assert kw(odoo, "helpdesk.ticket", "name_search", [], name="", limit=1000) and not (
        {i for i, _ in kw(odoo, "helpdesk.ticket", "name_search", [], name="", limit=1000)} & tickets)
    # Nothing was deleted: the superuser (in-process) still has every ticket.
    assert ids_of_team(server.state, team) == tickets


def test_sync_pages_by_write_date_skip_hidden_tickets_and_stay_in_order(hidden):
    # Ordered by (write_date, id), a search takes query.py's fast path over its write_date index.
    server, odoo, _team, tickets = hidden
    total = len(server.state.store.tables["helpdesk.ticket"]) - len(tickets)
    seen = []
    for offset in range(0, total + 7, 7):
        page = kw(odoo, "helpdesk.ticket", "search_read", [[("write_date", ">=", "2000-01-01 00:00:00")]],
                  fields=["write_date"], order="write_date asc, id asc", limit=7, offset=offset,
                  context={"active_test": False})
        seen += [(r["write_date"], r["id"]) for r in page]
    assert seen == sorted(seen)
    table = server.state.store.tables["helpdesk.ticket"]
    assert [i for _, i in seen] == sorted(set(table) - tickets, key=lambda i: (table[i]["write_date"], i))


def test_reading_or_writing_a_hidden_ticket_is_odoos_access_error(hidden):
    server, odoo, _team, tickets = hidden
    tid = min(tickets)
    for method, args, kwargs, operation in [
        ("read", [[tid], ["name"]], {}, "read"),
        ("write", [[tid], {"priority": "3"}], {}, "write"),
        ("unlink", [[tid]], {}, "unlink"),
        ("message_post", [[tid]], {"body": "hello"}, "write"),
    ]:
        data = access_error(lambda: kw(odoo, "helpdesk.ticket", method, args, **kwargs))  # noqa: B023
        assert data["name"] == "odoo.exceptions.AccessError"
        assert data["message"] == (
            "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
            f"Sorry, Escalation Console (id={server.state.integration_uid}) doesn't have '{operation}' "
            "access to:\n- Helpdesk Ticket (helpdesk.ticket)\n\n"
            "If you really, really need access, perhaps you can win over your friendly administrator "
            "with a batch of freshly baked cookies."
        )
    # One hidden id spoils the whole read, as in Odoo; nothing was written.
    other = min(visible(odoo))
    assert access_error(lambda: kw(odoo, "helpdesk.ticket", "read", [[other, tid], ["name"]]))
    assert server.state.call("helpdesk.ticket", "exists", [[tid]]) == [tid]


def test_exists_tells_hidden_from_deleted(hidden):
    server, odoo, _team, tickets = hidden
    hidden_id, shown = min(tickets), min(visible(odoo))
    deleted = max(visible(odoo))
    server.state.delete_ticket(deleted)

    assert kw(odoo, "helpdesk.ticket", "exists", [[hidden_id, shown, deleted]]) == [hidden_id, shown]
    # A deleted id is dropped from a read and a MissingError for a write; a hidden one is refused.
    assert kw(odoo, "helpdesk.ticket", "read", [[shown, deleted], ["id"]]) == [{"id": shown}]
    data = access_error(lambda: kw(odoo, "helpdesk.ticket", "write", [[deleted], {"priority": "1"}]))
    assert data["name"] == "odoo.exceptions.MissingError"


def test_invited_again_the_user_sees_the_team_with_no_ticket_written(hidden):
    server, odoo, team, tickets = hidden
    before = {t: server.state.store.get("helpdesk.ticket", t)["write_date"] for t in tickets}

    server.state.invite_to_team(team)

    assert tickets <= visible(odoo)
    assert {t: server.state.store.get("helpdesk.ticket", t)["write_date"] for t in tickets} == before
    assert kw(odoo, "helpdesk.ticket", "read", [[min(tickets)], ["id"]]) == [{"id": min(tickets)}]


def test_control_endpoint_hides_and_invites(make_server):
    server = make_server()
    odoo = connect(server)
    team = team_of(server.state, 1)
    tickets = ids_of_team(server.state, team)

    control(server, {"hide_team": team})
    assert not visible(odoo) & tickets
    control(server, {"invite_to_team": team})
    assert tickets <= visible(odoo)


def test_xmlrpc_reports_a_hidden_ticket_as_fault_4(make_server):
    server = make_server()
    team = team_of(server.state, 1)
    server.state.hide_team(team)
    models = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object")
    uid = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common").login("helpdesk", LOGIN, API_KEY)
    with pytest.raises(xmlrpc.client.Fault) as exc:
        models.execute_kw("helpdesk", uid, API_KEY, "helpdesk.ticket", "read", [[1], ["name"]])
    assert exc.value.faultCode == 4 and "top-secret records" in exc.value.faultString


# -- Enterprise: private teams, followers, administrators ------------------------------------------


def test_enterprise_private_team_is_hidden_with_its_tickets_unless_followed(make_server):
    server = make_server(flavour="enterprise", version=17)
    state, odoo = server.state, connect(server)
    team = team_of(state, 1)
    tickets = ids_of_team(state, team)
    state.hide_team(team)
    partner = state.store.get("res.users", state.integration_uid)["partner_id"]

    teams = set(kw(odoo, "helpdesk.team", "search", [[]], context={"active_test": False}))
    assert team not in teams and teams
    assert access_error(lambda: kw(odoo, "helpdesk.team", "read", [[team], ["name"]]))

    # An administrator makes the user follow one ticket: that ticket, and only it, shows again.
    one = min(tickets)
    state.call("helpdesk.ticket", "message_subscribe", [[one]], {"partner_ids": [partner]})
    assert visible(odoo) & tickets == {one}
    assert state.call("helpdesk.ticket", "read", [[one], ["message_partner_ids"]])[0][
        "message_partner_ids"] == [partner]
    # The user cannot make itself follow a ticket it cannot read.
    other = max(tickets)
    assert access_error(lambda: kw(odoo, "helpdesk.ticket", "message_subscribe", [[other]],
                                   partner_ids=[partner]))
    # Following the team shows all of them; the team stays private.
    state.invite_to_team(team)
    assert tickets <= visible(odoo)
    assert state.store.get("helpdesk.team", team)["privacy_visibility"] == rules.PRIVATE
    assert set(state.call("helpdesk.team", "search", [[("message_partner_ids", "in", [partner])]])) == {team}


def test_enterprise_administrator_sees_private_teams(make_server):
    server = make_server(flavour="enterprise", version=17)
    state, odoo = server.state, connect(server)
    team = team_of(state, 1)
    state.hide_team(team)
    assert not visible(odoo) & ids_of_team(state, team)

    state.set_helpdesk_group(rules.EE_MANAGER)
    assert ids_of_team(state, team) <= visible(odoo)


def test_enterprise_messages_of_a_hidden_ticket_are_hidden(make_server):
    server = make_server(flavour="enterprise", version=17)
    state, odoo = server.state, connect(server)
    tid = 1
    state.call("helpdesk.ticket", "message_post", [[tid]], {"body": "posted by an agent"})
    mine = kw(odoo, "helpdesk.ticket", "message_post", [[tid]], body="posted by the console")
    state.hide_team(team_of(state, tid))

    found = kw(odoo, "mail.message", "search", [[("model", "=", "helpdesk.ticket"), ("res_id", "=", tid)]])
    assert found == [mine]  # its own message only


# -- OCA: team membership, archived teams, personal tickets --------------------------------------------


@pytest.mark.parametrize("version", [16, 17, 18])
def test_oca_team_group_sees_its_active_teams_and_tickets_without_team(make_server, version):
    server = make_server(flavour="oca", version=version)
    state, odoo = server.state, connect(server)
    uid = state.integration_uid
    teams = sorted(state.store.tables["helpdesk.ticket.team"])
    no_team = state.call("helpdesk.ticket", "create", [{"name": "No team", "description": "-"}])
    state.call("helpdesk.ticket", "write", [[no_team], {"team_id": False}])
    state.set_helpdesk_group(rules.OCA_TEAM)

    assert visible(odoo) == {no_team}  # a member of no team yet

    state.call("helpdesk.ticket.team", "write", [teams[:2], {"user_ids": [(4, uid)]}])
    expected = ids_of_team(state, teams[0]) | ids_of_team(state, teams[1]) | {no_team}
    assert visible(odoo) == expected
    # An archived team drops out of `user.helpdesk_team_ids`, and its tickets with it.
    state.call("helpdesk.ticket.team", "write", [[teams[1]], {"active": False}])
    assert visible(odoo) == ids_of_team(state, teams[0]) | {no_team}


def test_oca_personal_group_sees_its_own_and_unassigned_tickets(make_server):
    server = make_server(flavour="oca", version=17)
    state, odoo = server.state, connect(server)
    uid = state.integration_uid
    state.call("helpdesk.ticket", "write", [[1], {"user_id": uid}])
    state.set_helpdesk_group(rules.OCA_OWN)
    expected = set(state.call("helpdesk.ticket", "search", [["|", ("user_id", "=", uid),
                                                             ("user_id", "=", False)]], ALL))
    assert 1 in expected and visible(odoo) == expected


def test_helpdesk_groups_are_checked_per_flavour(make_server):
    state = make_server(flavour="oca", version=17).state
    with pytest.raises(ValueError, match="not a helpdesk group of oca"):
        state.set_helpdesk_group(rules.EE_USER)


# -- both: companies ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["enterprise", "oca"])
def test_a_ticket_of_another_company_is_hidden(make_server, flavour):
    server = make_server(flavour=flavour, version=17)
    state, odoo = server.state, connect(server)
    other = state.call("res.company", "create", [{"name": "Southwind"}])
    state.call("helpdesk.ticket", "write", [[1], {"company_id": other}])

    assert 1 not in visible(odoo)
    assert access_error(lambda: kw(odoo, "helpdesk.ticket", "read", [[1], ["name"]]))
    assert kw(odoo, "helpdesk.ticket", "exists", [[1]]) == [1]
