"""Hand-offs: for each breached ticket, where the time from its creation to its breach went, per stage
and per assignee, so that a breach is put down to the part of the path that used the time, not only to
whoever held the ticket last.

The stage path is the mirror's stage history (TicketStageChange, Odoo's times; changes between two
syncs are seen as one). The assignee path is what the console knows: its own assignments applied in
Odoo (accept, reassign, automation and undo; OdooAction `applied_at`, with the assignee the lead saw
before), the changes of assignee the sync saw (TicketAssigneeChange: those made in Odoo too, at the
ticket's write date; two within one sync are seen as the last), and Odoo's last assignment (the ticket's
`assigned_at`). Time before the first assignment known, made in Odoo after the ticket's creation with no
earlier record, counts as "not recorded".

Worked out in Python, per batch of breached tickets (four queries a batch), because the assignee path
comes from four tables; a pass only sees the tickets touched since the last one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from escalations.models import OdooAction, ReportFact, Ticket, TicketAssigneeChange, TicketStageChange

from .columns import of_tickets
from .sla import BREACHED

Figure = ReportFact.Figure
UNASSIGNED, UNKNOWN = "none", "unknown"
BATCH = 2_000


def _holder(value) -> str:
    """An Odoo many2one as the read gives it ([id, name] or False), or a written id, as a fact key."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return str(value) if value else UNASSIGNED


def spans(*, start: datetime, end: datetime, first: str, changes: Sequence[tuple[datetime, str]]) -> dict:
    """Seconds per holder between `start` and `end`: `first` until the first change, then each change's
    holder until the next. Changes before `start` or after `end` count only inside the window."""
    seconds: dict[str, int] = defaultdict(int)
    holder, since = first, start
    for at, new in [*changes, (end, None)]:
        lasted = (min(at, end) - max(since, start)).total_seconds()
        if lasted > 0:
            seconds[holder] += int(lasted)
        holder, since = new, at
    return dict(seconds)


def _stage_path(ticket: dict, changes: list[tuple]) -> tuple[str, list]:
    if not changes:
        return (str(ticket["stage_id"]) if ticket["stage_id"] else UNKNOWN), []
    first_from = changes[0][2]
    return (str(first_from) if first_from else UNKNOWN), [(at, str(stage) if stage else UNKNOWN)
                                                          for at, stage, _ in changes]


def _assignee_path(ticket: dict, applied: list[tuple], seen: Sequence[tuple] = ()) -> tuple[str, list]:
    """Who held the ticket first, and each change (time, holder) in time order. `applied`: the console's
    assignments applied in Odoo (time, values seen before, values written); `seen`: the changes the
    sync saw (time, assignee before, assignee after)."""
    known = sorted([(at, 0, _holder((before or {}).get("user_id")), _holder(after.get("user_id")))
                    for at, before, after in applied]
                   + [(at, 1, _holder(before), _holder(after)) for at, before, after in seen])
    path = [(at, after) for at, _, _, after in known]
    first = known[0][2] if known else None
    odoo_at = ticket["assigned_at"]
    if odoo_at is not None and (not path or odoo_at > path[-1][0]):
        path.append((odoo_at, _holder(ticket["assignee_id"])))
        if first is None:
            # Odoo's only assignment we know of: who held the ticket before it is not recorded, unless
            # it was assigned as it was created.
            first = UNKNOWN if odoo_at > ticket["created_at"] else path[0][1]
    if first is None:  # no assignment known at all: the assignee the mirror holds, throughout
        first = _holder(ticket["assignee_id"])
    return first, path


def _batch_rows(breaches: list[tuple]) -> Iterable[ReportFact]:
    ids = [ticket_id for ticket_id, _, _ in breaches]
    tickets = {t["odoo_id"]: t for t in Ticket.objects.filter(pk__in=ids).values(
        "odoo_id", "created_at", "stage_id", "assignee_id", "assigned_at")}
    stages = defaultdict(list)
    for ticket_id, at, stage, from_stage in TicketStageChange.objects.filter(ticket_id__in=ids).order_by(
            "ticket_id", "at", "pk").values_list("ticket_id", "at", "stage_id", "from_stage_id"):
        stages[ticket_id].append((at, stage, from_stage))
    applied = defaultdict(list)
    assignments = OdooAction.objects.filter(
        ticket_id__in=ids, state__in=OdooAction.APPLIED_STATES, applied_at__isnull=False,
        applied_values__has_key="user_id",
    ).order_by("ticket_id", "applied_at", "pk").values_list("ticket_id", "applied_at", "seen_values",
                                                             "applied_values")
    for ticket_id, at, seen, after in assignments:
        applied[ticket_id].append((at, seen, after))
    seen_changes = defaultdict(list)
    for ticket_id, at, before, after in TicketAssigneeChange.objects.filter(ticket_id__in=ids).order_by(
            "ticket_id", "at", "pk").values_list("ticket_id", "at", "from_assignee_id", "assignee_id"):
        seen_changes[ticket_id].append((at, before, after))
    for ticket_id, breach_at, team_id in breaches:
        ticket = tickets.get(ticket_id)
        start = ticket and ticket["created_at"]
        if start is None or start >= breach_at:
            continue
        for figure, (first, path) in (
            (Figure.HANDOFF_STAGE, _stage_path(ticket, stages[ticket_id])),
            (Figure.HANDOFF_AGENT, _assignee_path(ticket, applied[ticket_id], seen_changes[ticket_id])),
        ):
            for key, seconds in spans(start=start, end=breach_at, first=first, changes=path).items():
                yield ReportFact(figure=figure, key=key, team_id=team_id, ticket_id=ticket_id, at=breach_at,
                                 seconds=seconds)


def handoff_facts_insert(*, breached: Iterable[tuple[int, datetime, int | None]]) -> int:
    """Write the hand-off rows of these breaches ((ticket id, breach time, team id), from the SLA rows
    just written); returns how many."""
    written, batch = 0, []
    for breach in breached:
        batch.append(breach)
        if len(batch) == BATCH:
            written += len(ReportFact.objects.bulk_create(_batch_rows(batch), batch_size=1_000))
            batch = []
    if batch:
        written += len(ReportFact.objects.bulk_create(_batch_rows(batch), batch_size=1_000))
    return written


def breached_of(ticket_ids: Collection[int] | None) -> list[tuple[int, datetime, int | None]]:
    """The breaches among the SLA rows of these tickets (all when None). A list, read before any hand-off
    row is written: SQLite leaves a scan of a table undefined once the same connection writes to it."""
    facts = of_tickets(ReportFact.objects.filter(figure=Figure.SLA, key=BREACHED), "ticket", ticket_ids)
    return list(facts.order_by("ticket_id").values_list("ticket_id", "at", "team_id"))
