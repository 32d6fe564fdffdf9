"""How fresh the mirror is: whether the queue on a screen can be trusted right now.

The queue is only as current as the last sync with Odoo. A screen nobody touches (the wall display)
must say so itself when the sync stopped running or Odoo cannot be reached, or the room would trust
countdowns of tickets that were solved long ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from escalations.models import SyncState


@dataclass(frozen=True)
class SyncHealth:
    last_success_at: datetime | None
    stale: bool  # no successful sync for longer than WALL_STALE_AFTER_SECONDS (or never)
    odoo_unreachable: bool  # the last sync failed
    auth_refused: bool  # ... because Odoo refused the console's login or API key
    server_version: str  # Odoo's, for the links that open a ticket there
    # Tickets Odoo has but no longer shows the console's user (team privacy, record rules): the queue
    # holds them as last seen and their escalations wait (escalations.engine), so screens say so.
    invisible_tickets: int = 0

    @property
    def ok(self) -> bool:
        return not (self.stale or self.odoo_unreachable)

    def key(self) -> tuple:
        """What a screen shows of the health; changes in it must reach an open screen."""
        return (self.stale, self.odoo_unreachable, self.auth_refused, self.invisible_tickets,
                str(self.last_success_at) if not self.ok else "")


def sync_health(*, now: datetime) -> SyncHealth:
    """One query, and no write: SyncState.load() would create the row from a read-only screen."""
    state = SyncState.objects.filter(pk=1).only(
        "last_success_at", "last_error", "auth_failed_at", "server_version", "invisible_tickets").first()
    if state is None:
        return SyncHealth(last_success_at=None, stale=True, odoo_unreachable=False, auth_refused=False,
                          server_version="")
    stale_after = timedelta(seconds=settings.WALL_STALE_AFTER_SECONDS)
    return SyncHealth(
        last_success_at=state.last_success_at,
        stale=state.last_success_at is None or now - state.last_success_at > stale_after,
        odoo_unreachable=bool(state.last_error),
        auth_refused=state.auth_refused,
        server_version=state.server_version,
        invisible_tickets=state.invisible_tickets,
    )
