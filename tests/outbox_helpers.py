"""Shared set-up for the action and outbox tests: a mirrored simulator, a team lead, and a drain."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from escalations.models import Agent, OdooAction, Profile, Ticket
from escalations.outbox.send import outbox_send
from escalations.permissions import SUPERVISORS, TEAM_LEADS

CONSOLE_LOGIN = "console@example.com"


def a_ticket() -> Ticket:
    return (Ticket.objects.open().filter(team__isnull=False, assignee__isnull=False)
            .select_related("team", "assignee").order_by("odoo_id").first())


def make_lead(user, *, teams=(), agent: Agent | None = None, supervisor=False):
    # get_or_create: migration 0004 made the groups, but transactional tests flush them away.
    user.groups.add(Group.objects.get_or_create(name=SUPERVISORS if supervisor else TEAM_LEADS)[0])
    profile, _ = Profile.objects.get_or_create(user=user)
    profile.agent = agent
    profile.save()
    profile.teams.set(teams)
    return user


def free_agent(*exclude: Agent | None) -> Agent:
    """An active Odoo user who is not the console's integration user nor one of `exclude`."""
    skip = [a.pk for a in exclude if a is not None]
    return (Agent.objects.filter(active=True, login__contains="@northwind").exclude(pk__in=skip)
            .exclude(profile__isnull=False).order_by("odoo_id").first())


def drain(rounds: int = 20) -> list[str]:
    """Send every sendable action (as workers would), later ones included; returns the outcomes."""
    outcomes = []
    for _ in range(rounds):
        pending = list(OdooAction.objects.filter(state__in=OdooAction.SENDABLE_STATES).order_by("pk"))
        if not pending:
            break
        for action in pending:
            outcomes.append(outbox_send(action.pk, now=timezone.now() + timedelta(hours=1)))
    return outcomes


def odoo_ticket(state, ticket_id: int, fields=("user_id", "team_id", "write_date", "priority")) -> dict:
    return state.call("helpdesk.ticket", "read", [[ticket_id], list(fields)],
                      {"context": {"active_test": False}})[0]


def notes(state, ticket_id: int, marker: str = "console action") -> list[dict]:
    return state.call("mail.message", "search_read", [[
        ("model", "=", "helpdesk.ticket"), ("res_id", "=", ticket_id), ("body", "ilike", marker),
    ]], {"fields": ["body", "subtype_id", "message_type", "is_internal"], "order": "id"})


def level_member_who_accepts_by_reassign(policy, user, *, ticket: Ticket, lead) -> Agent:
    """Make `user` a member of the policy's first level, linked to a free Odoo user (returned), under a
    policy where reassigning the ticket to a level member accepts the escalation for them."""
    policy.reassign_accepts = True
    policy.save()
    member_agent = free_agent(ticket.assignee, lead.profile.agent)
    make_lead(user, teams=[], agent=member_agent)
    policy.levels.get(number=1).members.add(user)
    return member_agent
