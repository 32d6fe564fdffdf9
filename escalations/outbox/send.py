"""Sending the outbox to Odoo: each OdooAction applied once, in order per ticket, retried while Odoo is down.

`outbox_send(action_id)` is what the Celery task runs:
  1. claim the row with a conditional UPDATE (queued/awaiting_retry -> inflight); 0 rows: someone else
     has it, or it is final: do nothing;
  2. wait for older actions of the same ticket that are not final (re-scheduled, not run);
  3. read the ticket in Odoo. If an earlier attempt may have reached Odoo (`odoo_before` is set: its
     answer was lost, or its worker killed) and Odoo holds the values the action writes, that is the
     action's own effect: it is neither held nor written again. Otherwise, unless the lead confirmed,
     a watched field (escalations.outbox.watch) that Odoo holds differently from what the lead saw, and
     not as this action writes it, makes the action `stale`, with what changed; so does a page older
     than the mirror the action was made from. A moved write_date alone never does;
  4. record `odoo_before` (Odoo's values before the write), then write the fields;
  5. post the internal note, unless the ticket's chatter already has one with the action's uid;
  6. read the ticket back and record `sent`, or `changed` when Odoo kept another assignee or team than
     the action meant (its assignment rules; the row says what it kept, and an acceptance the ticket
     did not follow is undone), or `awaiting_retry` with a capped backoff for OdooUnavailable, or
     `failed` with Odoo's reason in plain words for every other OdooError, rolling back what the action
     changed in the console in the same transaction (escalations.outbox.rollback).
A lead's cancel of an action that may have reached Odoo comes here too (`cancelled_by` set): the outbox
checks Odoo first; if Odoo holds it (its values, or its note), it is completed and stands, else it is
cancelled and its acceptance undone.
A marker (kind MARK, escalations.outbox.markers) skips steps 3 to 5: it is the engine's, not a page a
lead saw, it only adds a tag and raises a priority (a repeat changes nothing), and it posts no note.
The sweeper (escalations.outbox.sweep) hands on what a dead worker or a lost task left.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from escalations.backoff import capped_backoff
from escalations.enqueue import SEND_ODOO_ACTION, enqueue, enqueue_on_commit
from escalations.logcontext import about_ticket
from escalations.models import AuditEntry, OdooAction
from escalations.odoo import tickets
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.errors import (
    OdooAccessDenied,
    OdooAuthError,
    OdooError,
    OdooRecordGone,
    OdooRejected,
    OdooUnavailable,
)
from escalations.odoo.values import m2o_id, odoo_datetime
from escalations.outbox.markers import marker_values
from escalations.outbox.rollback import action_roll_back
from escalations.outbox.routine import ForbiddenAutomation, automation_handed, check_routine
from escalations.outbox.watch import (
    WATCHED,
    Values,
    effect,
    holds,
    kept_by_odoo,
    odoo_values,
    stale_changes,
)

logger = logging.getLogger(__name__)

State = OdooAction.State
Kind = OdooAction.Kind
WAIT_FOR_OLDER = timedelta(seconds=2)
AUTOMATED = (Kind.AUTOMATION, Kind.UNDO)
# Shown on the row: a ticket's actions apply in order, so one waits while an earlier one is stale
# (for its lead to confirm or cancel) or still on its way.
WAITING_FOR_OLDER = "Waits for an earlier action on this ticket to be applied, confirmed or cancelled."
PAGE_OLDER = "the ticket was changed in Odoo after you loaded the page"
CANCEL_CHECKING = ("Cancelling: an earlier attempt may already have reached Odoo, so the console is "
                   "checking what Odoo holds.")
HELD_WHEN_CANCELLED = "Odoo already held it when it was cancelled, so it stands"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=capped_backoff(attempts, base=settings.OUTBOX_RETRY_BASE_SECONDS,
                                            cap=settings.OUTBOX_RETRY_MAX_SECONDS))


def _connect() -> OdooClient:
    # No retries inside the client: the outbox's own backoff (and the checks before each attempt)
    # are what make a retry safe.
    return OdooClient.connect(dataclasses.replace(OdooConfig.from_settings(), retries=0))


def _claim(action_id: int, now: datetime) -> OdooAction | None:
    claimed = OdooAction.objects.filter(pk=action_id, state__in=OdooAction.SENDABLE_STATES).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).update(state=State.INFLIGHT, inflight_since=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return OdooAction.objects.select_related("ticket", "created_by", "cancelled_by").get(pk=action_id)


def _mine(action: OdooAction):
    """The row, only while it is still this attempt's (the sweeper may have re-queued it)."""
    return OdooAction.objects.filter(pk=action.pk, state=State.INFLIGHT, inflight_since=action.inflight_since)


