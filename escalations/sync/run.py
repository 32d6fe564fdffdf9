"""One sync cycle: what changed in Odoo since the cursor, read in keyset pages, saved in bulk.

The number of RPC calls grows with the number of changed tickets (one page of tickets plus one page
of their SLA records per `SYNC_PAGE_SIZE` changes), never with the total: a constant handful of
calls for the small models and the deletion check, then the pages.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from escalations.models import Agent, Stage, SyncState, Tag, Team, Ticket
from escalations.odoo import names
from escalations.odoo.client import OdooClient
from escalations.odoo.errors import OdooAuthError, OdooError
from escalations.odoo.schema import HelpdeskSchema, detect_schema
from escalations.odoo.values import odoo_datetime, to_odoo_datetime
from escalations.sla.refresh import drop_stale_clocks, refresh_clocks
from escalations.sla.rules import TeamRules
from escalations.sync.key_refusal import key_refusal_notify

from . import calendars, store
from .pages import PageReader, Position

logger = logging.getLogger(__name__)

# Long enough for one page; renewed between pages, so a killed worker blocks syncs only this long.
LEASE = timedelta(minutes=2)
# Renewed at most this often: a page takes under a second, and a query per page is time taken from it.
RENEW_AFTER_SECONDS = 10


class SyncAlreadyRunning(Exception):
    pass


@dataclass
class SyncResult:
    mode: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    deleted: int = 0
    hidden: int = 0  # tickets Odoo still has but no longer shows the console's user (newly marked)
    pages: int = 0
    rpc_calls: int = 0
    seconds: float = 0.0
    clocks: int = 0  # SLA clocks written (with each page, then for tickets the pages did not save)
    clock_seconds: float = 0.0  # the part of `seconds` spent on them

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"{self.mode} sync: {self.created} created, {self.updated} updated, {self.archived} archived, "
            f"{self.deleted} deleted, {self.hidden} no longer visible, {self.unchanged} unchanged; "
            f"{self.rpc_calls} RPC calls "
            f"in {self.seconds:.2f}s"
        )


def sync_odoo(*, full: bool = False, client: OdooClient | None = None) -> SyncResult:
    """Run one sync (incremental, or full with deletion check); records its outcome on SyncState."""
    started = time.monotonic()
    owner = _take_lease()
    result = SyncResult(mode="full" if full else "incremental")
    try:
        client = client or OdooClient.connect()
        _run(client, result, full=full, lease_owner=owner)
    except OdooError as exc:
        _record_failure(exc)
        raise
    finally:
        if client is not None:
            result.rpc_calls = client.rpc_calls
        result.seconds = round(time.monotonic() - started, 3)
        _release_lease(owner)
    _record_success(full=full)
    logger.info("%s", result.summary())
    return result


def _run(client: OdooClient, result: SyncResult, *, full: bool, lease_owner: str) -> None:
    state = SyncState.load()
    schema = _schema(client, state, refresh=full)
    if state.odoo_uid != client.uid:
        SyncState.objects.filter(pk=1).update(odoo_uid=client.uid)
    now = timezone.now()
    start = Position() if full else incremental_start(state)
    _sync_reference_models(client, schema, since=start.second)
    # Before the pages, whose clocks are written with them: a full sync may change calendars under
    # every ticket's computed deadline.
    calendars.sync_calendars(client, schema, full=full, now=now)
    writes = store.SyncWrites(rules=TeamRules(), synced_at=now, held=store.held_tickets() if full else None)
    seen, saved = _sync_ticket_pages(
        client, schema, result, start=start, writes=writes, map_all=full and not writes.held,
        lease_owner=lease_owner,
    )
    # The pages may have brought a team whose calendar the mirror lacks (a new team has no policy yet,
    # so no clock of theirs depends on it).
    calendars.sync_calendars(client, schema, full=False, now=now)
    if full:
        missing = set(Ticket.objects.filter(deleted_at__isnull=True).values_list("odoo_id", flat=True)) - seen
        gone, hidden = _confirm_missing(client, missing, now)
    else:
        gone, hidden, unread = _detect_deletions(client, now)
        if unread:
            _read_again(client, schema, result, unread, writes=writes, lease_owner=lease_owner)
    result.deleted, result.hidden = len(gone), hidden
    _count_invisible()
    started = time.monotonic()
    # The pages wrote the clocks of the tickets they saved. Deleted tickets lose theirs; on a full sync
    # so do tickets no longer open, and every other open ticket's clock is worked out again on the
    # calendars it read (a holiday added in Odoo moves deadlines without writing any ticket); only
    # those whose reading changed are written.
    not_saved = _open_ticket_ids() - saved if full else set()
    result.clocks += refresh_clocks(ticket_ids=not_saved | gone)
    if full:
        drop_stale_clocks()
    result.clock_seconds = round(result.clock_seconds + time.monotonic() - started, 3)


def _open_ticket_ids() -> set[int]:
    return set(Ticket.objects.open().values_list("odoo_id", flat=True))


def incremental_start(state: SyncState) -> Position:
    """Where an incremental sync reads from: after the cursor, or from the start of the overlap window
    behind it (from the very first ticket when the mirror has no cursor yet)."""
    if state.cursor_write_date is None:
        return Position()
    overlap = timedelta(seconds=settings.SYNC_OVERLAP_SECONDS)
    return Position(state.cursor_write_date - overlap, state.cursor_odoo_id if not overlap else 0)


def _schema(client: OdooClient, state: SyncState, *, refresh: bool) -> HelpdeskSchema:
    if state.schema and not refresh and state.server_version == client.server_version:
        return HelpdeskSchema.from_json(state.schema)
    schema = detect_schema(client)
    state.schema = schema.to_json()
    state.flavour = schema.flavour
    state.server_version = schema.server_version
    state.save(update_fields=["schema", "flavour", "server_version"])
    return schema


def _since_domain(since: datetime | None) -> list:
    return [("write_date", ">=", to_odoo_datetime(since))] if since else []


def _sync_reference_models(client: OdooClient, schema: HelpdeskSchema, *, since) -> None:
    """Teams, stages, tags and users that changed (all of them on a full sync): a few rows each."""
    domain = _since_domain(since)

    def read(model, fields, extra=()):
        return client.search_read(model, domain + list(extra), fields, active_test=False)

    # Users before teams: a team's members are users.
    share = [("share", "=", False)] if "share" in schema.user_fields else []
    store.save_agents(read(names.USER, schema.user_fields, share))
    store.save_teams(read(schema.team_model, schema.team_fields))
    store.save_stages(read(schema.stage_model, schema.stage_fields))
    store.save_tags(read(schema.tag_model, schema.tag_fields))


def _sync_ticket_pages(
    client, schema, result: SyncResult, *, start: Position, writes: store.SyncWrites, map_all: bool,
    lease_owner: str,
) -> tuple[set[int], set[int]]:
    """Save the changed tickets page by page; returns the ids of every ticket read, and of those saved.

    Rows the mirror already holds with the same values are skipped, on a full sync too: their
    write_date may have moved alone (crons and recomputes rewrite unchanged tickets), and the digest
    changes with the mapping's code (mapping.MAPPING_VERSION), so a release that maps a field anew
    rewrites every row once. `map_all`: map every row in the reading thread (a sync into an empty
    mirror writes them all)."""
    reader = PageReader(
        client, schema, start=start, page_size=settings.SYNC_PAGE_SIZE, known_ids=_known_ids(),
        prepare=partial(store.mirror_page, schema=schema, synced_at=writes.synced_at, map_all=map_all),
    )
    seen: set[int] = set()
    saved: set[int] = set()
    renewed = time.monotonic()
    for page in reader:
        mirror: store.MirrorPage = page.prepared
        result.pages += bool(page.rows)
        seen.update(mirror.ids)
        _save_referenced(page.referenced, writes)
        changed, known = store.changed_ticket_ids(mirror.digests, writes.held)
        saved |= changed
        result.unchanged += len(mirror.ids) - len(changed)
        counts = store.save_ticket_page(mirror, changed, known=known, writes=writes, cursor=page.cursor)
        result.created += counts.created
        result.updated += counts.updated
        result.archived += counts.archived
        result.clocks += counts.clocks
        result.clock_seconds += counts.clock_seconds
        if time.monotonic() - renewed > RENEW_AFTER_SECONDS:
            _renew_lease(lease_owner)
            renewed = time.monotonic()
    store.flush_cursor(writes)
    return seen, saved


def _known_ids() -> dict[str, set[int]]:
    return {
        kind: set(model.objects.values_list("odoo_id", flat=True))
        for kind, model in (("team", Team), ("stage", Stage), ("agent", Agent), ("tag", Tag))
    }


def _save_referenced(referenced: dict[str, list[dict]], writes: store.SyncWrites) -> None:
    """Teams, stages, users and tags that tickets point at, fetched with the page (rare)."""
    savers = {"team": store.save_teams, "stage": store.save_stages, "agent": store.save_agents,
              "tag": store.save_tags}
    for kind, rows in referenced.items():
        savers[kind](rows)
    if "stage" in referenced:
        writes.closed_stages = None  # read again: one of them may be closed


def _detect_deletions(client: OdooClient, now) -> tuple[set[int], int, set[int]]:
    """Odoo keeps no tombstones. Compare counts (one call); list ids only when they differ.

    Both counts leave out the tickets the console's user cannot see (Odoo's search does, the mirror
    skips those it marked invisible), so a hidden team costs nothing once marked. Returns the ids
    newly marked deleted, the number newly marked invisible, and the ids Odoo shows that the mirror
    does not hold as visible (hidden tickets shown again, ...), for the caller to read.
    """
    mirrored = Ticket.objects.filter(deleted_at__isnull=True)
    visible = mirrored.filter(invisible_since__isnull=True)
    remote_count = client.call(names.TICKET, "search_count", [[]], {"context": {"active_test": False}})
    local_count = visible.count()
    if remote_count == local_count or (
        remote_count > local_count and not mirrored.filter(invisible_since__isnull=False).exists()
    ):
        # More in Odoo and nothing hidden: tickets created since the pages were read. Creations can
        # also hide deletions; the hourly full reconciliation catches those.
        return set(), 0, set()
    remote_ids = set(client.search(names.TICKET, [], active_test=False))
    local_ids = set(visible.values_list("odoo_id", flat=True))
    gone, hidden = _confirm_missing(client, local_ids - remote_ids, now)
    return gone, hidden, remote_ids - local_ids


# Ids per `exists` call: a whole team hidden at once stays a few requests.
EXISTS_BATCH = 1000


def _confirm_missing(client: OdooClient, ids: set[int], now) -> tuple[set[int], int]:
    """Sort tickets that Odoo's search no longer returns into deleted and hidden from the console.

    A search leaves out what record rules hide from the console's user (a private team, a team it is
    not a member of, another company); `exists` is one SQL query below the rules, so only it proves a
    ticket gone. Returns the ids marked deleted and the number newly marked invisible."""
    ordered, existing = sorted(ids), set()
    for start in range(0, len(ordered), EXISTS_BATCH):
        existing.update(client.call(names.TICKET, "exists", [ordered[start : start + EXISTS_BATCH]]))
    gone = ids - existing
    _mark_deleted(gone, now)
    return gone, _mark_invisible(existing, now)


def _mark_deleted(ids: set[int], now) -> int:
    return _mark(ids, deleted_at=now)


def _mark_invisible(ids: set[int], now) -> int:
    return _mark(ids, invisible_since=now)


def _mark(ids: set[int], **stamp) -> int:
    """Stamp the tickets not yet stamped (the first time counts), 500 ids per UPDATE."""
    ((field, _),) = stamp.items()
    unstamped = {"deleted_at__isnull": True, f"{field}__isnull": True}
    count, id_list = 0, sorted(ids)
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        count += Ticket.objects.filter(odoo_id__in=chunk, **unstamped).update(**stamp)
    return count


def _read_again(client: OdooClient, schema, result: SyncResult, ids: set[int], *,
                writes: store.SyncWrites, lease_owner: str) -> None:
    """Read tickets Odoo shows again: inviting the console's user writes no ticket, so their
    write_dates (and changes made while they were hidden) lie behind the cursor. Pages are read again
    from the oldest one's second (rows that did not change are not written)."""
    write_field = schema.ticket_fields["write_date"]
    rows = client.search_read(
        names.TICKET, [("id", "in", sorted(ids))], [write_field], active_test=False
    )
    if not rows:
        return
    oldest = min(odoo_datetime(r[write_field]) for r in rows)
    _sync_ticket_pages(
        client, schema, result, start=Position(oldest), writes=writes, map_all=False,
        lease_owner=lease_owner,
    )


