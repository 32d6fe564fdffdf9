"""Routine automation: changes by rule, undos (in the week of the undo), tickets a rule handed to a
person, and the honest-limit figure: tickets automation changed that were then closed with no person's
activity seen (escalations.automation.figures; it must stay 0). Under the ticket's team."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast, Coalesce

from escalations.automation.figures import closed_without_a_person
from escalations.models import AutomationChange, ReportFact

from .columns import of_tickets, selected, text

Figure, Outcome = ReportFact.Figure, AutomationChange.Outcome


def _rule():
    return Cast("rule_id", output_field=CharField())


def _changes(ticket_ids: Collection[int] | None) -> QuerySet:
    return of_tickets(AutomationChange.objects.all(), "ticket", ticket_ids)


def automated_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    made = _changes(ticket_ids).exclude(outcome=Outcome.HANDED)
    return selected(made, figure=Figure.AUTOMATED, key=_rule(), team="ticket__team_id", at="at",
                    ticket="ticket_id")


def undone_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    undone = _changes(ticket_ids).filter(outcome=Outcome.UNDONE)
    return selected(undone, figure=Figure.UNDONE, key=_rule(), team="ticket__team_id",
                    at=Coalesce("undone_at", "at"), ticket="ticket_id")


def handed_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    handed = _changes(ticket_ids).filter(outcome=Outcome.HANDED)
    return selected(handed, figure=Figure.HANDED, key=_rule(), team="ticket__team_id", at="at",
                    ticket="ticket_id")


def unattended_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    """In the week the ticket was closed (an archived ticket without a closing time: its last change)."""
    closed = of_tickets(closed_without_a_person(), "odoo_id", ticket_ids)
    return selected(closed, figure=Figure.UNATTENDED, key=text(""), team="team_id",
                    at=Coalesce("closed_at", "odoo_write_date"), ticket="pk")
