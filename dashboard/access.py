"""Access helpers: each returns the object the request may act on, or raises 404/403.

Views call these instead of repeating the checks; the domain functions check again (defence in depth).
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from escalations.models import OdooAction, Ticket
from escalations.permissions import acting_team_ids, can_act_on_team


def ticket_for_action(request, ticket_id: int) -> Ticket:
    ticket = get_object_or_404(Ticket.objects.select_related("team", "assignee"), pk=ticket_id)
    if not can_act_on_team(request.user, ticket.team_id):
        raise PermissionDenied("You may not act on this ticket.")
    return ticket


def odoo_action_for_user(request, action_id: int) -> OdooAction:
    action = get_object_or_404(OdooAction.objects.select_related("ticket"), pk=action_id)
    if not can_act_on_team(request.user, action.ticket.team_id):
        raise PermissionDenied("You may not act on this ticket.")
    return action


def mark_actable(rows, user) -> None:
    """Which queue rows this user may act on, to show their buttons (every action is checked again)."""
    teams = acting_team_ids(user)
    for row in rows:
        row.can_act = teams is None or row.ticket.team_id in teams
