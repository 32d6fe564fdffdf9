"""Writing each open ticket's clock (TicketClock) so that the engine can query it in the database.

A clock changes only when its ticket, its team's policy or a calendar changes, never because time
passes (deadlines and at-risk moments are absolute), so the sync writes the clocks of each page of
tickets it saves in that page's transaction (`refresh_saved_clocks`, from the rows it has just written:
nothing is read back), and a team's tickets are refreshed when its policy or calendar changes.

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

from escalations import bulk
from escalations.models import SlaStatus, Stage, Ticket, TicketClock, TicketStageChange

from .compute import StatusFact, ticket_clock
from .rules import TeamRules

BATCH = 2000
_READING = ["deadline", "source", "window_start", "at_risk_at", "paused"]
# A clock's reading, compared to see whether it moved (window_start is always the ticket's creation).
CLOCK_READING = ["deadline", "source", "at_risk_at", "paused"]
_TICKET_FIELDS = [
    "odoo_id", "team_id", "stage_id", "created_at", "active", "deleted_at",
    *(f"clock__{name}" for name in CLOCK_READING),
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
    closed_stages = closed_stage_ids()
    written = 0
    for batch in _batches(ticket_ids=ticket_ids, team_ids=team_ids, closed_stages=closed_stages):
        # clock__source is None only when the ticket has no clock row (the column is never null).
        current = {t["odoo_id"]: _held_reading(t) for t in batch if t["clock__source"] is not None}
        open_ones = [t for t in batch if _is_open(t, closed_stages)]
        statuses = _statuses([t["odoo_id"] for t in open_ones])
        written += _refresh_batch(open_ones, batch, current, statuses=statuses, rules=rules, now=now)
    if ticket_ids is None:
        drop_stale_clocks(team_ids=team_ids)
    return written


def refresh_saved_clocks(
    tickets: list[dict], statuses: dict[int, list[dict]], current: dict[int, tuple], *, created: set[int],
    rules: TeamRules, now: datetime, closed_stages: set[int] | None = None,
    created_changes: dict[int, list[tuple]] | None = None,
) -> int:
    """Write the clocks of tickets the sync is saving, in its transaction, from the rows it writes.

    `tickets`: mirror rows as escalations.sync.mapping builds them; `statuses`: their SlaStatus rows by
    ticket; `current`: the reading (deadline, source, at_risk_at, paused) of the clocks they have;
    `created`: the ids of those the transaction creates, and `created_changes` their whole stage
    history, (at, stage id) in time order, which the transaction writes (so it is not read back);
    `closed_stages`: the ids of closed stages, if the caller holds them. Reading them back from the
    database would cost more than computing the clocks. Returns the number of clocks written (new or
    changed)."""
    if closed_stages is None:
        closed_stages = closed_stage_ids()
    open_ones = [t for t in tickets if _is_open(t, closed_stages)]
    facts = {
        odoo_id: [StatusFact(s["state"], s["deadline"]) for s in rows] for odoo_id, rows in statuses.items()
    }
    return _refresh_batch(open_ones, tickets, current, statuses=facts, rules=rules, now=now, created=created,
                          created_changes=created_changes)


def closed_stage_ids() -> set[int]:
    return set(Stage.objects.filter(is_closed=True).values_list("odoo_id", flat=True))


def _held_reading(ticket: dict) -> tuple:
    return tuple(ticket[f"clock__{name}"] for name in CLOCK_READING)


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


def _refresh_batch(
    open_ones: list[dict], tickets: list[dict], current: dict[int, tuple], *,
    statuses: dict[int, list[StatusFact]], rules: TeamRules, now: datetime, created: set[int] = frozenset(),
    created_changes: dict[int, list[tuple]] | None = None,
) -> int:
    """Write the clocks of `open_ones` whose reading differs from `current` (or that have none), and
    delete those of the other `tickets`. `created_changes`: the stage history of the `created` tickets,
    when the caller has it (else it is read like the others')."""
    ids = [t["odoo_id"] for t in open_ones]
    # Stage history matters only where the console plans the deadline itself.
    planned = [
        t["odoo_id"] for t in open_ones if not statuses.get(t["odoo_id"]) and rules.of(t["team_id"]).target
    ]
    if created_changes is None:
        changes = _stage_changes(planned)
    else:
        changes = _stage_changes([i for i in planned if i not in created])
        changes.update((i, created_changes[i]) for i in planned if i in created and i in created_changes)
    rows = []
    for t in open_ones:
        clock = ticket_clock(
            statuses=statuses.get(t["odoo_id"], ()), created_at=t["created_at"], stage_id=t["stage_id"],
            stage_changes=changes.get(t["odoo_id"], ()), rules=rules.of(t["team_id"]),
        )
        if current.get(t["odoo_id"]) != (clock.deadline, clock.source, clock.at_risk_at, clock.paused):
            rows.append({"ticket_id": t["odoo_id"], **vars(clock), "computed_at": now})
    # Tickets no longer open that still have a clock lose it.
    open_ids = set(ids)
    closed = [t["odoo_id"] for t in tickets if t["odoo_id"] not in open_ids and t["odoo_id"] in current]
    with transaction.atomic(savepoint=False):
        # A ticket created in the caller's transaction has no clock, and nobody else can give it one
        # before it commits: a plain insert, with no merge.
        bulk.insert(TicketClock, [r for r in rows if r["ticket_id"] in created])
        bulk.upsert(TicketClock, [r for r in rows if r["ticket_id"] not in created],
                    update_fields=[*_READING, "computed_at"], unique_field="ticket")
        if closed:
            TicketClock.objects.filter(bulk.among(TicketClock, "ticket", closed)).delete()
    return len(rows)


def _is_open(ticket: dict, closed_stages: set[int]) -> bool:
    # The same rule as Ticket.objects.open().
    return ticket["active"] and ticket["deleted_at"] is None and ticket["stage_id"] not in closed_stages


def _statuses(ids: list[int]) -> dict[int, list[StatusFact]]:
    out: dict[int, list[StatusFact]] = defaultdict(list)
    if not ids:
        return out
    rows = SlaStatus.objects.filter(bulk.among(SlaStatus, "ticket", ids))
    for ticket_id, state, deadline in rows.values_list("ticket_id", "state", "deadline"):
        out[ticket_id].append(StatusFact(state, deadline))
    return out


def _stage_changes(ids: list[int]) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = defaultdict(list)
    if ids:
        rows = TicketStageChange.objects.filter(bulk.among(TicketStageChange, "ticket", ids))
        rows = rows.order_by("ticket_id", "at", "id")
        for ticket_id, at, stage_id in rows.values_list("ticket_id", "at", "stage_id"):
            out[ticket_id].append((at, stage_id))
    return out


def drop_stale_clocks(*, team_ids: Iterable[int] | None = None) -> None:
    """Clocks of tickets that are no longer open (or of the teams' tickets that are not)."""
    stale = TicketClock.objects.exclude(ticket__in=Ticket.objects.open())
    if team_ids is not None:
        stale = stale.filter(ticket__team_id__in=list(team_ids))
    stale.delete()
