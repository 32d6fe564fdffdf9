"""Odoo changes the assignee it is given (odoo.md §8.6): Enterprise auto-assignment on create and on a
team change, OCA 16's team alias owner, OCA 17/18 taking off an assignee who is not a member of the new
team. Driven over RPC, as the console writes."""

import pytest

from .conftest import connect, kw

TICKET = "helpdesk.ticket"


def team_ids(odoo, model) -> list[int]:
    return kw(odoo, model, "search", [[]], order="id")


def users(odoo, count: int) -> list[int]:
    return kw(odoo, "res.users", "search", [[("login", "like", "@northwind")]], order="id", limit=count)


def assignee(odoo, tid: int):
    user = kw(odoo, TICKET, "read", [[tid], ["user_id"]])[0]["user_id"]
    return user and user[0]


def new_ticket(odoo, **vals) -> int:
    return kw(odoo, TICKET, "create", [{"name": "Printer on fire", "description": "<p>Smoke</p>", **vals}])


def unassigned_ticket(odoo, team: int) -> int:
    return new_ticket(odoo, team_id=team, user_id=False)


@pytest.fixture
def ee(make_server):
    return connect(make_server(flavour="enterprise", version=17, tickets=0))


def auto_assigning(odoo, method: str, members: list[int]) -> int:
    team = team_ids(odoo, "helpdesk.team")[0]
    kw(odoo, "helpdesk.team", "write", [[team], {"auto_assignment": True, "assign_method": method,
                                                  "member_ids": [(6, 0, members)]}])
    return team


def test_enterprise_randomly_assigns_new_tickets_round_robin(ee):
    members = users(ee, 3)
    team = auto_assigning(ee, "randomly", members)
    made = [new_ticket(ee, team_id=team) for i in range(4)]
    assert [assignee(ee, t) for t in made] == [members[0], members[1], members[2], members[0]]
    # Odoo's own assignment is an assignment like any other.
    assert kw(ee, TICKET, "read", [[made[0]], ["assign_date"]])[0]["assign_date"]


def test_enterprise_balanced_gives_the_member_with_fewest_open_tickets(ee):
    members = users(ee, 2)
    team = auto_assigning(ee, "balanced", members)
    for _ in range(2):
        new_ticket(ee, team_id=team, user_id=members[0])
    assert assignee(ee, new_ticket(ee, team_id=team)) == members[1]


def test_enterprise_assigns_an_unassigned_ticket_moved_to_the_team_and_keeps_an_assignee(ee):
    members = users(ee, 2)
    team = auto_assigning(ee, "randomly", members)
    other = team_ids(ee, "helpdesk.team")[1]
    empty = unassigned_ticket(ee, other)
    kept = new_ticket(ee, team_id=other, user_id=members[1])

    kw(ee, TICKET, "write", [[empty, kept], {"team_id": team}])
    assert assignee(ee, empty) in members
    assert assignee(ee, kept) == members[1]  # an assignee is never replaced on a team change


def test_a_user_written_with_the_team_is_what_odoo_keeps(ee):
    members = users(ee, 3)
    team = auto_assigning(ee, "randomly", members[:2])
    ticket = unassigned_ticket(ee, team_ids(ee, "helpdesk.team")[1])
    kw(ee, TICKET, "write", [[ticket], {"team_id": team, "user_id": members[2]}])
    assert assignee(ee, ticket) == members[2]  # the fields written are protected from the compute


def test_enterprise_without_auto_assignment_leaves_tickets_unassigned(ee):
    team = team_ids(ee, "helpdesk.team")[0]
    assert assignee(ee, new_ticket(ee, team_id=team)) is False


