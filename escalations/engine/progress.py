"""What happens to open escalations: moved up when nobody accepted in time, ended when the ticket no
longer needs one.

Each is one conditional UPDATE over all open escalations, plus one INSERT .. SELECT of its events and
one of its markers in Odoo (escalations.engine.markers).
Every condition is a column of the escalation row or a correlated EXISTS/subquery, never a join:
Django would turn a join into `id IN (SELECT ..)`, and PostgreSQL rechecks only the row's own
columns when a concurrent evaluation changed the row first. With `ended_at IS NULL` and
`level_since <= ..` on the row itself, the second of two workers finds nothing left to do.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)

from escalations.models import EndReason, Escalation, EscalationLevel, Ticket

from .events import events_insert_ended, events_insert_moved_up
from .markers import markers_insert_ended, markers_insert_moved_up


def _ids(token: str) -> list[int]:
    return list(Escalation.objects.filter(run_token=token).order_by("pk").values_list("pk", flat=True))


def escalations_move_up(*, now: datetime, token: str) -> list[int]:
    """Move every open, unaccepted escalation whose level's `accept_within` ran out one level up."""
    current = EscalationLevel.objects.filter(pk=OuterRef(OuterRef("level_id")))
    next_level = EscalationLevel.objects.filter(
        policy_id=OuterRef("policy_id"), number__gt=Subquery(current.values("number"))
    ).order_by("number")
    accept_within = Subquery(
        EscalationLevel.objects.filter(pk=OuterRef("level_id")).values("accept_within"),
        output_field=DurationField(),
    )
    due_since = ExpressionWrapper(Value(now, output_field=DateTimeField()) - accept_within,
                                  output_field=DateTimeField())
    with transaction.atomic():
        moved = Escalation.objects.filter(
            Exists(next_level), ended_at__isnull=True, accepted_at__isnull=True, level_since__lte=due_since,
        ).update(level=Subquery(next_level.values("id")[:1]), level_since=now, run_token=token)
        if not moved:
            return []
        events_insert_moved_up(token=token, now=now)
        markers_insert_moved_up(token=token, now=now)
        return _ids(token)


def _end_reason():
    """When each reason applies (an open escalation's ticket), in the order they are told."""
    ticket = Ticket.objects.filter(pk=OuterRef("ticket_id"))
    gone = Exists(ticket.filter(Q(active=False) | Q(deleted_at__isnull=False)))
    solved = Exists(ticket.filter(stage__is_closed=True))
    in_scope = Exists(ticket.filter(
        team__escalation_policy=OuterRef("policy_id"), team__escalation_policy__active=True
    ))
    reason = Case(
        When(gone, then=Value(EndReason.DELETED)), When(solved, then=Value(EndReason.SOLVED)),
        default=Value(EndReason.OUT_OF_SCOPE),
    )
    return gone | solved | ~in_scope, reason


def escalations_end(*, now: datetime, token: str) -> list[int]:
    """End open escalations whose ticket was solved, archived, deleted, moved to another team, or
    whose policy was switched off."""
    condition, reason = _end_reason()
    with transaction.atomic():
        ended = Escalation.objects.filter(condition, ended_at__isnull=True).update(
            ended_at=now, end_reason=reason, run_token=token
        )
        if not ended:
            return []
        events_insert_ended(token=token, now=now)
        markers_insert_ended(token=token, now=now)
        return _ids(token)
