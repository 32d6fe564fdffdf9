"""Writing Odoo pages into the mirror, in bulk: one write per model per page, never row by row.

A page is mapped to mirror rows where it is read (`mirror_page`, in the reading thread: no database),
then the rows whose Odoo values changed are written in one transaction with their clocks and the
cursor (`save_ticket_page`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q

from escalations import bulk
from escalations.models import (
    Agent,
    Customer,
    SlaStatus,
    Stage,
    SyncState,
    Tag,
    Team,
    Ticket,
    TicketAssigneeChange,
    TicketClock,
    TicketStageChange,
)
from escalations.odoo.schema import HelpdeskSchema
from escalations.sla.refresh import CLOCK_READING, closed_stage_ids, refresh_saved_clocks
from escalations.sla.rules import TeamRules

from . import mapping

_TICKET_UPDATE_FIELDS = [f.name for f in Ticket._meta.concrete_fields if not f.primary_key]
_KEPT_WHILE_SAME = ("odoo_digest", ["odoo_write_date", "odoo_write_uid"])


def save_teams(rows):
    fields = ["name", "active", "use_sla", "calendar_odoo_id", "odoo_assigns"]
    teams = [mapping.team_row(r) for r in rows]
    members = {team["odoo_id"]: team.pop("member_odoo_ids") for team in teams}
    bulk.upsert(Team, teams, update_fields=fields)
    _save_members(members)


def _save_members(members: dict[int, list[int]]) -> None:
    """Replace the teams' members, two queries for all of them. A member the mirror does not hold yet
    (a user created since its users were read) is left out until the next sync reads both."""
    if not members:
        return
    through = Team.members.through
    known = set(Agent.objects.filter(odoo_id__in={a for ids in members.values() for a in ids})
                .values_list("odoo_id", flat=True))
    with transaction.atomic():
        through.objects.filter(team_id__in=list(members)).delete()
        through.objects.bulk_create(
            [through(team_id=team, agent_id=agent) for team, ids in members.items() for agent in ids
             if agent in known]
        )


def save_stages(rows):
    bulk.upsert(
        Stage, [mapping.stage_row(r) for r in rows], update_fields=["name", "sequence", "is_closed", "active"]
    )


def save_agents(rows):
    fields = ["name", "login", "email", "active", "resource_odoo_id"]
    bulk.upsert(Agent, [mapping.agent_row(r) for r in rows], update_fields=fields)


def save_tags(rows):
    bulk.upsert(Tag, [mapping.tag_row(r) for r in rows], update_fields=["name"])


class MirrorPage:
    """A page of Odoo tickets and the mirror rows they become, each keyed by ticket id.

    Rows are mapped on demand (`map`): an incremental sync that re-reads unchanged tickets needs
    only their digests, while a full sync maps every row in the reading thread.
    """

    def __init__(self, rows: list[dict], sla_rows: list[dict], *, schema: HelpdeskSchema,
                 synced_at: datetime):
        self._rows = {r["id"]: r for r in rows}
        self._sla_rows: dict[int, list[dict]] = {}
        for sla in sla_rows:
            self._sla_rows.setdefault(sla["ticket_id"][0], []).append(sla)
        self.digests = mapping.page_digests(rows, self._sla_rows)
        self.tickets: dict[int, dict] = {}  # Ticket rows, with their odoo_digest
        self.statuses: dict[int, list[dict]] = {}  # SlaStatus rows, for tickets that have some
        self.tag_ids: dict[int, list[int]] = {}
        self.customers: dict[int, dict] = {}  # the ticket's Customer row, for those that have one
        self._schema = schema
        self._ticket_row = mapping.ticket_mapper(schema, synced_at=synced_at)

    @property
    def ids(self) -> set[int]:
        return set(self._rows)

    def map(self, ids: Iterable[int]) -> None:
        """Map these tickets' rows, once each."""
        for odoo_id in ids:
            if odoo_id not in self.tickets:
                self._map(self._rows[odoo_id])

    def _map(self, row: dict) -> None:
        schema, odoo_id = self._schema, row["id"]
        ticket = self.tickets[odoo_id] = self._ticket_row(row)
        ticket["odoo_digest"] = self.digests[odoo_id]
        if schema.sla_model:
            statuses = [mapping.sla_status_row(r, schema.sla_model) for r in self._sla_rows.get(odoo_id, ())]
            ticket["sla_deadline"] = mapping.nearest_deadline(statuses)
        else:  # OCA 16: the deadline on the ticket
            statuses = [status] if (status := mapping.ticket_level_sla(ticket)) else []
        if statuses:
            self.statuses[odoo_id] = statuses
        if tag_field := schema.ticket_fields.get("tags"):
            self.tag_ids[odoo_id] = row.get(tag_field) or []
        if customer := mapping.customer_row(row, schema):
            self.customers[odoo_id] = customer