def _release(action: OdooAction, *, state: str, **fields) -> bool:
    """Leave inflight, only if the row is still ours."""
    return bool(_mine(action).update(state=state, inflight_since=None, **fields))


class _HandedOn(Exception):
    """The sweeper gave the row to another attempt while this one ran: this one stops, writing nothing."""


def _older_pending(action: OdooAction) -> bool:
    return OdooAction.objects.filter(ticket_id=action.ticket_id, pk__lt=action.pk).exclude(
        state__in=OdooAction.FINAL_STATES).exists()


def _own_earlier(action: OdooAction):
    """The console's own earlier actions on the ticket that reached Odoo: this lead's, and the engine's
    markers. Another lead's are changes this lead has not seen."""
    return OdooAction.objects.filter(ticket_id=action.ticket_id, pk__lt=action.pk,
                                     state__in=OdooAction.APPLIED_STATES).filter(
        Q(created_by_id=action.created_by_id) | Q(created_by__isnull=True))


def _expected(action: OdooAction) -> tuple[Values, bool]:
    """What the console expects Odoo to hold in the watched fields: what the lead saw, moved on by the
    console's own actions applied since that snapshot; and whether the lead's page is older than the
    snapshot (then the page may have shown values the snapshot no longer has)."""
    seen = dict(action.seen_values or {})
    snapshot = seen.pop("write_date", None)
    snapshot = datetime.fromisoformat(snapshot) if snapshot else None
    own = _own_earlier(action)
    if snapshot is not None:
        own = own.filter(applied_write_date__gte=snapshot)
    effects = own.filter(applied_values__isnull=False).order_by("pk").values_list("applied_values", flat=True)
    for applied in effects:
        seen.update(applied)
    page_older = False
    if snapshot is not None and action.seen_write_date is not None:
        # The console's own writes since the page moved the mirror on, not anything the lead missed.
        latest_own = _own_earlier(action).aggregate(m=Max("applied_write_date"))["m"]
        page = max(d for d in (action.seen_write_date, latest_own) if d is not None)
        page_older = page < snapshot
    return seen, page_older


def _read_ticket(client: OdooClient, ticket_id: int, extra: tuple[str, ...] = ()) -> dict:
    return tickets.ticket_read(client, ticket_id, ["write_date", "active", *WATCHED, *extra])


def _find_note(client: OdooClient, action: OdooAction) -> int | None:
    return tickets.note_find(client, action.ticket_id, uid=str(action.action_uid))


@dataclasses.dataclass
class _Result:
    """What an attempt found and did in Odoo."""

    stale: list[str] = dataclasses.field(default_factory=list)
    cancelled: bool = False
    kept: list[str] = dataclasses.field(default_factory=list)  # what Odoo kept instead (CHANGED)
    fields: dict = dataclasses.field(default_factory=dict)  # to record on the row when applied
    note: str = ""  # said on the row with the outcome
    handed: str = ""  # an automated change not made: why the ticket needs a person


def _apply(client: OdooClient, action: OdooAction) -> _Result:
    """Steps 3-6 (see the module)."""
    if action.kind == Kind.MARK:
        return _apply_marker(client, action)
    automated = action.kind == Kind.AUTOMATION
    remote = _read_ticket(client, action.ticket_id, extra=("partner_id",) if automated else ())
    writes = action.payload.get("values") or {}
    current = odoo_values(remote)
    if automated and not action.may_have_reached_odoo:
        # What the mirror cannot tell: the customer's own tags, the length of the thread.
        reason = tickets.person_needed(
            client, action.ticket_id, partner_id=m2o_id(remote.get("partner_id")),
            customer_tags=settings.AUTOMATION_PERSON_TAGS, long_thread=settings.AUTOMATION_LONG_THREAD)
        if reason:
            return _Result(handed=reason)
    if action.may_have_reached_odoo and holds(current, writes):
        # An earlier attempt's write reached Odoo (or it had none): this is the action's own effect,
        # never a change to hold it for, and it is not written again.
        before = action.odoo_before
    else:
        if writes and not action.confirmed:
            expected, page_older = _expected(action)
            changes = stale_changes(current, expected, writes)
            if page_older and not changes:
                changes = [PAGE_OLDER]
            if changes:
                return _Result(stale=changes)
        before = current
        # Before anything is sent: from here on a lost answer may still mean Odoo applied it.
        if not _mine(action).update(odoo_before=before):
            raise _HandedOn
        if writes:
            tickets.ticket_write(client, action.ticket_id, writes)
    return _finish(client, action, before=before, writes=writes)


