"""What routine automation needs of the mirror: a team's members and Odoo's own assignment, each
agent's resource (for their time off), and who last changed a ticket."""

from datetime import timedelta

import pytest

from escalations.models import Agent, SyncState, Team, Ticket
from escalations.sync.run import sync_odoo
from tests.conftest import FLAVOURS

pytestmark = pytest.mark.django_db

MEMBERS = {"enterprise": "member_ids", "oca": "user_ids"}


def _team_model(state) -> str:
    return "helpdesk.team" if state.flavour == "enterprise" else "helpdesk.ticket.team"


@pytest.mark.parametrize("simulator", FLAVOURS, indirect=True, ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_team_members_and_agent_resources_are_mirrored(odoo):
    sync_odoo(full=True)
    state = odoo.state
    teams = state.call(_team_model(state), "search_read", [[]], {"fields": [MEMBERS[state.flavour]]})
    assert teams
    for row in teams:
        mirrored = set(Team.objects.get(odoo_id=row["id"]).members.values_list("odoo_id", flat=True))
        assert mirrored == set(row[MEMBERS[state.flavour]]) and mirrored
    resources = state.call("resource.resource", "search_read", [[("user_id", "!=", False)]],
                           {"fields": ["user_id"]})
    assert resources
    for res in resources:
        assert Agent.objects.get(odoo_id=res["user_id"][0]).resource_odoo_id == res["id"]
    assert SyncState.load().odoo_uid == state.integration_uid


@pytest.mark.parametrize("simulator", [("enterprise", 17)], indirect=True)
def test_a_team_odoo_assigns_itself_is_known_and_followed_by_incremental_syncs(odoo):
    sync_odoo(full=True)
    team = Team.objects.order_by("odoo_id").first()
    assert team.odoo_assigns == ""
    odoo.state.call("helpdesk.team", "write", [[team.odoo_id], {"auto_assignment": True,
                                                                 "assign_method": "balanced"}])
    member = team.members.order_by("odoo_id").first()
    odoo.state.call("helpdesk.team", "write", [[team.odoo_id], {"member_ids": [(3, member.odoo_id)]}])
    sync_odoo()
    team.refresh_from_db()
    assert team.odoo_assigns == "balanced"
    assert member not in team.members.all()


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 16)], indirect=True)
def test_who_last_changed_a_ticket_is_mirrored_and_a_cron_rewrite_keeps_it(odoo):
    sync_odoo(full=True)
    person = Agent.objects.filter(active=True).order_by("odoo_id").first()
    ticket = Ticket.objects.open().order_by("odoo_id").first()
    new_priority = "3" if ticket.priority != "3" else "2"
    odoo.state.call("helpdesk.ticket", "write", [[ticket.odoo_id], {"priority": new_priority}],
                    uid=person.odoo_id)
    sync_odoo()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.odoo_write_uid) == (new_priority, person.odoo_id)
    changed_at = ticket.odoo_write_date
    # OdooBot rewrites the ticket unchanged (a cron): the person stays its last writer in the mirror,
    # and the change keeps its time, through the incremental sync and the full one, which rewrites
    # every ticket.
    odoo.state.clock.advance(timedelta(minutes=10))
    odoo.state.rewrite_tickets()
    for full in (False, True):
        sync_odoo(full=full)
        ticket.refresh_from_db()
        assert (ticket.odoo_write_uid, ticket.odoo_write_date) == (person.odoo_id, changed_at)
