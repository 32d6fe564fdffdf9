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
    """Move every open, unaccepted escalation whose level's `accept_within` ran out one level up.

    Except those of tickets Odoo no longer shows the console (Ticket.invisible_since): they wait at
    their level. The console cannot see what became of the ticket (it may be solved), so paging the
    next level about it would be an alarm on stale data, and its people could not act on it here
    (Odoo refuses the console's writes). Ending it would be worse: a lead would lose a ticket that
    may still burn. Waiting, flagged on the ticket's page and the sync health line, lets the lead fix
    the console's access in Odoo or de-escalate it; once Odoo shows the ticket again it moves on.
    """
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
    hidden = Ticket.objects.filter(pk=OuterRef("ticket_id"), invisible_since__isnull=False)
    with transaction.atomic():
        moved = Escalation.objects.filter(
            Exists(next_level), ~Exists(hidden), ended_at__isnull=True, accepted_at__isnull=True,
            level_since__lte=due_since,
        ).update(level=Subquery(next_level.values("id")[:1]), level_since=now, run_token=token)
        if not moved:
            return []
        events_insert_moved_up(token=token, now=now)
        markers_insert_moved_up(token=token, now=now)
        return _ids(token)


def _end_reason():
    """When each reason applies (an open escalation's ticket), in the order they are told."""
    ticket = Ticket.objects.filter(pk=OuterRef("ticket_id"))
    # Deleted means Odoo confirmed it (`exists`); a ticket Odoo only hides from the console
    # (invisible_since) is not gone, and its escalation waits (escalations_move_up).
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
