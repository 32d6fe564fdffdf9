"""Writing Odoo pages into the mirror, in bulk: one upsert per model per page, never row by row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from escalations.models import (
    Agent,
    Customer,
    SlaStatus,
    Stage,
    SyncState,
    Tag,
    Team,
    Ticket,
    TicketStageChange,
)

from . import bulk, mapping

_TICKET_UPDATE_FIELDS = [f.name for f in Ticket._meta.concrete_fields if not f.primary_key]


def save_teams(rows):
    fields = ["name", "active", "use_sla", "calendar_odoo_id"]
    bulk.upsert(Team, [mapping.team_row(r) for r in rows], update_fields=fields)


def save_stages(rows):
    bulk.upsert(
        Stage, [mapping.stage_row(r) for r in rows], update_fields=["name", "sequence", "is_closed", "active"]
    )


def save_agents(rows):
    bulk.upsert(
        Agent, [mapping.agent_row(r) for r in rows], update_fields=["name", "login", "email", "active"]
    )


def save_tags(rows):
    bulk.upsert(Tag, [mapping.tag_row(r) for r in rows], update_fields=["name"])


@dataclass
class PageCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0


def changed_ticket_ids(rows: list[dict], digests: dict[int, str]) -> tuple[set[int], dict[int, tuple]]:
    """Ids in the page that are new, back after being marked deleted or invisible, or whose values
    changed in Odoo (their digest, see mapping.odoo_digest): a write_date that moved alone changes nothing.

    Also returns what the mirror held of each known ticket:
    (write_date, active, deleted_at, stage_id, invisible_since).
    """
    known, changed = {}, set()
    rows_held = Ticket.objects.filter(odoo_id__in=[r["id"] for r in rows]).values_list(
        "odoo_id", "odoo_write_date", "active", "deleted_at", "stage_id", "invisible_since", "odoo_digest"
    )
    for odoo_id, *held, digest in rows_held:
        known[odoo_id] = tuple(held)
        if held[2] is not None or held[4] is not None or digest != digests[odoo_id]:
            changed.add(odoo_id)
    changed.update(r["id"] for r in rows if r["id"] not in known)
    return changed, known


def save_ticket_page(
    rows: list[dict],
    sla_rows: list[dict],
    *,
    schema,
    known: dict[int, tuple],
    digests: dict[int, str],
    synced_at: datetime,
    cursor: tuple[datetime, int] | None,
) -> PageCounts:
    """Save one page of changed tickets with their tags and SLA statuses, and move the cursor.

    All in one transaction: if the process dies half-way, the cursor still points before this page,
    and the next sync reads it again.
    """
    counts = PageCounts()
    tickets = [
        {**mapping.ticket_row(r, schema, synced_at=synced_at), "odoo_digest": digests[r["id"]]} for r in rows
    ]
    customers = {c["odoo_id"]: c for r in rows if (c := mapping.customer_row(r, schema))}
    statuses = _statuses_for(tickets, sla_rows, schema)
    for ticket in tickets:
        before = known.get(ticket["odoo_id"])
        if before is None:
            counts.created += 1
        else:
            counts.updated += 1
            if before[1] and not ticket["active"]:
                counts.archived += 1

    # Only tickets the mirror already held can have old tag links and SLA rows to replace.
    ids = [t["odoo_id"] for t in tickets if t["odoo_id"] in known]
    through = Ticket.tags.through
    with transaction.atomic():
        _relax_durability()
        bulk.upsert(Customer, list(customers.values()), update_fields=["name", "email"])
        bulk.upsert(Ticket, tickets, update_fields=_TICKET_UPDATE_FIELDS)
        if ids:
            through.objects.filter(ticket_id__in=ids).delete()
            SlaStatus.objects.filter(ticket_id__in=ids).delete()
        bulk.insert(through, _tag_links(rows, schema))
        bulk.insert(SlaStatus, statuses)
        bulk.insert(TicketStageChange, _stage_changes(tickets, known))
        if cursor is not None:
            advance_cursor(cursor)
    return counts


def _relax_durability() -> None:
    # The page and the cursor commit together, and Odoo still holds every row: if the server crashed
    # right after this commit and lost it, the next sync would read the same page again. So the
    # commit need not wait for the disk flush, which is most of a page's commit time.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _statuses_for(tickets: list[dict], sla_rows: list[dict], schema) -> list[dict]:
    if schema.sla_model:
        statuses = [mapping.sla_status_row(r, schema.sla_model) for r in sla_rows]
        by_ticket: dict[int, list[dict]] = {}
        for status in statuses:
            by_ticket.setdefault(status["ticket_id"], []).append(status)
        for ticket in tickets:
            ticket["sla_deadline"] = mapping.nearest_deadline(by_ticket.get(ticket["odoo_id"], []))
        return statuses
    return [s for t in tickets if (s := mapping.ticket_level_sla(t))]


def _stage_changes(tickets: list[dict], known: dict[int, tuple]) -> list[dict]:
    """A stage history row for each ticket whose stage moved, and for each new ticket's stage.

    The time is Odoo's (date_last_stage_update / last_stage_update), not ours: paused-time accounting
    needs when the ticket entered the stage, however late the sync saw it. A new ticket gets one row
    at that time (else its creation), which is when its current stage began.
    """
    rows = []
    for ticket in tickets:
        before = known.get(ticket["odoo_id"])
        from_stage = before[3] if before else None
        if ticket["stage_id"] is None or (before is not None and from_stage == ticket["stage_id"]):
            continue
        since = ticket["stage_changed_at"] or (None if before else ticket["created_at"])
        rows.append({
            "ticket_id": ticket["odoo_id"], "stage_id": ticket["stage_id"], "from_stage_id": from_stage,
            "at": since or ticket["odoo_write_date"],
        })
    return rows


def _tag_links(rows, schema) -> list[dict]:
    field = schema.ticket_fields.get("tags")
    if not field:
        return []
    return [{"ticket_id": r["id"], "tag_id": tag_id} for r in rows for tag_id in (r.get(field) or [])]


def advance_cursor(cursor: tuple[datetime, int]) -> None:
    """Move the keyset cursor forward, never back (a full sync re-reads old pages)."""
    state = SyncState.objects.select_for_update().get(pk=1)
    if state.cursor_write_date is None or cursor > (state.cursor_write_date, state.cursor_odoo_id):
        state.cursor_write_date, state.cursor_odoo_id = cursor
        state.save(update_fields=["cursor_write_date", "cursor_odoo_id"])