def mirror_page(rows: list[dict], sla_rows: list[dict], *, schema: HelpdeskSchema, synced_at: datetime,
                map_all: bool) -> MirrorPage:
    """The page with its digests, and with every row mapped if `map_all` (a full sync writes them all).

    Pure: the reading thread runs it while the main thread waits on the database for the page
    before, so that mapping overlaps with writing."""
    page = MirrorPage(rows, sla_rows, schema=schema, synced_at=synced_at)
    if map_all:
        page.map(page.ids)
    return page


class Held(NamedTuple):
    """What the mirror holds of a ticket that a page brings again (datetimes left out: reading 20,000
    of them back cost more than the rest of a sync that finds nothing changed)."""

    active: bool
    gone: bool  # marked deleted or invisible
    stage_id: int | None
    digest: str
    assignee_id: int | None


def held_tickets(ids: Iterable[int] | None = None) -> dict[int, Held]:
    """What the mirror holds of these tickets (of every ticket if None), by id."""
    gone = Q(deleted_at__isnull=False) | Q(invisible_since__isnull=False)
    rows = Ticket.objects.all() if ids is None else Ticket.objects.filter(bulk.among(Ticket, "odoo_id", ids))
    rows = (
        rows.order_by().annotate(gone=ExpressionWrapper(gone, output_field=BooleanField()))
        .values_list("odoo_id", "active", "gone", "stage_id", "odoo_digest", "assignee_id")
    )
    return {odoo_id: Held(*held) for odoo_id, *held in rows}


def changed_ticket_ids(
    digests: dict[int, str], held: dict[int, Held] | None = None,
) -> tuple[set[int], dict[int, Held]]:
    """Ids in the page that are new, back after being marked deleted or invisible, or whose values
    changed in Odoo (their digest, see mapping.page_digests): a write_date that moved alone changes
    nothing. Also returns what the mirror holds of each ticket it knows. `held`: what the mirror holds
    of every ticket, if the caller keeps it (a full sync, which reads them all), else it is read."""
    if held is None:
        known = held_tickets(digests)
    else:
        known = {i: held[i] for i in digests if i in held}
    changed = {i for i, held in known.items() if held.gone or held.digest != digests[i]}
    return changed | (digests.keys() - known.keys()), known


def _current_clocks(ids: list[int]) -> dict[int, tuple]:
    """The reading (deadline, source, at_risk_at, paused) of the clocks these tickets have."""
    if not ids:
        return {}
    rows = TicketClock.objects.filter(bulk.among(TicketClock, "ticket", ids))
    return {i: tuple(reading) for i, *reading in rows.values_list("ticket_id", *CLOCK_READING)}


@dataclass
class PageCounts:
    created: int = 0
    updated: int = 0
    archived: int = 0
    clocks: int = 0  # TicketClock rows written
    clock_seconds: float = 0.0


