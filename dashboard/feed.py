"""The queue as JSON, for wallboard tools other than our own wall display (GET /api/queue/).

Times are ISO 8601 in UTC. `seconds_left` is as of `generated_at`: a client that keeps a response
(a 304 tells it to) should count down from `deadline`, as the wall does.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from escalations.queue import Queue, QueueRow, seconds_left
from escalations.sync.health import SyncHealth


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feed_version(*, stamp: str, team_ids: list[int] | None, limit: int) -> str:
    """The ETag: the queue's change stamp (escalations.queue.change_stamp, which moves with anything the
    JSON says but the ticking times, and at least once a minute) and what this request asked for, so that
    an unchanged feed is known before the queue is read."""
    data = repr((stamp, team_ids, limit))
    return hashlib.sha1(data.encode()).hexdigest()[:16]


def queue_feed(*, queue: Queue, health: SyncHealth, now: datetime, version: str, team=None,
               limit: int) -> dict:
    return {
        "version": version,
        "generated_at": iso(now),
        "team": {"id": team.pk, "name": team.name} if team is not None else None,
        "counts": dict(queue.counts),
        "total": queue.total,
        "limit": limit,
        "sync": {
            "last_success_at": iso(health.last_success_at),
            "stale": health.stale,
            "odoo_unreachable": health.odoo_unreachable,
        },
        "rows": [row_feed(row, now=now) for row in queue.rows],
    }


def row_feed(row: QueueRow, *, now: datetime) -> dict:
    """One escalation; names only, never an email address (the feed may be shown on any screen)."""
    t, e = row.ticket, row.escalation
    return {
        "ticket_id": t.pk,
        "reference": t.reference,
        "title": t.name,
        "customer": t.customer_name or None,
        "team": {"id": t.team.pk, "name": t.team.name} if t.team else None,
        "level": {"number": e.level.number, "name": e.level.name} if e else None,
        "trigger": {"key": e.trigger, "label": e.get_trigger_display()} if e else None,
        "assignee": {"id": t.assignee.pk, "name": t.assignee.name} if t.assignee else None,
        "priority": t.priority,
        "stage": t.stage.name if t.stage else None,
        "sla": row.sla,
        "deadline": iso(row.deadline),
        "seconds_left": seconds_left(row.deadline, now),
        "waiting_since": iso(row.waiting_since),
        "accepted_by": _person(e.accepted_by) if e else None,
        "odoo_url": row.odoo_url,
    }


def _person(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()