def _count_invisible() -> None:
    """The pages' sync health line shows this count without a query of its own."""
    count = Ticket.objects.filter(invisible_since__isnull=False, deleted_at__isnull=True).count()
    SyncState.objects.filter(pk=1).update(invisible_tickets=count)


# -- lease and health ---------------------------------------------------------------------------------


def _take_lease() -> str:
    """Claim the sync with a conditional update, so two workers never sync at once."""
    SyncState.load()
    now = timezone.now()
    owner = uuid.uuid4().hex
    claimed = (
        SyncState.objects.filter(pk=1)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, lease_owner=owner)
    )
    if not claimed:
        raise SyncAlreadyRunning("Another sync is running")
    return owner


def _renew_lease(owner: str) -> None:
    SyncState.objects.filter(pk=1, lease_owner=owner).update(lease_until=timezone.now() + LEASE)


def _release_lease(owner: str) -> None:
    SyncState.objects.filter(pk=1, lease_owner=owner).update(lease_until=None, lease_owner="")


def _record_success(*, full: bool) -> None:
    now = timezone.now()
    # The key works (again): a later refusal is a new episode, with its own email to the admins.
    fields = {"last_success_at": now, "last_error": "", "auth_failed_at": None,
              "auth_refusal_notified_at": None}
    fields["last_full_at" if full else "last_incremental_at"] = now
    SyncState.objects.filter(pk=1).update(**fields)


def _record_failure(exc: OdooError) -> None:
    now = timezone.now()
    fields = {"last_error": exc.message[:2000], "last_error_at": now}
    if isinstance(exc, OdooAuthError):
        fields["auth_failed_at"] = now
    SyncState.objects.filter(pk=1).update(**fields)
    logger.warning("Odoo sync failed: %s", exc.message)
    if isinstance(exc, OdooAuthError):
        key_refusal_notify(now=now)