def _finish(client: OdooClient, action: OdooAction, *, before: Values, writes: dict,
            note: str = "") -> _Result:
    """Post the note unless Odoo has it, read the ticket back, and say what Odoo kept."""
    message_id = _find_note(client, action)
    if message_id is None and action.payload.get("note"):
        message_id = tickets.note_post(client, action.ticket_id, body=action.payload["note"])
    after = _read_ticket(client, action.ticket_id)
    after_values = odoo_values(after)
    return _Result(kept=kept_by_odoo(before, after_values, writes) if writes else [], note=note, fields={
        "odoo_message_id": message_id, "applied_write_date": odoo_datetime(after["write_date"]),
        "applied_values": effect(before, after_values, writes),
    })


def _settle_cancel(client: OdooClient, action: OdooAction) -> _Result:
    """A lead cancelled an action that may have reached Odoo: look before deciding."""
    try:
        remote = _read_ticket(client, action.ticket_id)
    except OdooRecordGone:
        return _Result(cancelled=True)
    writes = action.payload.get("values") or {}
    current = odoo_values(remote)
    applied = (writes and holds(current, writes)) or _find_note(client, action) is not None
    if not applied:
        return _Result(cancelled=True)
    # Odoo holds it: it stands, with its note, so that the chatter says who did it. Not written again.
    return _finish(client, action, before=action.odoo_before or current, writes=writes,
                   note=HELD_WHEN_CANCELLED)


def _apply_marker(client: OdooClient, action: OdooAction) -> _Result:
    remote = _read_ticket(client, action.ticket_id, extra=("tag_ids",))
    values = marker_values(client, remote=remote, mark=action.payload.get("mark") or {})
    if not values:
        # Nothing written: the ticket's write_date is not ours, and must not count as seen (_expected).
        return _Result(fields={"odoo_message_id": None, "applied_write_date": None, "applied_values": None})
    tickets.ticket_write(client, action.ticket_id, values)
    after = _read_ticket(client, action.ticket_id)
    return _Result(fields={
        "odoo_message_id": None, "applied_write_date": odoo_datetime(after["write_date"]),
        "applied_values": effect(odoo_values(remote), odoo_values(after), values),
    })


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
        enqueue_on_commit(SEND_ODOO_ACTION, following.pk)


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "a lead"


def outbox_send(action_id: int, *, now: datetime | None = None) -> str:
    """Send one action (see the module's steps). Returns the state it was left in, or "skipped"."""
    now = now or timezone.now()
    action = _claim(action_id, now)
    if action is None:
        return "skipped"
    with about_ticket(action.ticket_id):
        outcome = _send_claimed(action)
        logger.info("Odoo action %s (%s): %s", action.pk, action.kind, outcome)
    return outcome


def _send_claimed(action: OdooAction) -> str:
    if _older_pending(action):
        _release(action, state=State.QUEUED, next_attempt_at=timezone.now() + WAIT_FOR_OLDER,
                 attempts=F("attempts") - 1,
                 last_error=CANCEL_CHECKING if action.cancelled_by_id else WAITING_FOR_OLDER)
        return State.QUEUED
    try:
        _check_automated(action)
        client = _connect()
        result = _settle_cancel(client, action) if action.cancelled_by_id else _apply(client, action)
    except ForbiddenAutomation as refusal:
        return _record_failure(action, f"Refused by the console: {refusal.message}")
    except _HandedOn:
        return "skipped"
    except OdooUnavailable as exc:
        delay = backoff(action.attempts)
        reason = plain_reason(exc)
        if action.cancelled_by_id:
            reason = f"{CANCEL_CHECKING} {reason} Trying again."
        _release(action, state=State.AWAITING_RETRY, next_attempt_at=timezone.now() + delay,
                 last_error=reason)
        enqueue(SEND_ODOO_ACTION, action.pk, countdown=delay.total_seconds())
        return State.AWAITING_RETRY
    except OdooError as exc:
        return _record_failure(action, plain_reason(exc))
    return _record(action, result)


