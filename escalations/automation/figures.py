"""What the rules page shows of each rule, and the honest-limit figure.

The honest limit: automation never closes a ticket, so a ticket that automation changed and that was
then closed with no person's activity the console can see (no change by a person in Odoo after the
automated one, no action by a person from the console) is a sign that something went wrong, in the
console's rules or in Odoo's own automation. The figure must stay 0; the page lists any such ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from escalations.models import AutomationChange, AutomationRule, OdooAction, SyncState, Ticket

from .scope import written_by_person

Outcome = AutomationChange.Outcome


@dataclass(frozen=True)
class RuleFigures:
    runs: int = 0
    changes: int = 0
    undos: int = 0
    handed: int = 0


def rule_figures() -> dict[int, RuleFigures]:
    """Each rule's passes that acted, changes, undos and tickets handed to people: one query."""
    rows = AutomationChange.objects.values("rule_id").order_by().annotate(
        runs=Count("run", distinct=True),
        changes=Count("pk", filter=~Q(outcome=Outcome.HANDED)),
        undos=Count("pk", filter=Q(outcome=Outcome.UNDONE)),
        handed=Count("pk", filter=Q(outcome=Outcome.HANDED)),
    )
    return {r.pop("rule_id"): RuleFigures(**r) for r in rows}


def closed_without_a_person() -> QuerySet[Ticket]:
    """Tickets automation changed that are now closed with no person's activity seen since."""
    automated = AutomationChange.objects.filter(ticket_id=OuterRef("pk")).exclude(outcome=Outcome.HANDED)
    person_in_console = OdooAction.objects.filter(ticket_id=OuterRef("pk"), created_by__isnull=False)
    closed = Q(stage__is_closed=True) | Q(active=False)
    return (Ticket.objects.filter(closed, deleted_at__isnull=True).filter(Exists(automated))
            .exclude(written_by_person(SyncState.console_uid())).exclude(Exists(person_in_console)))


def rules_with_figures() -> list[tuple[AutomationRule, RuleFigures]]:
    figures = rule_figures()
    rules = AutomationRule.objects.prefetch_related("teams").order_by("name", "pk")
    return [(rule, figures.get(rule.pk, RuleFigures())) for rule in rules]