@dataclass
class SyncWrites:
    """What the pages of one sync share: the teams' clock rules, loaded once; the customers already
    written, which many tickets share (a customer is written again only if it changed); and the cursor
    of pages that had nothing to write, not saved yet (`flush_cursor`)."""

    rules: TeamRules
    synced_at: datetime
    customers: dict[int, dict] = field(default_factory=dict)
    cursor: tuple[datetime, int] | None = None
    # What the mirror holds of every ticket, kept up to date page by page, when the sync keeps it (a full
    # sync reads every ticket: one query at its start instead of one per page). Only the sync writes
    # tickets, and it holds the lease.
    held: dict[int, Held] | None = None
    # The closed stages' ids, read once (None: to read again, after the pages brought stages).
    closed_stages: set[int] | None = None

    def closed(self) -> set[int]:
        if self.closed_stages is None:
            self.closed_stages = closed_stage_ids()
        return self.closed_stages

    def new_customers(self, rows: list[dict]) -> list[dict]:
        fresh = {c["odoo_id"]: c for c in rows if self.customers.get(c["odoo_id"]) != c}
        return list(fresh.values())


def save_ticket_page(
    page: MirrorPage,
    ids: set[int],
    *,
    known: dict[int, Held],
    writes: SyncWrites,
    cursor: tuple[datetime, int] | None,
) -> PageCounts:
    """Save the tickets `ids` of the page with their tags, SLA statuses, stage history and clocks,
    and move the cursor.

    All in one transaction: if the process dies half-way, the cursor still points before this page,
    and the next sync reads it again; and the engine never sees a ticket without its clock. A page
    with nothing to write commits nothing: its cursor moves with the next page written, or at the end
    (re-reading it after a crash would write nothing either), which spares a commit per page of churn
    (a disk flush each on SQLite).
    """
    if not ids:
        writes.cursor = cursor or writes.cursor
        return PageCounts()
    page.map(ids)
    tickets = [page.tickets[i] for i in sorted(ids)]
    new = [t for t in tickets if t["odoo_id"] not in known]
    held = [t for t in tickets if t["odoo_id"] in known]
    held_ids = [t["odoo_id"] for t in held]
    statuses = {i: page.statuses[i] for i in ids if i in page.statuses}
    customers = writes.new_customers([page.customers[i] for i in ids if i in page.customers])
    counts = PageCounts(created=len(new), updated=len(held))
    counts.archived = sum(1 for t in held if known[t["odoo_id"]].active and not t["active"])
    through = Ticket.tags.through
    stage_changes = _stage_changes(tickets, known)
    assignee_changes = _assignee_changes(held, known)
    created = {t["odoo_id"] for t in new}
    with transaction.atomic():
        bulk.upsert(Customer, customers, update_fields=["name", "email"])
        # New tickets go straight in (COPY on PostgreSQL): the sync holds the lease, and nothing else
        # adds tickets to the mirror.
        bulk.insert(Ticket, new)
        # A full sync rewrites tickets whose values did not change: they keep the write date and author
        # of their last change, not a cron's rewrite (the engine's "no update" and automation's idle
        # and "a person changed it" read them).
        bulk.upsert(Ticket, held, update_fields=_TICKET_UPDATE_FIELDS, kept_while_same=_KEPT_WHILE_SAME)
        if held_ids:  # only tickets the mirror held can have old tag links and SLA rows to replace
            through.objects.filter(bulk.among(through, "ticket", held_ids)).delete()
            SlaStatus.objects.filter(bulk.among(SlaStatus, "ticket", held_ids)).delete()
        bulk.insert(through, [{"ticket_id": i, "tag_id": t} for i in ids for t in page.tag_ids.get(i, ())])
        bulk.insert(SlaStatus, [s for rows in statuses.values() for s in rows])
        bulk.insert(TicketStageChange, stage_changes)
        bulk.insert(TicketAssigneeChange, assignee_changes)
        started = time.monotonic()
        current = _current_clocks(held_ids)
        # A new ticket's whole stage history is the row just written for it.
        created_changes = {c["ticket_id"]: [(c["at"], c["stage_id"])] for c in stage_changes
                           if c["ticket_id"] in created}
        counts.clocks = refresh_saved_clocks(
            tickets, statuses, current, created=created, rules=writes.rules, now=writes.synced_at,
            closed_stages=writes.closed(), created_changes=created_changes,
        )
        counts.clock_seconds = time.monotonic() - started
        _end_page(cursor)
        if cursor is not None:
            writes.cursor = None  # behind this one
    writes.customers.update((c["odoo_id"], c) for c in customers)
    if writes.held is not None:
        writes.held.update(
            (t["odoo_id"], Held(t["active"], False, t["stage_id"], t["odoo_digest"], t["assignee_id"]))
            for t in tickets
        )
    return counts