def _check_automated(action: OdooAction) -> None:
    """An automated change, or its undo, is held to the honest limit once more right before it is
    written, whatever its row says now (escalations.outbox.routine)."""
    if action.kind in AUTOMATED:
        check_routine(action.payload.get("values") or {}, undo=action.kind == Kind.UNDO)


def _record_failure(action: OdooAction, reason: str) -> str:
    with transaction.atomic():
        if action.cancelled_by_id:
            # Odoo could not be asked whether it holds the action: cancelled, saying so, and nothing undone
            # (Odoo may hold it).
            reason = (f"Cancelled by {_who(action.cancelled_by)}, but the console could not check Odoo "
                      f"({reason}), so Odoo may already hold it: check the ticket in Odoo.")
            if _release(action, state=State.CANCELLED, last_error=reason):
                _audit(action, AuditEntry.Outcome.CANCELLED, reason)
            _next_of_ticket(action)
            return State.CANCELLED
        # Only if the row is still ours: an attempt the sweeper handed on records its own outcome.
        if _release(action, state=State.FAILED, last_error=reason):
            _audit(action, AuditEntry.Outcome.FAILED, reason)
            action_roll_back(action=action, reason=reason)
        _next_of_ticket(action)
    return State.FAILED


def _record(action: OdooAction, result: _Result) -> str:
    with transaction.atomic():
        if result.handed:
            reason = f"Not applied: handed to a person, {result.handed}."
            if _release(action, state=State.CANCELLED, last_error=reason):
                automation_handed(action, reason=result.handed)
            _next_of_ticket(action)
            return State.CANCELLED
        if result.stale and action.kind in AUTOMATED:
            # Automation never overrides a person: it steps back, and the ledger shows why.
            reason = ("Not applied: the ticket changed in Odoo meanwhile (" + "; ".join(result.stale)
                      + "), so automation left it to the people working on it.")
            if _release(action, state=State.CANCELLED, stale_changes=result.stale, last_error=reason):
                _audit(action, AuditEntry.Outcome.CANCELLED, reason)
            _next_of_ticket(action)
            return State.CANCELLED
        if result.stale:
            reason = "The ticket changed in Odoo since you loaded it: " + "; ".join(result.stale) + "."
            if _release(action, state=State.STALE, stale_changes=result.stale, last_error=reason):
                _audit(action, AuditEntry.Outcome.STALE, reason)
            return State.STALE
        if result.cancelled:
            reason = (f"Cancelled by {_who(action.cancelled_by)}: Odoo did not hold it, and it was not "
                      "sent again.")
            if _release(action, state=State.CANCELLED, last_error=reason):
                _audit(action, AuditEntry.Outcome.CANCELLED, reason)
                action_roll_back(action=action, reason=reason, actor=action.cancelled_by, rule="")
            _next_of_ticket(action)
            return State.CANCELLED
        said = [s for s in (result.note, *result.kept) if s]
        reason = ("; ".join(said) + ".") if said else ""
        state, outcome = (State.CHANGED, AuditEntry.Outcome.CHANGED) if result.kept else (
            State.SENT, AuditEntry.Outcome.APPLIED)
        if _release(action, state=state, applied_at=timezone.now(), last_error=reason, **result.fields):
            _audit(action, outcome, reason)
            if result.kept and _assignee_not_kept(action, result):
                # The acceptance and the assignment are one promise ("this person has the ticket"). When
                # Odoo gives the ticket to someone else, keeping the acceptance would stop the escalation
                # while the person who accepted does not hold the ticket, so nobody may be on it. It is
                # undone: the escalation waits again, and the row says what Odoo kept.
                action_roll_back(action=action, reason=reason, rule="Changed by Odoo")
        _next_of_ticket(action)
    return state


def _assignee_not_kept(action: OdooAction, result: _Result) -> bool:
    """The action assigned the ticket to someone, and Odoo holds another assignee (or none)."""
    writes = action.payload.get("values") or {}
    after = result.fields.get("applied_values") or {}
    return "user_id" in writes and not holds(after, {"user_id": writes["user_id"]})
