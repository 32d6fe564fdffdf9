"""Writing each open ticket's clock (TicketClock) so that the engine can query it in the database.

A clock changes only when its ticket, its team's policy or a calendar changes, never because time
passes (deadlines and at-risk moments are absolute), so it is refreshed after each sync for the
tickets the sync saved, and for a team's tickets when its policy or calendar changes.

Batches of `BATCH` tickets, each in a constant number of queries: the tickets with their current
clock (one join), their SLA statuses, their stage history (only for tickets on a computed deadline),
one upsert and one delete. Policies and calendars are loaded once per refresh. Only clocks whose
reading changed are written, so `computed_at` is when the reading last changed, and the hourly full
sync's refresh of every open ticket writes little.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from escalations.models import SlaStatus, Stage, Ticket, TicketClock, TicketStageChange
from escalations.sync import bulk

from .compute import StatusFact, ticket_clock
from .rules import TeamRules

BATCH = 2000
_READING = ["deadline", "source", "window_start", "at_risk_at", "paused"]
# window_start is always the ticket's creation: no need to read it back to see whether a clock moved.
_COMPARED = ["deadline", "source", "at_risk_at", "paused"]
_TICKET_FIELDS = [
    "odoo_id", "team_id", "stage_id", "created_at", "active", "deleted_at",
    *(f"clock__{name}" for name in _COMPARED),
]


def refresh_clocks(
    *,
    ticket_ids: Iterable[int] | None = None,
    team_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute the clocks of these tickets (or of the open tickets of these teams, or of all open
    tickets); closed, archived and deleted tickets lose theirs. Returns the number of clocks written
    (new or changed)."""
    now = now or timezone.now()
    rules = TeamRules()
    closed_stages = set(Stage.objects.filter(is_closed=True).values_list("odoo_id", flat=True))
    written = 0
    for batch in _batches(ticket_ids=ticket_ids, team_ids=team_ids, closed_stages=closed_stages):
        open_ones = [t for t in batch if _is_open(t, closed_stages)]
        written += _refresh_batch(open_ones, batch, rules=rules, now=now)
    if ticket_ids is None:
        _drop_stale_clocks(team_ids=team_ids)
    return written


def _batches(*, ticket_ids, team_ids, closed_stages: set[int]) -> Iterator[list[dict]]:
    if ticket_ids is not None:
        ids = sorted(set(ticket_ids))
        for start in range(0, len(ids), BATCH):  # chunks, or SQLite runs out of query parameters
            yield list(Ticket.objects.filter(odoo_id__in=ids[start : start + BATCH]).values(*_TICKET_FIELDS))
        return
    # Ticket.objects.open() without its join on the stage: with the join, PostgreSQL reads every
    # remaining open ticket for each page before it sorts; without it, it walks the primary key.
    scope = Ticket.objects.filter(active=True, deleted_at=None).exclude(stage_id__in=closed_stages)
    if team_ids is not None:
        scope = scope.filter(team_id__in=list(team_ids))
    last = -1
    while True:  # keyset pages: each query is as cheap as the first
        batch = list(scope.filter(odoo_id__gt=last).order_by("odoo_id").values(*_TICKET_FIELDS)[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1]["odoo_id"]


def _refresh_batch(open_ones: list[dict], tickets: list[dict], *, rules: TeamRules, now: datetime) -> int:
    ids = [t["odoo_id"] for t in open_ones]
    statuses = _statuses(ids)
    # Stage history matters only where the console plans the deadline itself.
    planned = [
        t["odoo_id"] for t in open_ones if not statuses.get(t["odoo_id"]) and rules.of(t["team_id"]).target
    ]
    changes = _stage_changes(planned)
    rows = []
    for t in open_ones:
        clock = ticket_clock(
            statuses=statuses.get(t["odoo_id"], ()), created_at=t["created_at"], stage_id=t["stage_id"],
            stage_changes=changes.get(t["odoo_id"], ()), rules=rules.of(t["team_id"]),
        )
        if _changed(t, clock):
            rows.append({"ticket_id": t["odoo_id"], **vars(clock), "computed_at": now})
    # Tickets no longer open that still have a clock lose it.
    open_ids = set(ids)
    closed = [t["odoo_id"] for t in tickets if t["odoo_id"] not in open_ids and t["clock__source"]]
    with transaction.atomic():
        bulk.upsert(TicketClock, rows, update_fields=[*_READING, "computed_at"], unique_field="ticket")
        if closed:
            TicketClock.objects.filter(ticket_id__in=closed).delete()
    return len(rows)


def _changed(ticket: dict, clock) -> bool:
    # clock__source is None only when the ticket has no clock row yet (the column is never null).
    return ticket["clock__source"] is None or any(
        ticket[f"clock__{name}"] != getattr(clock, name) for name in _COMPARED
    )


def _is_open(ticket: dict, closed_stages: set[int]) -> bool:
    # The same rule as Ticket.objects.open().
    return ticket["active"] and ticket["deleted_at"] is None and ticket["stage_id"] not in closed_stages


def _statuses(ids: list[int]) -> dict[int, list[StatusFact]]:
    out: dict[int, list[StatusFact]] = defaultdict(list)
    if not ids:
        return out
    for ticket_id, state, deadline in SlaStatus.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "state", "deadline"
    ):
        out[ticket_id].append(StatusFact(state, deadline))
    return out


def _stage_changes(ids: list[int]) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = defaultdict(list)
    if ids:
        rows = TicketStageChange.objects.filter(ticket_id__in=ids).order_by("ticket_id", "at", "id")
        for ticket_id, at, stage_id in rows.values_list("ticket_id", "at", "stage_id"):
            out[ticket_id].append((at, stage_id))
    return out


def _drop_stale_clocks(*, team_ids) -> None:
    """Clocks of tickets that are no longer open (or of the teams' tickets that are not)."""
    stale = TicketClock.objects.exclude(ticket__in=Ticket.objects.open())
    if team_ids is not None:
        stale = stale.filter(ticket__team_id__in=list(team_ids))
    stale.delete()