def _end_page(cursor: tuple[datetime, int] | None) -> None:
    """Move the cursor with the page; on PostgreSQL, relax the commit's durability in the same round
    trip.

    The page and the cursor commit together, and Odoo still holds every row: if the server crashed
    right after this commit and lost it, the next sync would read the same page again. So the commit
    need not wait for the disk flush, which is most of a page's commit time."""
    if connection.vendor != "postgresql":
        if cursor is not None:
            advance_cursor(cursor)
        return
    sql, params = "SET LOCAL synchronous_commit = off", []
    if cursor is not None:
        update, params = _advance_cursor_sql(cursor)
        sql = f"{sql}; {update}"
    with connection.cursor() as db:
        db.execute(sql, params)


def _advance_cursor_sql(cursor: tuple[datetime, int]) -> tuple[str, list]:
    """advance_cursor's UPDATE as SQL, to send with another statement."""
    write_date, odoo_id = cursor
    table = connection.ops.quote_name(SyncState._meta.db_table)
    sql = (
        f"UPDATE {table} SET cursor_write_date = %s, cursor_odoo_id = %s WHERE id = 1 AND "
        "(cursor_write_date IS NULL OR cursor_write_date < %s"
        " OR (cursor_write_date = %s AND cursor_odoo_id < %s))"
    )
    return sql, [write_date, odoo_id, write_date, write_date, odoo_id]


def _stage_changes(tickets: list[dict], known: dict[int, Held]) -> list[dict]:
    """A stage history row for each ticket whose stage moved, and for each new ticket's stage.

    The time is Odoo's (date_last_stage_update / last_stage_update), not ours: paused-time accounting
    needs when the ticket entered the stage, however late the sync saw it. A new ticket gets one row
    at that time (else its creation), which is when its current stage began.
    """
    rows = []
    for ticket in tickets:
        before = known.get(ticket["odoo_id"])
        from_stage = before.stage_id if before else None
        if ticket["stage_id"] is None or (before is not None and from_stage == ticket["stage_id"]):
            continue
        since = ticket["stage_changed_at"] or (None if before else ticket["created_at"])
        rows.append({
            "ticket_id": ticket["odoo_id"], "stage_id": ticket["stage_id"], "from_stage_id": from_stage,
            "at": since or ticket["odoo_write_date"],
        })
    return rows


def _assignee_changes(held: list[dict], known: dict[int, Held]) -> list[dict]:
    """A row for each ticket the mirror held whose assignee changed, at the ticket's write date in Odoo
    (the change's own time or later, when more was written after it; Enterprise's `assign_date` is the
    first assignment's only, so it cannot date a reassignment). A new ticket's first assignee is its
    own row's."""
    rows = []
    for ticket in held:
        before = known[ticket["odoo_id"]].assignee_id
        if before != ticket["assignee_id"]:
            rows.append({"ticket_id": ticket["odoo_id"], "assignee_id": ticket["assignee_id"],
                         "from_assignee_id": before, "at": ticket["odoo_write_date"]})
    return rows


def flush_cursor(writes: SyncWrites) -> None:
    """Save the cursor of the last pages, which had nothing to write."""
    if writes.cursor is not None:
        advance_cursor(writes.cursor)
        writes.cursor = None


def advance_cursor(cursor: tuple[datetime, int]) -> None:
    """Move the keyset cursor forward, never back (a full sync re-reads old pages): one conditional
    UPDATE."""
    write_date, odoo_id = cursor
    behind = (
        Q(cursor_write_date__isnull=True) | Q(cursor_write_date__lt=write_date)
        | Q(cursor_write_date=write_date, cursor_odoo_id__lt=odoo_id)
    )
    SyncState.objects.filter(behind, pk=1).update(cursor_write_date=write_date, cursor_odoo_id=odoo_id)
