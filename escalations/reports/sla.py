"""SLA outcomes: per ticket with a deadline, whether they were all met or one was missed, when that
became known, and how much time was left on the tightest one when it was reached.

From the mirror's SLA records (Odoo's `sla_status_ids`, OCA's ticket SLAs), which Odoo keeps after the
ticket is solved. A deadline counts as reached when Odoo says so (`reached_at`), else when the ticket
was closed; Odoo's own "met" and "failed" decide where it gives no time (OCA). A ticket is counted:
- breached, at the first deadline it missed, as soon as one is missed (reached late, failed in Odoo,
  or passed without being reached);
- met, when every deadline is met, at the last one reached;
- not yet, while a deadline still runs and none was missed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import Case, Count, F, Max, Min, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from escalations.engine.sql import SecondsBetween
from escalations.models import ReportFact, SlaStatus

from .columns import of_tickets, selected, text

MET, BREACHED = "met", "breached"
State = SlaStatus.State


def _reached():
    """When the deadline was reached: Odoo's time, else the ticket's closing."""
    closed = Case(When(ticket__stage__is_closed=True, then=F("ticket__closed_at")))
    return Coalesce("reached_at", closed)


def _missed(now: datetime) -> Q:
    unreached_past = Q(r_reached__isnull=True, deadline__lte=now) & ~Q(state=State.MET)
    return Q(state=State.FAILED) | Q(r_reached__gt=F("deadline")) | unreached_past


def _running(now: datetime) -> Q:
    return Q(r_reached__isnull=True, deadline__gt=now) & ~Q(state__in=[State.MET, State.FAILED])


def sla_facts(*, ticket_ids: Collection[int] | None, now: datetime) -> QuerySet:
    statuses = of_tickets(SlaStatus.objects.filter(deadline__isnull=False), "ticket", ticket_ids)
    per_ticket = statuses.annotate(r_reached=_reached()).values("ticket_id", "ticket__team_id").annotate(
        first_missed=Min("deadline", filter=_missed(now)),
        running=Count("pk", filter=_running(now)),
        unreached=Count("pk", filter=Q(r_reached__isnull=True)),
        # Met in Odoo with no time given (OCA): the ticket's last change is the nearest moment known.
        last_reached=Max(Coalesce("r_reached", "ticket__odoo_write_date")),
        tightest=Min(SecondsBetween(F("deadline"), F("r_reached"))),
    ).filter(Q(first_missed__isnull=False) | Q(running=0))
    return selected(
        per_ticket, figure=ReportFact.Figure.SLA,
        key=Case(When(first_missed__isnull=False, then=text(BREACHED)), default=text(MET)),
        team="ticket__team_id", at=Coalesce("first_missed", "last_reached"), ticket="ticket_id",
        # Only once every deadline is reached: a missed one still running has no overrun yet.
        seconds=Case(When(unreached=0, then=F("tightest")), default=Value(None)),
    )
