"""Factories for the wall display and the queue feed: displays, and escalated tickets with a clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import factory
from django.utils import timezone

from escalations.models import Escalation, EscalationPolicy, SyncState, Team, Trigger, WallDisplay
from escalations.walls import wall_display_create
from tests.factories import EscalationPolicyFactory, TicketClockFactory, TicketFactory


def team_policy(team: Team) -> EscalationPolicy:
    """The team's two-level policy, made once per team (a team has at most one)."""
    return EscalationPolicy.objects.filter(team=team).first() or EscalationPolicyFactory(team=team)


class EscalationFactory(factory.django.DjangoModelFactory):
    """An open, unaccepted escalation at level 1 of its team's policy, raised ten minutes ago."""

    class Meta:
        model = Escalation

    ticket = factory.SubFactory(TicketFactory)
    policy = factory.LazyAttribute(lambda e: team_policy(e.ticket.team))
    level = factory.LazyAttribute(lambda e: e.policy.levels.get(number=1))
    trigger = Trigger.SLA_AT_RISK
    trigger_key = factory.Sequence(lambda n: f"deadline-{n}")
    raised_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=10))
    level_since = factory.LazyAttribute(lambda e: e.raised_at)


def escalated_ticket(*, team: Team | None = None, left: timedelta | None = timedelta(minutes=30),
                     now: datetime | None = None, customer: str = "Acme Corp",
                     ticket_fields: dict | None = None, **escalation) -> Escalation:
    """A ticket with an SLA deadline `left` from now (None: no SLA running) and an open escalation.

    At risk from an hour before its deadline, as the default policy says.
    """
    now = now or timezone.now()
    ticket = TicketFactory(
        **({"team": team} if team else {}), customer_name=customer,
        customer_email=f"ceo@{customer.split()[0].lower()}.example", **(ticket_fields or {}),
    )
    deadline = None if left is None else now + left
    TicketClockFactory(ticket=ticket, deadline=deadline, computed_at=now,
                       at_risk_at=deadline - timedelta(hours=1) if deadline else None)
    return EscalationFactory(ticket=ticket, **escalation)


def wall_display(*, name: str = "Support room", team: Team | None = None) -> tuple[WallDisplay, str]:
    """A display and its token (readable only at creation, as in the admin)."""
    return wall_display_create(name=name, team=team)


def sync_state(**fields) -> SyncState:
    """The sync's one row with these fields, whatever an earlier test's worker process left in it."""
    defaults = {"last_success_at": None, "last_error": "", "auth_failed_at": None, "server_version": "17.0"}
    return SyncState.objects.update_or_create(pk=1, defaults={**defaults, **fields})[0]
