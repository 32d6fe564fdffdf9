"""Escalations: raised (by trigger), the highest level each reached, time to accept, move-ups for want
of an acceptance, de-escalations (by the lead's reason), how each ended; and closed tickets, escalated
or not, for the escalation rate.

Counted under the team of the escalation's policy (the team that was asked), from the escalations and
their append-only history (EscalationEvent).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import Case, CharField, Exists, F, Max, Min, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Cast, Coalesce, Greatest, Lower, Substr, Trim

from escalations.bulk import among
from escalations.engine.sql import SecondsBetween
from escalations.models import Escalation, EscalationEvent, ReportFact, Ticket

from .columns import of_tickets, selected, text

Figure, Kind = ReportFact.Figure, EscalationEvent.Kind
ESCALATED, NOT_ESCALATED = "escalated", "not_escalated"
REASON_LENGTH = 100


def _escalations(ticket_ids: Collection[int] | None) -> QuerySet:
    return of_tickets(Escalation.objects.all(), "ticket", ticket_ids)


def _events(ticket_ids: Collection[int] | None, kind: str) -> QuerySet:
    events = EscalationEvent.objects.filter(kind=kind)
    if ticket_ids is None:
        return events
    # The escalations' ids first (a query): as `escalation IN (SELECT ..)`, SQLite ran the subquery's
    # ticket filter for every event of the kind, a second per thousand escalations.
    escalation_ids = list(_escalations(ticket_ids).values_list("pk", flat=True))
    return events.filter(among(EscalationEvent, "escalation", escalation_ids))


def _number(expression) -> Cast:
    return Cast(expression, output_field=CharField())


def raised_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    return selected(_escalations(ticket_ids), figure=Figure.RAISED, key="trigger", team="policy__team_id",
                    at="raised_at", ticket="ticket_id")


def level_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    """The highest level each escalation reached (raised there, moved up since, by the engine or by
    hand), in the week it was raised."""
    highest_event = EscalationEvent.objects.filter(escalation=OuterRef("pk")).order_by().values(
        "escalation").annotate(top=Max("to_level__number")).values("top")
    highest = Greatest(Coalesce(Subquery(highest_event), F("level__number")), F("level__number"))
    return selected(_escalations(ticket_ids), figure=Figure.LEVEL, key=_number(highest),
                    team="policy__team_id", at="raised_at", ticket="ticket_id")


def accepted_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    """Each escalation's first acceptance, and how long after it was raised."""
    first = EscalationEvent.objects.filter(escalation=OuterRef("pk"), kind=Kind.ACCEPTED).order_by().values(
        "escalation").annotate(first=Min("at")).values("first")
    accepted = _escalations(ticket_ids).annotate(first_accept=Subquery(first)).filter(
        first_accept__isnull=False)
    return selected(accepted, figure=Figure.ACCEPTED, key=text(""), team="policy__team_id", at="first_accept",
                    ticket="ticket_id", seconds=SecondsBetween(F("first_accept"), F("raised_at")))


def timeout_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    """The engine's move-ups: nobody at the level accepted within its time (a move by hand has an actor)."""
    moves = _events(ticket_ids, Kind.MOVED_UP).filter(actor__isnull=True)
    return selected(moves, figure=Figure.TIMEOUT, key=_number("to_level__number"),
                    team="escalation__policy__team_id", at="at", ticket="escalation__ticket_id")


def deescalated_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    """A lead's de-escalations, by their reason (the same words in any case count together)."""
    reason = Substr(Lower(Trim("reason")), 1, REASON_LENGTH)
    return selected(_events(ticket_ids, Kind.DE_ESCALATED), figure=Figure.DEESCALATED, key=reason,
                    team="escalation__policy__team_id", at="at", ticket="escalation__ticket_id")


def ended_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    ended = _escalations(ticket_ids).filter(ended_at__isnull=False)
    return selected(ended, figure=Figure.ENDED, key="end_reason", team="policy__team_id", at="ended_at",
                    ticket="ticket_id")


def closed_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    """Tickets closed (in a closing stage), escalated before they closed or not: the escalation rate is
    the share escalated among the tickets the team closed that week."""
    closed = Ticket.objects.filter(stage__is_closed=True, closed_at__isnull=False)
    closed = of_tickets(closed, "odoo_id", ticket_ids)
    escalated = Escalation.objects.filter(ticket_id=OuterRef("pk"), raised_at__lte=OuterRef("closed_at"))
    key = Case(When(Exists(escalated), then=text(ESCALATED)), default=text(NOT_ESCALATED),
                 output_field=CharField())
    return selected(closed, figure=Figure.CLOSED, key=key, team="team_id", at="closed_at", ticket="pk",
                    seconds=None)

