"""Who may act on which ticket. Checked on the server for every action (escalations.actions).

Roles are Django groups (created by migration 0004): "Supervisors" act on every team's tickets;
"Team leads" act on the tickets of the teams listed on their Profile (`Profile.teams`); everyone
else reads only. Team membership is explicit rather than derived from the escalation levels'
members, because a lead may lead a team whose policy does not name them (or that has no policy).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from escalations.models import Team, Ticket

TEAM_LEADS = "Team leads"
SUPERVISORS = "Supervisors"


class ActionDenied(PermissionDenied):
    """The user may not do this; `message` says why, fit to show them."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def group_names(user) -> frozenset[str]:
    """The user's group names, read once per user object (a request's): a page asks several times (may
    this person act, lead, read reports, edit policies), and each ask was a query."""
    names = getattr(user, "_console_group_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True)) if user.pk else frozenset()
        user._console_group_names = names
    return names


def _in_group(user, name: str) -> bool:
    return name in group_names(user)


def is_supervisor(user) -> bool:
    return bool(user.is_active and (user.is_superuser or _in_group(user, SUPERVISORS)))


def led_team_ids(user) -> set[int]:
    if not (user.is_active and _in_group(user, TEAM_LEADS)):
        return set()
    return set(Team.objects.filter(leads__user=user).values_list("pk", flat=True))


def acting_team_ids(user) -> set[int] | None:
    """The teams whose tickets this user may act on: None for all (a supervisor), empty to read only."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if is_supervisor(user):
        return None
    return led_team_ids(user)


def can_act_on_team(user, team_id: int | None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if is_supervisor(user):
        return True
    return team_id is not None and team_id in led_team_ids(user)


def check_can_act(user, ticket: Ticket) -> None:
    """Raise ActionDenied unless the user may act on this ticket."""
    if not can_act_on_team(user, ticket.team_id):
        raise ActionDenied("You may not act on this ticket: it belongs to a team you do not lead.")