@pytest.mark.parametrize("version", [17, 18])
def test_oca_17_and_18_take_off_an_assignee_who_is_not_a_member_of_the_new_team(make_server, version):
    odoo = connect(make_server(flavour="oca", version=version, tickets=0))
    first, second = team_ids(odoo, "helpdesk.ticket.team")[:2]
    member, stranger = users(odoo, 2)
    kw(odoo, "helpdesk.ticket.team", "write", [[second], {"user_ids": [(6, 0, [member])]}])
    staying = new_ticket(odoo, team_id=first, user_id=member)
    leaving = new_ticket(odoo, team_id=first, user_id=stranger)

    kw(odoo, TICKET, "write", [[staying, leaving], {"team_id": second}])
    assert (assignee(odoo, staying), assignee(odoo, leaving)) == (member, False)


def test_oca_16_fills_an_unassigned_ticket_from_the_teams_alias_owner(make_server):
    odoo = connect(make_server(flavour="oca", version=16, tickets=0))
    first, second = team_ids(odoo, "helpdesk.ticket.team")[:2]
    owner, stranger = users(odoo, 2)
    kw(odoo, "helpdesk.ticket.team", "write", [[second], {"alias_user_id": owner, "user_ids": [(5,)]}])
    empty = unassigned_ticket(odoo, first)
    kept = new_ticket(odoo, team_id=first, user_id=stranger)

    kw(odoo, TICKET, "write", [[empty, kept], {"team_id": second}])
    # 16 fills, and never takes off a non-member (that came with 17).
    assert (assignee(odoo, empty), assignee(odoo, kept)) == (owner, stranger)
    assert assignee(odoo, new_ticket(odoo, team_id=second)) == owner
    assert "alias_user_id" not in connect(make_server(flavour="oca", version=17, tickets=0)).execute(
        "helpdesk.ticket.team", "fields_get")


def oca_assigning(odoo, method: str, members: list[int]) -> int:
    team = team_ids(odoo, "helpdesk.ticket.team")[0]
    kw(odoo, "helpdesk.ticket.team", "write", [[team], {"assign_method": method,
                                                         "user_ids": [(6, 0, members)]}])
    return team


@pytest.mark.parametrize("version", [16, 17])
def test_oca_assign_method_assigns_new_tickets_in_turn_or_to_the_least_loaded(make_server, version):
    odoo = connect(make_server(flavour="oca", version=version, tickets=0))
    field = odoo.execute("helpdesk.ticket.team", "fields_get")["assign_method"]
    assert [k for k, _ in field["selection"]] == ["manual", "randomly", "balanced", "sequential"]
    members = users(odoo, 3)
    team = team_ids(odoo, "helpdesk.ticket.team")[0]
    [row] = kw(odoo, "helpdesk.ticket.team", "read", [[team], ["assign_method"]])
    assert row["assign_method"] == "manual"
    kw(odoo, "helpdesk.ticket.team", "write", [[team], {"user_ids": [(6, 0, members)]}])
    assert assignee(odoo, new_ticket(odoo, team_id=team)) is False  # manual: nobody

    # Both take the member after the assignee of the team's latest ticket.
    oca_assigning(odoo, "sequential", members)
    made = [new_ticket(odoo, team_id=team) for _ in range(4)]
    assert [assignee(odoo, t) for t in made] == [members[0], members[1], members[2], members[0]]
    oca_assigning(odoo, "randomly", members)
    made = [new_ticket(odoo, team_id=team) for _ in range(3)]
    assert [assignee(odoo, t) for t in made] == [members[1], members[2], members[0]]

    # balanced: open tickets of every team count (helpdesk_mgmt_assign_method's read_group has no team).
    other = team_ids(odoo, "helpdesk.ticket.team")[1]
    oca_assigning(odoo, "balanced", members[:2])
    for _ in range(3):
        new_ticket(odoo, team_id=other, user_id=members[1])
    assert assignee(odoo, new_ticket(odoo, team_id=team)) == members[0]


def test_oca_18_has_no_assign_method(make_server):
    odoo = connect(make_server(flavour="oca", version=18, tickets=0))
    assert "assign_method" not in odoo.execute("helpdesk.ticket.team", "fields_get")
