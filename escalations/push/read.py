"""The targeted read: one ticket read from Odoo and saved through the sync's own store functions
(the same mapping, digests, stage history and SLA clocks as a sync page), then an evaluation of the
escalations, so that the queue, the wall and the feed show the change within seconds.

It reads Odoo first, then saves under the sync's lease (escalations.sync.run), taken under an owner of
its own ("push:..."), so that a sync and a targeted read never write tickets at once (both would insert
the same new ticket, and a sync saving a page read before the change would undo the newer values).
A targeted read holding the lease is waited for (a save takes milliseconds); a sync is not: the task
tries again a moment later, and the sync task, finding a targeted read's lease, tries again in two
seconds rather than at the next beat tick (`sync_lease_held`). A sync may have saved a later write of
the ticket between the read and the save: the read's older values are then not saved (by write date,
which Odoo gives to the second; two writes within one second are settled by the later one's own
webhook). It never moves the sync's cursor: the sync still reads everything that changed.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from escalations.engine import evaluate_escalations
from escalations.models import Agent, Stage, SyncState, Tag, Team, Ticket
from escalations.odoo import names
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.schema import HelpdeskSchema
from escalations.sla.rules import TeamRules
from escalations.sync import store
from escalations.sync.pages import Page, PageReader, Position
from escalations.sync.run import SyncAlreadyRunning

# A save takes milliseconds; a worker killed in the middle of one blocks syncs this long.
LEASE = timedelta(seconds=30)
LEASE_PREFIX = "push:"
# How long a read waits for another targeted read's save (two workers reading two tickets at once).
LEASE_WAIT_SECONDS = 3.0
# A logged-in client is kept by each worker process this long: a read is then two requests, not six.
CLIENT_MAX_AGE_SECONDS = 300


@dataclass
class PushRead:
    outcome: str  # "saved", "unchanged", "outdated" (a sync saved a later write), "missing", "not_synced"
    escalations: dict | None = None


def push_ticket_read(*, odoo_id: int, client: OdooClient | None = None,
                     now: datetime | None = None) -> PushRead:
    """Read one ticket from Odoo into the mirror; evaluate the escalations if it changed.
    Raises SyncAlreadyRunning while a sync holds the lease, and OdooError when Odoo fails."""
    state = SyncState.load()
    if not state.schema:
        return PushRead("not_synced")  # the first sync reads every ticket anyway
    schema = HelpdeskSchema.from_json(state.schema)
    now = now or timezone.now()
    page = _read(odoo_id, schema, client, now)
    if page is None:
        return PushRead("missing")  # the sync's deletion check tells deleted from hidden
    owner = _take_lease()
    try:
        outcome = _save(page, now)
    finally:
        _release_lease(owner)
    if outcome != "saved":
        return PushRead(outcome)
    return PushRead(outcome, evaluate_escalations(now=now).counts())


def _read(odoo_id: int, schema: HelpdeskSchema, client: OdooClient | None, now: datetime) -> Page | None:
    try:
        return TicketReader(client or _client(), schema, synced_at=now).read(odoo_id)
    except Exception:
        _forget_client()  # a refused key or a cut connection: log in again next time
        raise


def _save(page: Page, now: datetime) -> str:
    _save_referenced(page.referenced)
    mirror: store.MirrorPage = page.prepared
    changed, known = store.changed_ticket_ids(mirror.digests)
    if not changed:
        return "unchanged"
    mirror.map(changed)
    changed = {i for i in changed if not _saved_later(i, mirror.tickets[i]["odoo_write_date"])}
    if not changed:
        return "outdated"
    writes = store.SyncWrites(rules=TeamRules(team_ids=[mirror.tickets[i]["team_id"] for i in changed]),
                              synced_at=now)
    with transaction.atomic():
        store.save_ticket_page(mirror, changed, known=known, writes=writes, cursor=None)
        # The change stamp (escalations.queue) moves with it: open screens take the change at their next poll.
        SyncState.objects.filter(pk=1).update(pushed_at=now)
    return "saved"


class TicketReader(PageReader):
    """The sync's page reader, for one ticket by id: the same fields, SLA records, referenced teams,
    stages, users and tags, and the same mapping."""

    def __init__(self, client: OdooClient, schema: HelpdeskSchema, *, synced_at: datetime):
        prepare = partial(store.mirror_page, schema=schema, synced_at=synced_at, map_all=False)
        super().__init__(client, schema, start=Position(), page_size=1, known_ids=_known_ids(),
                         prepare=prepare)

    def read(self, odoo_id: int) -> Page | None:
        rows = self.client.search_read(names.TICKET, [("id", "=", odoo_id)], self.fields, active_test=False)
        if not rows:
            return None
        return self.finish_page(Page(rows, [], last=True, referenced=self._referenced(rows)))


def _saved_later(odoo_id: int, write_date: datetime) -> bool:
    """Whether the mirror holds a later write of the ticket than the one read (a sync saved it since)."""
    return Ticket.objects.filter(odoo_id=odoo_id, odoo_write_date__gt=write_date).exists()


def _known_ids() -> dict[str, set[int]]:
    return {
        kind: set(model.objects.values_list("odoo_id", flat=True))
        for kind, model in (("team", Team), ("stage", Stage), ("agent", Agent), ("tag", Tag))
    }


def _save_referenced(referenced: dict[str, list[dict]]) -> None:
    savers = {"team": store.save_teams, "stage": store.save_stages, "agent": store.save_agents,
              "tag": store.save_tags}
    for kind, rows in referenced.items():
        savers[kind](rows)


# -- the sync's lease -----------------------------------------------------------------------------------


def _take_lease() -> str:
    """Claim the sync's lease (the same conditional update as the sync's), for a short while; wait for
    another targeted read's, not for a sync's (SyncAlreadyRunning)."""
    SyncState.load()
    owner = f"{LEASE_PREFIX}{uuid.uuid4().hex}"
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    while True:
        now = timezone.now()
        claimed = (
            SyncState.objects.filter(pk=1)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + LEASE, lease_owner=owner)
        )
        if claimed:
            return owner
        # Asked again after the claim failed: the other read may have let go in between, and a lease
        # found free is claimed at once rather than taken for a sync's.
        if sync_lease_held() or time.monotonic() > deadline:
            raise SyncAlreadyRunning("A sync is running")
        time.sleep(0.02)


def _release_lease(owner: str) -> None:
    SyncState.objects.filter(pk=1, lease_owner=owner).update(lease_until=None, lease_owner="")


def sync_lease_held() -> bool:
    """Whether a sync (not a targeted read) holds the lease right now. A sync task that found the lease
    taken tries again in a moment unless this says a sync has it; a read stops waiting when it does."""
    return (SyncState.objects.filter(pk=1, lease_until__gt=timezone.now())
            .exclude(lease_owner__startswith=LEASE_PREFIX).exists())


# -- a logged-in client per worker process ---------------------------------------------------------------

_clients = threading.local()


def _client() -> OdooClient:
    """The process's logged-in client, made again when the settings changed or it grew old."""
    config = OdooConfig.from_settings()
    kept = getattr(_clients, "kept", None)
    if kept is not None and kept[0] == config and time.monotonic() - kept[2] < CLIENT_MAX_AGE_SECONDS:
        return kept[1]
    _forget_client()
    client = OdooClient.connect(config)
    _clients.kept = (config, client, time.monotonic())
    return client


def _forget_client() -> None:
    kept = getattr(_clients, "kept", None)
    _clients.kept = None
    if kept is not None:
        kept[1].close()
