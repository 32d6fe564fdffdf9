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

PUSH_READ_TICKET = "escalations.tasks.push_read_ticket"
DEBOUNCE_SECONDS = 2
REREAD_SECONDS = 3


def push_event_schedule(*, odoo_id: int) -> bool:
    """Read the ticket now and again in REREAD_SECONDS, unless a burst for it already did; whether
    reads were enqueued."""
    if not cache.add(f"odoo-push:{odoo_id}", 1, timeout=DEBOUNCE_SECONDS):
        return False
    enqueue(PUSH_READ_TICKET, odoo_id)
    enqueue(PUSH_READ_TICKET, odoo_id, countdown=REREAD_SECONDS)
    return True
