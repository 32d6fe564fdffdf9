"""Is the console doing its work? What /readyz answers (dashboard.views.health), in two queries and
one connection to the broker.

Ready means: the database answers; the broker accepts a connection; a sync succeeded within
READYZ_SYNC_MAX_AGE_SECONDS; a worker ran beat's heartbeat within READYZ_BEAT_MAX_AGE_SECONDS (so
beat sends and a worker takes); and no action has waited longer than READYZ_OUTBOX_MAX_AGE_SECONDS
to reach Odoo. An action held behind one that waits for a lead's confirmation (stale) waits for a
person, not for the machinery, and does not count. Nothing here names a host, a URL or an error text:
the answer is for anyone who can reach the console.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Exists, Min, OuterRef

from escalations.models import OdooAction, SyncState

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 2.0  # seconds: a probe must answer well within its own timeout
PENDING = (OdooAction.State.QUEUED, OdooAction.State.INFLIGHT, OdooAction.State.AWAITING_RETRY)


@dataclass(frozen=True)
class Backlog:
    count: int
    oldest_age: float | None  # seconds; None when there is none


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def outbox_backlog(*, now: datetime) -> Backlog:
    """Actions on their way to Odoo, and the oldest one's age, in one query (over the outbox's state
    index), leaving out those held behind a stale action of their ticket."""
    held = OdooAction.objects.filter(ticket_id=OuterRef("ticket_id"), pk__lt=OuterRef("pk"),
                                     state=OdooAction.State.STALE)
    row = (OdooAction.objects.filter(state__in=PENDING).exclude(Exists(held))
           .aggregate(n=Count("id"), oldest=Min("created_at")))
    return Backlog(count=row["n"], oldest_age=_age(row["oldest"], now))


def broker_reachable() -> bool:
    from dashboard.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the answer, whatever raised it
        logger.warning("readyz: the broker cannot be reached (%s)", type(exc).__name__)
        return False
    return True


def _within(age: float | None, limit: int) -> dict:
    return {"ok": age is not None and age <= limit, "age_seconds": None if age is None else int(age),
            "max_age_seconds": limit}


def _database_checks(now: datetime) -> dict[str, dict]:
    fields = ("last_success_at", "last_error", "beat_heartbeat_at")
    state = SyncState.objects.filter(pk=1).values(*fields).first() or {}
    backlog = outbox_backlog(now=now)
    outbox_limit = settings.READYZ_OUTBOX_MAX_AGE_SECONDS
    return {
        "database": {"ok": True},
        "sync": {**_within(_age(state.get("last_success_at"), now), settings.READYZ_SYNC_MAX_AGE_SECONDS),
                 "last_failed": bool(state.get("last_error"))},
        "beat": _within(_age(state.get("beat_heartbeat_at"), now), settings.READYZ_BEAT_MAX_AGE_SECONDS),
        "outbox": {"ok": backlog.oldest_age is None or backlog.oldest_age <= outbox_limit,
                   "backlog": backlog.count,
                   "oldest_age_seconds": None if backlog.oldest_age is None else int(backlog.oldest_age),
                   "max_age_seconds": outbox_limit},
    }


def readiness(*, now: datetime) -> dict[str, dict]:
    """Each check by name, each with "ok"; the console is ready when every one is."""
    try:
        checks = _database_checks(now)
    except DatabaseError as exc:
        logger.warning("readyz: the database cannot be read (%s)", type(exc).__name__)
        unknown = {"ok": False}
        checks = {"database": unknown, "sync": unknown, "beat": unknown, "outbox": unknown}
    checks["broker"] = {"ok": broker_reachable()}
    return checks
