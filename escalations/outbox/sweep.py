"""The outbox's sweeper, on beat: re-queues actions left inflight past the lease (a killed worker) and
enqueues those whose retry time has come (a task lost with a broker that was down)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from escalations.enqueue import SEND_ODOO_ACTION, enqueue
from escalations.models import OdooAction

logger = logging.getLogger(__name__)

State = OdooAction.State


@dataclasses.dataclass
class SweepResult:
    requeued: int
    enqueued: int


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> SweepResult:
    """Re-queue actions stuck inflight past the lease; enqueue the ones whose time has come."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    requeued = OdooAction.objects.filter(state=State.INFLIGHT, inflight_since__lt=now - lease).update(
        state=State.QUEUED, inflight_since=None, next_attempt_at=now,
        last_error="The sending worker stopped; trying again.",
    )
    due = list(OdooAction.objects.filter(state__in=OdooAction.SENDABLE_STATES).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).order_by("pk").values_list("pk", flat=True)[:limit])
    for pk in due:
        enqueue(SEND_ODOO_ACTION, pk)
    if requeued or due:
        logger.info("Outbox sweep: %s re-queued, %s enqueued", requeued, len(due))
    return SweepResult(requeued=requeued, enqueued=len(due))
