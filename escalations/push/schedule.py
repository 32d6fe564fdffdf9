"""When to read a ticket that Odoo says changed: at once, and once more a little later.

Odoo 17 and 18 send the webhook from inside the writing transaction, before it commits: a read at
once may still see the ticket as it was (and a new ticket not at all). Odoo 19 sends after the commit.
So every burst of events for a ticket gets two reads: one at once, which is right on 19 (and on 17
mostly: Odoo commits right after our answer), and one REREAD_SECONDS later, after any commit. Events
for the same ticket within DEBOUNCE_SECONDS of the first are covered by that second read (Odoo waits at
most a second for our answer before it goes on), and enqueue nothing.
The burst is remembered in Django's cache (per process with the local-memory cache: a few more reads
with several web processes, never fewer).
"""

from __future__ import annotations

from django.core.cache import cache

from escalations.enqueue import enqueue
from escalations.models import SyncState
from escalations.odoo.client import major_version

PUSH_READ_TICKET = "escalations.tasks.push_read_ticket"
DEBOUNCE_SECONDS = 2
REREAD_SECONDS = 3
# Odoo 17 and 18 go on, and commit, once we have answered their post: a first read this much later
# mostly finds the commit done (read at once, it mostly did not, and the change waited for the second
# read: a p95 of 3.2 s from edit to screen). Odoo 19 posts after its commit: read at once.
FIRST_READ_BEFORE_19_SECONDS = 0.5


def push_event_schedule(*, odoo_id: int) -> bool:
    """Read the ticket now (half a second from now before Odoo 19) and again in REREAD_SECONDS, unless a
    burst for it already did; whether reads were enqueued."""
    if not cache.add(f"odoo-push:{odoo_id}", 1, timeout=DEBOUNCE_SECONDS):
        return False
    first = 0 if _posts_after_commit() else FIRST_READ_BEFORE_19_SECONDS
    enqueue(PUSH_READ_TICKET, odoo_id, countdown=first or None)
    enqueue(PUSH_READ_TICKET, odoo_id, countdown=REREAD_SECONDS)
    return True


def _posts_after_commit() -> bool:
    """Whether the Odoo the mirror last synced is 19 or later (kept a minute in the cache)."""
    version = cache.get("odoo-push:server-version")
    if version is None:
        version = SyncState.objects.values_list("server_version", flat=True).first() or ""
        cache.set("odoo-push:server-version", version, timeout=60)
    return major_version(version) >= 19
