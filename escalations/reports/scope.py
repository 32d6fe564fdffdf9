"""Who reads which teams' reports: a supervisor every team (and tickets of no team), a team lead the
teams they lead; nobody else."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from escalations.permissions import SUPERVISORS, TEAM_LEADS, group_names, is_supervisor, led_team_ids

NOT_A_LEAD = "Reports are for supervisors and team leads."
NO_TEAM = ("Reports show the teams you lead, and you lead none yet: an administrator sets them on your "
           "profile.")


def report_team_ids(user) -> set[int] | None:
    """None for every team; else the teams this person leads. Raises PermissionDenied for anyone else."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(NOT_A_LEAD)
    if is_supervisor(user):
        return None
    teams = led_team_ids(user)
    if teams:
        return teams
    raise PermissionDenied(NO_TEAM if TEAM_LEADS in group_names(user) else NOT_A_LEAD)


def may_read_reports(user) -> bool:
    """Whether to offer the Reports link: a supervisor or a team lead (the user's groups, read once per
    request). The page itself checks the teams."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return user.is_superuser or bool(group_names(user) & {SUPERVISORS, TEAM_LEADS})
