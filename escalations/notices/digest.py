"""Releasing held notices: when their time comes, an address's held notices go out as one digest (or
alone, when only one is due and the budget has room for it).

Called right after notices are created (for a backlog, which goes at once) and by beat's notice
sweep. Each address is released in its own transaction, with its held rows locked, so two sweeps
never put one notice in two digests.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from escalations.enqueue import SEND_NOTICE, enqueue_on_commit
from escalations.models import Notice

from .budget import lock_addresses, passes_quiet_hours, singles_in_window, top_level_ids
from .people import prefs_for, prefs_of, user_of
from .stale import notice_stale_reason

Kind, State, Hold = Notice.Kind, Notice.State, Notice.Hold


def notice_release_held(*, now: datetime | None = None, emails: set[str] | None = None) -> int:
    """Send the held notices whose time has come; returns how many emails that makes (digests and
    notices going alone)."""
    now = now or timezone.now()
    due = Notice.objects.filter(state=State.HELD, release_at__lte=now)
    if emails is not None:
        due = due.filter(email__in=emails)
    addresses = sorted(set(due.order_by().values_list("email", flat=True)))
    return sum(_release(email, now=now) for email in addresses)


def _release(email: str, *, now: datetime) -> int:
    with transaction.atomic():
        lock_addresses([email])
        held = list(Notice.objects.select_for_update(of=("self",)).filter(
            email=email, state=State.HELD, release_at__lte=now,
        ).select_related("escalation", "level").order_by("created_at", "pk"))
        held = _drop_stale(held, now=now)
        if not held:
            return 0
        user_id = user_of(held)
        prefs = prefs_of(prefs_for([user_id]), user_id)
        if prefs.in_quiet_hours(now):
            tops = top_level_ids(n.level_id for n in held)
            if not any(passes_quiet_hours(n, tops) for n in held):
                # Held for the budget until a moment that fell in quiet hours: wait for the morning.
                Notice.objects.filter(pk__in=[n.pk for n in held]).update(
                    held_for=Hold.QUIET, release_at=prefs.quiet_ends(now))
                return 0
        if len(held) == 1 and singles_in_window(email, now=now) < settings.NOTICE_BUDGET:
            # release_at says when it went out, which is what its budget window counts.
            Notice.objects.filter(pk=held[0].pk).update(state=State.PENDING, release_at=now)
            enqueue_on_commit(SEND_NOTICE, held[0].pk)
            return 1
        digest = Notice.objects.create(kind=Kind.DIGEST, email=email, user_id=user_id, created_at=now)
        Notice.objects.filter(pk__in=[n.pk for n in held]).update(state=State.IN_DIGEST, digest=digest)
        enqueue_on_commit(SEND_NOTICE, digest.pk)
        return 1


def _drop_stale(held: list[Notice], *, now: datetime) -> list[Notice]:
    keep = []
    for notice in held:
        reason = notice_stale_reason(notice, now=now)
        if reason:
            Notice.objects.filter(pk=notice.pk).update(state=State.FAILED, last_error=reason)
        else:
            keep.append(notice)
    return keep
