"""Wall displays: the screens in the support room, reached with a token instead of a user session.

An admin creates a display (a name, optionally a team) and gets its URL once; the token in it is the
only credential the screen has. At its first load the screen trades the token for a display session
(its pass, `wall_display_pass`, kept in a cookie), so the token leaves the address bar and the access
logs; the pass names the display and the token it was given for, so revoking the display (or giving it
a new token) ends the screen's access at its next refresh. The views and the admin only call these
functions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from escalations.models import Team, WallDisplay
from escalations.queue import SLA_STATES, Queue, QueueRow, change_stamp, open_escalations, queue_counts
from escalations.sync.health import SyncHealth, sync_health

# A screen polls every few seconds: last_seen_at is written at most this often.
SEEN_EVERY = timedelta(seconds=60)
DEMO_WALL = "Demo wall"


@dataclass(frozen=True)
class TokenCheck:
    display: WallDisplay | None  # None: no display has this token

    @property
    def active(self) -> bool:
        return self.display is not None and self.display.is_active

    @property
    def revoked(self) -> bool:
        return self.display is not None and not self.display.is_active


def wall_display_check(*, token: str) -> TokenCheck:
    """Which display a token opens, if any, and whether it was revoked (one query)."""
    return TokenCheck(display=WallDisplay.objects.with_token(token))


def wall_display_pass(*, display: WallDisplay) -> str:
    """What a screen keeps instead of its token: the display's id and a fingerprint of its current token
    (an HMAC of the stored hash, so the pass reveals neither). A new token changes the fingerprint."""
    return f"{display.pk}:{_fingerprint(display)}"


PASS_FORMAT = re.compile(r"([0-9]{1,18}):([0-9a-f]{32})")


def wall_display_resume(*, display_pass: str) -> TokenCheck:
    """Which display a pass opens (one query): none when it is malformed, unknown, or was given for a
    token the display no longer has; the display, revoked or not, otherwise."""
    match = PASS_FORMAT.fullmatch(display_pass or "")
    if match is None:
        return TokenCheck(display=None)
    display = WallDisplay.objects.filter(pk=int(match[1])).select_related("team").first()
    if display is None or not constant_time_compare(_fingerprint(display), match[2]):
        return TokenCheck(display=None)
    return TokenCheck(display=display)


def _fingerprint(display: WallDisplay) -> str:
    return salted_hmac("escalations.walls.pass", display.token_hash, algorithm="sha256").hexdigest()[:32]


def wall_display_create(*, name: str, team: Team | None = None, created_by=None) -> tuple[WallDisplay, str]:
    """A new display and its token, which is readable only now."""
    display = WallDisplay(name=name, team=team, created_by=created_by)
    token = display.new_token()
    display.save()
    return display, token


def wall_display_renew(*, display: WallDisplay) -> str:
    """A fresh token for the display (the old URL stops working at once); active again if revoked."""
    token = display.new_token()
    display.revoked_at = None
    display.save(update_fields=["token_hash", "token_prefix", "revoked_at"])
    return token


def wall_display_revoke(*, display: WallDisplay) -> bool:
    """End the display's access; its screen shows "revoked" at its next refresh. False if it already was."""
    if not display.is_active:
        return False
    display.revoke()
    return True


def wall_display_seen(*, display: WallDisplay, now: datetime) -> None:
    """Note that the screen is alive, at most once a minute."""
    display.note_use("last_seen_at", now, every=SEEN_EVERY)


def wall_url(token: str, *, base_url: str | None = None) -> str:
    """The address to open on the screen: the console's public address and the token."""
    base = (base_url or settings.DASHBOARD_BASE_URL).rstrip("/")
    return base + reverse("wall", args=[token])


@transaction.atomic
def demo_wall_ensure() -> str:
    """The demo's all-teams display, with a fresh token at each start; returns the token."""
    display = WallDisplay.objects.filter(name=DEMO_WALL).order_by("pk").first()
    if display is None:
        return wall_display_create(name=DEMO_WALL)[1]
    display.team = None
    display.save(update_fields=["team"])
    return wall_display_renew(display=display)


@dataclass
class WallData:
    """Everything a wall shows, and the version an open screen compares to skip unchanged refreshes."""

    display: WallDisplay
    queue: Queue
    health: SyncHealth
    now: datetime
    version: str


def display_team_ids(display: WallDisplay) -> list[int] | None:
    """The teams a display may show: its own, or every team (None) when it has none."""
    return [display.team_id] if display.team_id else None


# Bump when the wall's markup changes, so that open screens take the new fragment at their next poll.
LAYOUT = 2


def wall_version(*, display: WallDisplay, now: datetime) -> str:
    """What an open screen compares to skip an unchanged refresh: the queue's change stamp (ONE query,
    escalations.queue.change_stamp) and what the screen shows of its own display row, which the token
    lookup has just read. Read BEFORE the queue, so that a change landing in between gives the next poll
    a different version instead of being missed."""
    data = repr((change_stamp(now=now), display.name, display.team_id, LAYOUT))
    return hashlib.sha1(data.encode()).hexdigest()[:16]


def wall_order() -> list:
    """The wall's order, which is not the lead's queue's: a room reads the top of its screen.

    1. By SLA state: breached, at risk, on track, paused, no SLA.
    2. In each, the ones nobody has accepted yet first: a ticket someone took three days ago is being
       handled, and must not keep the one that waits for a person off the top.
    3. Then the deadline (the longest overdue, or the least time left, first) and the time at the level.
    """
    state_rank = Case(*[When(sla=state, then=Value(rank)) for rank, state in enumerate(SLA_STATES)],
                      default=Value(len(SLA_STATES)), output_field=IntegerField())
    taken = Case(When(Q(accepted_at__isnull=True), then=Value(0)), default=Value(1),
                 output_field=IntegerField())
    return [state_rank, taken, F("ticket__clock__deadline").asc(nulls_last=True), "level_since", "pk"]


def wall_queue(*, now: datetime, team_ids: list[int] | None, limit: int) -> Queue:
    """The displays' queue in the wall's order, with the counts: two queries whatever its size. No
    write-backs and no Odoo links: a screen in the room shows neither."""
    base = open_escalations(now=now, team_ids=team_ids)
    counts = queue_counts(base)
    page = list(base.select_related("ticket__team", "ticket__stage", "ticket__assignee", "ticket__clock",
                                    "level", "accepted_by").order_by(*wall_order())[:limit])
    rows = [QueueRow(ticket=e.ticket, escalation=e, sla=e.sla) for e in page]
    return Queue(rows=rows, counts=counts, total=counts["total"])


def wall_data(*, display: WallDisplay, version: str, now: datetime | None = None) -> WallData:
    """The display's queue, most urgent first, and the sync's health: three queries whatever the rows."""
    now = now or timezone.now()
    health = sync_health(now=now)
    queue = wall_queue(now=now, team_ids=display_team_ids(display), limit=settings.WALL_ROWS)
    return WallData(display=display, queue=queue, health=health, now=now, version=version)
