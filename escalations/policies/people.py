"""People as the editor shows them: by name (their name in the console, else their Odoo user's name),
never by login unless nothing else is known."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q

from escalations.permissions import SUPERVISORS, TEAM_LEADS


def person_name(user) -> str:
    profile = getattr(user, "profile", None)
    agent = getattr(profile, "agent", None) if profile is not None else None
    return user.get_full_name() or (agent.name if agent is not None else "") or user.get_username()


def people(*, also_ids=()) -> list:
    """The active users (and these, whatever their state), sorted by name, each with `.shown_name`."""
    users = get_user_model().objects.filter(Q(is_active=True) | Q(pk__in=list(also_ids)))
    found = list(users.select_related("profile__agent"))
    for user in found:
        user.shown_name = person_name(user)
    return sorted(found, key=lambda u: (u.shown_name.casefold(), u.pk))


def team_lead_ids(team_id: int) -> list[int]:
    """The console's leads of the team (the "Team leads" who have it on their profile)."""
    leads = get_user_model().objects.filter(is_active=True, groups__name=TEAM_LEADS, profile__teams=team_id)
    return sorted(set(leads.values_list("pk", flat=True)))


def supervisor_ids() -> list[int]:
    found = get_user_model().objects.filter(Q(groups__name=SUPERVISORS) | Q(is_superuser=True),
                                            is_active=True)
    return sorted(set(found.values_list("pk", flat=True)))
