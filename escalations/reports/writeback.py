"""Write-backs to Odoo (the outbox): every action by kind, and those that did not simply go through:
failed, cancelled, changed by Odoo (it kept another assignee or team), still pending, and those a lead
applied anyway after Odoo's copy had changed (stale, then confirmed). Counted in the week the action
was made, under the ticket's team."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import Case, CharField, QuerySet, When

from escalations.models import OdooAction, ReportFact

from .columns import of_tickets, selected, text

Figure, State = ReportFact.Figure, OdooAction.State
FAILED, CANCELLED, CHANGED, PENDING, CONFIRMED = "failed", "cancelled", "changed", "pending", "confirmed"
# Not final: the rollup rebuilds the rows of tickets with a pending action at every pass.
PENDING_STATES = [State.QUEUED, State.INFLIGHT, State.AWAITING_RETRY, State.STALE]


def _actions(ticket_ids: Collection[int] | None) -> QuerySet:
    return of_tickets(OdooAction.objects.all(), "ticket", ticket_ids)


def action_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    return selected(_actions(ticket_ids), figure=Figure.ACTION, key="kind", team="ticket__team_id",
                    at="created_at", ticket="ticket_id")


def action_end_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    ends = _actions(ticket_ids).exclude(state=State.SENT)
    key = Case(
        When(state=State.FAILED, then=text(FAILED)), When(state=State.CANCELLED, then=text(CANCELLED)),
        When(state=State.CHANGED, then=text(CHANGED)), default=text(PENDING), output_field=CharField(),
    )
    return selected(ends, figure=Figure.ACTION_END, key=key, team="ticket__team_id", at="created_at",
                    ticket="ticket_id")


def confirmed_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    confirmed = _actions(ticket_ids).filter(confirmed=True)
    return selected(confirmed, figure=Figure.CONFIRMED, key=text(CONFIRMED), team="ticket__team_id",
                    at="created_at", ticket="ticket_id")
