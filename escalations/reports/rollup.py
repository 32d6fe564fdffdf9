"""The rollup pass beat runs (escalations.tasks.roll_up_reports): rebuild the report rows of every
ticket touched since the last pass, so that the Reports page only adds up rows.

A ticket is touched when the sync rewrote it (its values or its SLA records changed: `synced_at`), when
one of its deadlines passed unreached (a breach needs no write), when its escalation has a new event,
when a write-back was made or applied, when automation changed it or a change was undone; and every
pass takes the tickets whose write-backs were still pending at the last one (a failure or a
cancellation writes no time of its own). The first pass, or `full=True`, rebuilds every row.

Each source is one INSERT .. SELECT over the touched tickets (escalations.reports.sla and its siblings);
only hand-offs are worked out in Python, for the breached tickets among them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from escalations.bulk import among
from escalations.engine.sql import insert_select
from escalations.models import (
    AutomationChange,
    EscalationEvent,
    OdooAction,
    ReportFact,
    ReportRollup,
    SlaStatus,
    Ticket,
)

from . import automation, escalations, sla, writeback
from .columns import COLUMNS
from .handoffs import breached_of, handoff_facts_insert

# Rows a transaction wrote with a time just before the last pass began, and committed after it read:
# taken again by the next pass.
OVERLAP = timedelta(minutes=10)

SOURCES: list[Callable] = [
    sla.sla_facts,
    escalations.closed_facts, escalations.raised_facts, escalations.level_facts, escalations.accepted_facts,
    escalations.timeout_facts, escalations.deescalated_facts, escalations.ended_facts,
    writeback.action_facts, writeback.action_end_facts, writeback.confirmed_facts,
    automation.automated_facts, automation.undone_facts, automation.handed_facts,
    automation.unattended_facts,
]


@dataclass(frozen=True)
class RollupResult:
    full: bool
    tickets: int  # tickets rebuilt (0 on a full pass: every one)


def touched_tickets(*, since: datetime, now: datetime) -> list[int]:
    """The tickets whose report rows may have changed since `since` (one query)."""
    pending = ReportFact.objects.filter(figure=ReportFact.Figure.ACTION_END, key=writeback.PENDING)
    parts = [
        Ticket.objects.filter(synced_at__gte=since).values_list("pk"),
        SlaStatus.objects.filter(deadline__gte=since, deadline__lt=now, reached_at__isnull=True)
        .values_list("ticket_id"),
        EscalationEvent.objects.filter(at__gte=since).values_list("escalation__ticket_id"),
        OdooAction.objects.filter(Q(created_at__gte=since) | Q(applied_at__gte=since))
        .values_list("ticket_id"),
        pending.values_list("ticket_id"),
        AutomationChange.objects.filter(Q(at__gte=since) | Q(undone_at__gte=since)).values_list("ticket_id"),
    ]
    first, *rest = [part.order_by() for part in parts]
    return sorted(row[0] for row in first.union(*rest))


def _rebuild(ticket_ids: list[int] | None, *, now: datetime) -> None:
    old = ReportFact.objects.all()
    if ticket_ids is not None:
        old = old.filter(among(ReportFact, "ticket", ticket_ids))
    old.delete()
    for source in SOURCES:
        insert_select(ReportFact, COLUMNS, source(ticket_ids=ticket_ids, now=now), returning=False)
    handoff_facts_insert(breached=breached_of(ticket_ids))


def report_rollup(*, now: datetime | None = None, full: bool = False) -> RollupResult:
    """One pass: rebuild the rows of the tickets touched since the last pass (all of them if `full` or
    on the first pass). Passes never overlap: each holds the bookkeeping row's lock (on PostgreSQL;
    SQLite writes one transaction at a time anyway)."""
    now = now or timezone.now()
    with transaction.atomic():
        ReportRollup.objects.get_or_create(pk=1)
        state = ReportRollup.objects.select_for_update().get(pk=1)
        full = full or state.last_started_at is None
        ticket_ids = None if full else touched_tickets(since=state.last_started_at - OVERLAP, now=now)
        if full or ticket_ids:
            _rebuild(ticket_ids, now=now)
        ReportRollup.objects.filter(pk=1).update(
            last_started_at=now, last_finished_at=timezone.now(), last_full=full,
            last_tickets=0 if ticket_ids is None else len(ticket_ids),
        )
    return RollupResult(full=full, tickets=0 if ticket_ids is None else len(ticket_ids))
