"""Reminders before a deadline: for each open escalation whose ticket's SLA deadline is running, a
reminder to the recipients of its level when a chosen share of the SLA window is left (NOTICE_REMINDERS,
or each person's own choice).

Only the latest share passed is due (a sweep that ran late sends the 10 % reminder, not the 50 % one
too), and only a share passed since the escalation reached its level (whoever was told then saw the
time left). One per escalation, address and occasion (a share of one deadline), ever. None in a
person's quiet hours: the share is still due when they end, until the next share or the deadline.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from escalations.models import Escalation, Notice, TicketClock

from .people import prefs_for, prefs_of
from .recipients import Recipient, level_recipients
from .route import notices_insert
from .stale import occasion_for

Kind = Notice.Kind


def share_due(percents: tuple[int, ...], *, clock: TicketClock, since: datetime, now: datetime) -> int | None:
    """The share of the SLA window whose reminder is due now, if any."""
    window = clock.deadline - clock.window_start
    passed = [p for p in percents if since < clock.deadline - window * p / 100 <= now]
    if not passed or now >= clock.deadline:
        return None
    return min(passed)  # the smallest share left is the latest moment


def notice_create_deadline_reminders(*, now: datetime | None = None) -> int:
    """Create the deadline reminders due now; returns how many were new."""
    now = now or timezone.now()
    # Not for a ticket Odoo no longer shows the console: its deadline is only as last read.
    escalations = list(Escalation.objects.filter(
        ended_at__isnull=True, ticket__clock__paused=False, ticket__clock__deadline__gt=now,
        ticket__clock__window_start__isnull=False, ticket__invisible_since__isnull=True,
    ).select_related("level", "ticket__clock").order_by("pk"))
    if not escalations:
        return 0
    by_level: dict[int, list[Recipient]] = {}
    for escalation in escalations:
        if escalation.level_id not in by_level:
            by_level[escalation.level_id] = level_recipients(level=escalation.level)
    prefs = prefs_for(r.user_id for recipients in by_level.values() for r in recipients)
    done = set(Notice.objects.filter(kind=Kind.DEADLINE, escalation__ended_at__isnull=True).values_list(
        "escalation_id", "email", "occasion"))
    rows = []
    for escalation in escalations:
        clock = escalation.ticket.clock
        for recipient in by_level[escalation.level_id]:
            mine = prefs_of(prefs, recipient.user_id)
            share = share_due(mine.deadline_percents, clock=clock, since=escalation.level_since, now=now)
            if share is None or mine.in_quiet_hours(now):
                continue
            occasion = occasion_for(share, clock.deadline)
            if (escalation.pk, recipient.email, occasion) in done:
                continue
            rows.append(Notice(
                escalation=escalation, level=escalation.level, kind=Kind.DEADLINE, occasion=occasion,
                user_id=recipient.user_id, email=recipient.email, created_at=now,
            ))
    return notices_insert(rows, now=now, new=[Notice.objects.filter(kind=Kind.DEADLINE)])
