"""What the demo sets up in the app beside the mirror: logins, an escalation policy per team and two
automation rules.

Only for `manage.py demo`; a real installation sets these up in the admin.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from escalations.models import Agent, AutomationRule, EscalationLevel, EscalationPolicy, Profile, Team

TEAM_LEADS = "Team leads"


@transaction.atomic
def demo_logins_ensure() -> str:
    """A team lead and an admin, with a fresh password (returned) at each start."""
    password = secrets.token_urlsafe(9)
    group, _ = Group.objects.get_or_create(name=TEAM_LEADS)
    lead, _ = User.objects.get_or_create(
        username="lead", defaults={"first_name": "Demo", "last_name": "Lead", "email": "lead@example.com"}
    )
    lead.set_password(password)
    lead.save()
    lead.groups.add(group)
    admin, _ = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
    )
    admin.set_password(password)
    admin.save()
    return password


@transaction.atomic
def demo_policies_ensure() -> int:
    """Give every mirrored team without a policy a two-level one; returns how many were created."""
    lead = User.objects.get(username="lead")
    created = 0
    for team in Team.objects.filter(active=True, escalation_policy__isnull=True):
        policy = EscalationPolicy.objects.create(
            team=team, at_risk_within=timedelta(hours=1), no_update_after=timedelta(days=2),
            unassigned_priority="2", unassigned_after=timedelta(minutes=30),
        )
        first = EscalationLevel.objects.create(
            policy=policy, number=1, name="Team lead", accept_within=timedelta(minutes=30)
        )
        first.members.add(lead)
        first.notify_users.add(lead)
        EscalationLevel.objects.create(
            policy=policy, number=2, name="Support manager", notify_emails="support-managers@example.com"
        )
        created += 1
    _lead_all_teams(lead)
    return created


def _lead_all_teams(lead: User) -> None:
    """The demo lead leads every team and works as an Odoo user, so that every button works."""
    profile, _ = Profile.objects.get_or_create(user=lead)
    profile.teams.add(*Team.objects.filter(active=True))
    if profile.agent is None:
        profile.agent = (Agent.objects.filter(active=True, profile__isnull=True)
                         .exclude(login=settings.ODOO_USER).order_by("name").first())
        profile.save()


@transaction.atomic
def demo_rules_ensure() -> int:
    """Two routine rules, switched on, unless the demo has rules already; returns how many were made.

    Round robin over each team's members for new tickets (on the teams Odoo does not assign itself),
    and "urgent" for open tickets whose title says a service is down or people are locked out."""
    if AutomationRule.objects.exists():
        return 0
    now = timezone.now()
    Action, Trigger = AutomationRule.Action, AutomationRule.Trigger
    teams = list(Team.objects.filter(active=True, odoo_assigns="", members__active=True).distinct())
    rules = []
    if teams:
        assign = AutomationRule.objects.create(
            name="New tickets: round robin", enabled=True, enabled_at=now, trigger=Trigger.CREATED,
            action=Action.ASSIGN, assign_method=AutomationRule.AssignMethod.ROUND_ROBIN,
            max_open_per_agent=25,
        )
        assign.teams.set(teams)
        rules.append(assign)
    rules.append(AutomationRule.objects.create(
        name="Service down: urgent", enabled=True, enabled_at=now, trigger=Trigger.SCHEDULE, every_minutes=15,
        title_keywords="locked out, stopped, crashes, outage", action=Action.SET_PRIORITY, set_priority="3",
    ))
    return len(rules)
