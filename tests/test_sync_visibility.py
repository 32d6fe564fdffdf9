"""Invisible is not deleted: tickets Odoo hides from the console's user (a private team, OCA team rules,
record rules) stay in the mirror as "no longer visible", their escalations wait, and the pages say so.

The simulator enforces Odoo's record rules for the integration user (tests/simulator/test_record_rules.py);
`hide_team` makes a team private (Enterprise) or takes the user out of it (OCA), as an administrator
would, and `invite_to_team` lets it see the team again. Only `exists`, which ignores record rules,
tells a hidden ticket from a deleted one.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations.engine import EscalationError, escalation_raise_manual, evaluate_escalations
from escalations.models import Escalation, SyncState, Ticket
from escalations.sync.health import sync_health
from escalations.sync.run import sync_odoo
from tests.wall_factories import EscalationFactory, team_policy, wall_display

pytestmark = pytest.mark.django_db

BOTH_FLAVOURS = [("enterprise", 17), ("oca", 16), ("oca", 18)]
flavours = pytest.mark.parametrize(
    "simulator", BOTH_FLAVOURS, indirect=True, ids=lambda fv: f"{fv[0]}-{fv[1]}"
)
NOT_VISIBLE = "no longer visible to the console's Odoo user (team privacy or record rules)"


def hide_a_team(odoo) -> tuple[int, set[int]]:
    """Mirror everything, then hide from the console the team of the first open ticket."""
    sync_odoo(full=True)
    team = Ticket.objects.open().order_by("odoo_id").first().team_id
    odoo.state.hide_team(team)
    return team, set(Ticket.objects.filter(team_id=team).values_list("odoo_id", flat=True))


def waiting_escalation(ticket_id: int) -> Escalation:
    """An open escalation at level 1, unaccepted for two hours: due to move up (30 minutes allowed)."""
    ticket = Ticket.objects.get(odoo_id=ticket_id)
    since = timezone.now() - timedelta(hours=2)
    return EscalationFactory(
        ticket=ticket, policy=team_policy(ticket.team), raised_at=since, level_since=since
    )


def states(ids) -> dict[int, tuple[bool, bool]]:
    """odoo_id -> (marked invisible, marked deleted)."""
    return {
        t.odoo_id: (t.invisible_since is not None, t.deleted_at is not None)
        for t in Ticket.objects.filter(odoo_id__in=ids)
    }


@flavours
@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_tickets_of_a_team_hidden_from_the_console_are_invisible_not_deleted(odoo, full):
    team, hidden = hide_a_team(odoo)
    others = set(Ticket.objects.values_list("odoo_id", flat=True)) - hidden

    result = sync_odoo(full=full)

    assert result.deleted == 0 and result.hidden == len(hidden)
    assert states(hidden) == {i: (True, False) for i in hidden}
    assert states(others) == {i: (False, False) for i in others}
    assert SyncState.load().invisible_tickets == len(hidden)
    # Nothing in Odoo was touched.
    assert len(odoo.state.call("helpdesk.ticket", "search", [[("team_id", "=", team)]],
                               {"context": {"active_test": False}})) == len(hidden)


@flavours
def test_hidden_tickets_do_not_make_every_incremental_sync_list_every_id(odoo):
    sync_odoo(full=True)
    usual = sync_odoo().rpc_calls  # nothing changed: the deletion check is one search_count
    team = Ticket.objects.open().order_by("odoo_id").first().team_id
    odoo.state.hide_team(team)
    sync_odoo()  # finds them missing, asks `exists`, marks them invisible

    assert sync_odoo().rpc_calls == usual
    assert sync_odoo().rpc_calls == usual


@flavours
def test_the_escalation_of_a_hidden_ticket_is_not_ended_and_waits(odoo):
    sync_odoo(full=True)
    ticket = Ticket.objects.open().order_by("odoo_id").first()
    escalation = waiting_escalation(ticket.odoo_id)
    odoo.state.hide_team(ticket.team_id)
    sync_odoo()

    evaluate_escalations()

    escalation.refresh_from_db()
    assert escalation.ended_at is None and escalation.end_reason == ""
    assert escalation.level.number == 1  # not moved up on what the console can no longer see


def test_the_ticket_page_and_the_sync_health_line_say_so(odoo, client, lead):
    _team, hidden = hide_a_team(odoo)
    sync_odoo()
    ticket = min(hidden)
    client.force_login(lead)

    page = client.get(reverse("ticket", args=[ticket])).content.decode()
    assert "No longer visible to the console's Odoo user" in page
    assert "Deleted in Odoo" not in page

    line = f"{len(hidden)} tickets are {NOT_VISIBLE}"
    assert line in client.get(reverse("queue")).content.decode()
    assert line in client.get(reverse("tickets")).content.decode()
    health = sync_health(now=timezone.now())
    assert health.invisible_tickets == len(hidden)
    _display, token = wall_display()
    assert line in client.get(reverse("wall", args=[token]), follow=True).content.decode()


@flavours
def test_a_ticket_really_deleted_is_still_marked_deleted(odoo):
    _team, hidden = hide_a_team(odoo)
    shown = set(Ticket.objects.values_list("odoo_id", flat=True)) - hidden
    deleted_shown, deleted_hidden = min(shown), min(hidden)
    odoo.state.delete_ticket(deleted_shown)

    assert sync_odoo().deleted == 1
    assert states([deleted_shown]) == {deleted_shown: (False, True)}

    # A hidden ticket deleted later: the hourly full sync asks `exists` about every ticket it misses.
    odoo.state.delete_ticket(deleted_hidden)
    result = sync_odoo(full=True)
    assert result.deleted == 1
    assert states(hidden - {deleted_hidden}) == {i: (True, False) for i in hidden - {deleted_hidden}}
    assert Ticket.objects.get(odoo_id=deleted_hidden).deleted_at is not None
    assert SyncState.load().invisible_tickets == len(hidden) - 1


@flavours
def test_a_team_made_visible_again_is_back_to_normal(odoo):
    sync_odoo(full=True)
    first = Ticket.objects.open().order_by("odoo_id").first()
    team = first.team_id
    escalation = waiting_escalation(first.odoo_id)
    odoo.state.hide_team(team)
    sync_odoo()
    hidden = set(Ticket.objects.filter(team_id=team).values_list("odoo_id", flat=True))
    assert states(hidden) == {i: (True, False) for i in hidden}
    # Changed in Odoo while the console could not see it: the cursor passes it by.
    odoo.state.clock.advance(timedelta(minutes=1))
    odoo.state.call("helpdesk.ticket", "write", [[first.odoo_id], {"name": "Changed while hidden"}])
    odoo.state.clock.advance(timedelta(minutes=10))
    sync_odoo()

    # Inviting the console's user writes no ticket: their write_dates stay behind the cursor.
    odoo.state.invite_to_team(team)
    sync_odoo()

    assert states(hidden) == {i: (False, False) for i in hidden}
    assert Ticket.objects.get(odoo_id=first.odoo_id).name == "Changed while hidden"
    assert SyncState.load().invisible_tickets == 0
    assert sync_health(now=timezone.now()).invisible_tickets == 0
    evaluate_escalations()
    escalation.refresh_from_db()
    assert escalation.ended_at is None and escalation.level.number == 2  # moving up again


def test_escalating_a_hidden_ticket_by_hand_is_refused_in_plain_words(odoo, lead):
    _team, hidden = hide_a_team(odoo)
    sync_odoo()
    ticket = Ticket.objects.open().filter(odoo_id__in=hidden).order_by("odoo_id").first()
    level = team_policy(ticket.team).levels.get(number=1)

    with pytest.raises(EscalationError, match="Odoo no longer shows this ticket to the console"):
        escalation_raise_manual(ticket=ticket, level=level, user=lead, reason="VIP")
    assert not Escalation.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("simulator", [("enterprise", 17)], indirect=True, ids=["enterprise-17"])
def test_a_followed_ticket_of_a_private_team_the_console_cannot_read_is_mirrored(odoo):
    # Enterprise shows a plain helpdesk user the tickets it follows in a private team, but not the team.
    state = odoo.state
    ticket = 1
    team = state.call("helpdesk.ticket", "read", [[ticket], ["team_id"]])[0]["team_id"]
    state.hide_team(team[0])
    partner = state.store.get("res.users", state.integration_uid)["partner_id"]
    state.call("helpdesk.ticket", "message_subscribe", [[ticket]], {"partner_ids": [partner]})

    sync_odoo(full=True)

    mirrored = Ticket.objects.select_related("team").get(odoo_id=ticket)
    assert mirrored.team.name == team[1] and mirrored.invisible_since is None
    hidden = set(state.call("helpdesk.ticket", "search", [[("team_id", "=", team[0])]])) - {ticket}
    assert not Ticket.objects.filter(odoo_id__in=hidden).exists()
