"""Sending the outbox to Odoo: each OdooAction applied once, in order per ticket, retried while Odoo is down.

`outbox_send(action_id)` is what the Celery task runs:
  1. claim the row with a conditional UPDATE (queued/awaiting_retry -> inflight); 0 rows: someone else
     has it, or it is final: do nothing;
  2. wait for older actions of the same ticket that are not final (re-scheduled, not run);
  3. read the ticket's write_date in Odoo: newer than what the lead saw (and not from our own earlier
     actions) and not confirmed -> `stale`, with what changed, for the lead to confirm or cancel;
  4. write the fields (a repeated write is harmless);
  5. post the internal note, unless the ticket's chatter already has one with the action's uid (a
     timeout after Odoo applied it, a worker killed after the post);
  6. record `sent` (audit: applied), or `awaiting_retry` with a capped backoff for OdooUnavailable, or
     `failed` with Odoo's reason in plain words for every other OdooError, rolling back what the action
     changed in the console in the same transaction (escalations.rollback).
A marker (kind MARK, escalations.markers) skips steps 3 and 5: it is the engine's, not a page a lead
saw, it only adds a tag and raises a priority, and it posts no note (escalations.outbox_marker).
`outbox_sweep()` runs on beat: it re-queues rows left inflight past the lease (a killed worker) and
enqueues rows whose retry time has come.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from escalations.models import AuditEntry, OdooAction, Ticket
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.errors import (
    OdooAccessDenied,
    OdooAuthError,
    OdooError,
    OdooRecordGone,
    OdooRejected,
    OdooUnavailable,
)
from escalations.outbox_marker import marker_values
from escalations.rollback import action_roll_back
from escalations.sync.mapping import m2o_id, m2o_name, odoo_datetime

logger = logging.getLogger(__name__)

State = OdooAction.State
TICKET_MODEL = "helpdesk.ticket"
# The fields shown to the lead when a ticket changed in Odoo since they loaded it.
WATCHED = {"user_id": "assignee", "team_id": "team", "stage_id": "stage", "priority": "priority",
           "name": "title"}
WAIT_FOR_OLDER = timedelta(seconds=2)
# Shown on the row: a ticket's actions apply in order, so one waits while an earlier one is stale
# (for its lead to confirm or cancel) or still on its way.
WAITING_FOR_OLDER = "Waits for an earlier action on this ticket to be applied, confirmed or cancelled."


def outbox_enqueue(action_id: int, *, countdown: float | None = None) -> None:
    """Ask a worker to send the action. A broker failure is logged, not raised: the sweeper will."""
    from escalations.tasks import send_odoo_action

    try:
        send_odoo_action.apply_async(args=[action_id], countdown=countdown)
    except Exception:  # the broker is down; the row is safe in the database and the sweeper re-sends
        logger.exception("Could not enqueue Odoo action %s; the outbox sweeper will", action_id)


def backoff(attempts: int) -> timedelta:
    base, cap = settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _connect() -> OdooClient:
    # No retries inside the client: the outbox's own backoff (and the stale and marker checks before
    # each attempt) are what make a retry safe.
    return OdooClient.connect(dataclasses.replace(OdooConfig.from_settings(), retries=0))


def _claim(action_id: int, now: datetime) -> OdooAction | None:
    claimed = OdooAction.objects.filter(pk=action_id, state__in=OdooAction.SENDABLE_STATES).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).update(state=State.INFLIGHT, inflight_since=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return OdooAction.objects.select_related("ticket", "created_by").get(pk=action_id)


def _release(action: OdooAction, *, state: str, **fields) -> bool:
    """Leave inflight, only if the row is still ours (the sweeper may have re-queued it)."""
    mine = OdooAction.objects.filter(pk=action.pk, state=State.INFLIGHT, inflight_since=action.inflight_since)
    return bool(mine.update(state=state, inflight_since=None, **fields))


def _older_pending(action: OdooAction) -> bool:
    return OdooAction.objects.filter(ticket_id=action.ticket_id, pk__lt=action.pk).exclude(
        state__in=OdooAction.FINAL_STATES).exists()


def _baseline(action: OdooAction) -> datetime | None:
    """The write_date the lead saw, moved on by our own earlier actions on the same ticket."""
    ours = OdooAction.objects.filter(ticket_id=action.ticket_id, pk__lt=action.pk, state=State.SENT,
                                     created_at__lte=action.created_at).aggregate(m=Max("applied_write_date"))
    dates = [d for d in (action.seen_write_date, ours["m"]) if d is not None]
    return max(dates) if dates else None


def _read_ticket(client: OdooClient, ticket_id: int, extra: tuple[str, ...] = ()) -> dict:
    rows = client.read(TICKET_MODEL, [ticket_id], ["write_date", "active", *WATCHED, *extra])
    if not rows:
        raise OdooRecordGone("The ticket was deleted in Odoo.")
    return rows[0]


def _what_changed(ticket: Ticket, remote: dict) -> list[str]:
    mine = {"user_id": (ticket.assignee_id, ticket.assignee), "team_id": (ticket.team_id, ticket.team),
            "stage_id": (ticket.stage_id, ticket.stage), "priority": (ticket.priority, ticket.priority),
            "name": (ticket.name, ticket.name)}
    changes = []
    for field, label in WATCHED.items():
        if field not in remote:
            continue
        value = remote[field]
        theirs, shown = (m2o_id(value), m2o_name(value)) if field.endswith("_id") else (value, value)
        if theirs != mine[field][0]:
            changes.append(f"the {label} is now {shown or 'empty'} (was {mine[field][1] or 'empty'})")
    return changes or ["the ticket was edited in Odoo (no field the console shows changed)"]


def _find_note(client: OdooClient, action: OdooAction) -> int | None:
    domain = [("model", "=", TICKET_MODEL), ("res_id", "=", action.ticket_id),
              ("body", "ilike", str(action.action_uid))]
    found = client.search_read("mail.message", domain, ["id"], limit=1)
    return found[0]["id"] if found else None


def _apply(client: OdooClient, action: OdooAction) -> dict:
    """Steps 3-5. Returns the fields to record on success, or {"stale": [...]}."""
    if action.kind == OdooAction.Kind.MARK:
        return _apply_marker(client, action)
    remote = _read_ticket(client, action.ticket_id)
    values = action.payload.get("values") or {}
    baseline = _baseline(action)
    remote_date = odoo_datetime(remote["write_date"])
    if values and not action.confirmed and baseline and remote_date and remote_date > baseline:
        return {"stale": _what_changed(action.ticket, remote)}
    if values:
        client.write(TICKET_MODEL, [action.ticket_id], values)
    message_id = _find_note(client, action)
    if message_id is None and action.payload.get("note"):
        message_id = client.message_post(TICKET_MODEL, action.ticket_id, body=action.payload["note"])
    after = _read_ticket(client, action.ticket_id)
    return {"odoo_message_id": message_id, "applied_write_date": odoo_datetime(after["write_date"])}


def _apply_marker(client: OdooClient, action: OdooAction) -> dict:
    remote = _read_ticket(client, action.ticket_id, extra=("tag_ids",))
    values = marker_values(client, remote=remote, mark=action.payload.get("mark") or {})
    if not values:
        # Nothing written: the ticket's write_date is not ours, and must not count as seen (_baseline).
        return {"odoo_message_id": None, "applied_write_date": None}
    client.write(TICKET_MODEL, [action.ticket_id], values)
    after = _read_ticket(client, action.ticket_id)
    return {"odoo_message_id": None, "applied_write_date": odoo_datetime(after["write_date"])}


def plain_reason(error: OdooError) -> str:
    if isinstance(error, OdooRecordGone):
        return "The ticket no longer exists in Odoo (it was deleted)."
    if isinstance(error, OdooAccessDenied):
        return f"Odoo refused: the console's Odoo user may not change this ticket ({error.message})."
    if isinstance(error, OdooAuthError):
        return f"Odoo refused the console's login or API key ({error.message})."
    if isinstance(error, OdooRejected):
        return f"Odoo rejected the change: {error.message}"
    return f"Odoo could not be reached: {error.message}"


def _audit(action: OdooAction, outcome: str, reason: str = "") -> None:
    AuditEntry.objects.filter(action=action).update(outcome=outcome, reason=reason)


def _next_of_ticket(action: OdooAction) -> None:
    """Kick the next waiting action of the ticket at once rather than at the next sweep."""
    following = OdooAction.objects.filter(ticket_id=action.ticket_id, pk__gt=action.pk,
                                          state__in=OdooAction.SENDABLE_STATES).order_by("pk").first()
    if following is not None:
        transaction.on_commit(lambda: outbox_enqueue(following.pk))


def outbox_send(action_id: int, *, now: datetime | None = None) -> str:
    """Send one action (see the module's steps). Returns the state it was left in, or "skipped"."""
    now = now or timezone.now()
    action = _claim(action_id, now)
    if action is None:
        return "skipped"
    if _older_pending(action):
        _release(action, state=State.QUEUED, next_attempt_at=timezone.now() + WAIT_FOR_OLDER,
                 attempts=F("attempts") - 1, last_error=WAITING_FOR_OLDER)
        return State.QUEUED
    try:
        result = _apply(_connect(), action)
    except OdooUnavailable as exc:
        delay = backoff(action.attempts)
        _release(action, state=State.AWAITING_RETRY, next_attempt_at=timezone.now() + delay,
                 last_error=plain_reason(exc))
        outbox_enqueue(action.pk, countdown=delay.total_seconds())
        return State.AWAITING_RETRY
    except OdooError as exc:
        reason = plain_reason(exc)
        with transaction.atomic():
            # Only if the row is still ours: an attempt the sweeper handed on records its own outcome.
            if _release(action, state=State.FAILED, last_error=reason):
                _audit(action, AuditEntry.Outcome.FAILED, reason)
                action_roll_back(action=action, reason=reason)
            _next_of_ticket(action)
        return State.FAILED
    with transaction.atomic():
        if "stale" in result:
            reason = "The ticket changed in Odoo since you loaded it: " + "; ".join(result["stale"]) + "."
            _release(action, state=State.STALE, stale_changes=result["stale"], last_error=reason)
            _audit(action, AuditEntry.Outcome.STALE, reason)
            return State.STALE
        _release(action, state=State.SENT, applied_at=timezone.now(), last_error="", **result)
        _audit(action, AuditEntry.Outcome.APPLIED)
        _next_of_ticket(action)
    return State.SENT


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
        outbox_enqueue(pk)
    if requeued or due:
        logger.info("Outbox sweep: %s re-queued, %s enqueued", requeued, len(due))
    return SweepResult(requeued=requeued, enqueued=len(due))
