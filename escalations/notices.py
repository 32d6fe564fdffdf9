"""Email notices: who hears about an escalation event, and delivering each notice once.

- `notice_create_for_events` turns new escalation events into Notice rows (the outbox), one per
  recipient of the level concerned, and enqueues their sending once the transaction commits;
- `notice_create_reminders` does the same for escalations left unaccepted past their level's
  `remind_after`, once per escalation, level and person;
- `notice_send` claims one notice, renders and sends it, and records what happened;
- `notice_sweep` hands rows whose task was lost (a crash, a broker down) to a new task.

Rows are keyed by unique constraints (see escalations.models.notice) and inserted with ON CONFLICT DO
NOTHING, so creating twice creates nothing new; sending claims the row with a conditional UPDATE, so
two workers never both send it.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.utils import timezone

from escalations.backoff import capped_backoff
from escalations.enqueue import SEND_NOTICE, enqueue, enqueue_on_commit
from escalations.models import Escalation, EscalationEvent, EscalationLevel, Notice, Profile

from .notice_email import notice_message

logger = logging.getLogger(__name__)

Kind = Notice.Kind
EVENT_CHUNK = 1000
# The sweeper's catch-up looks this far back for events left without notices, and leaves the most
# recent ones to the path that is writing them right now.
CATCH_UP_WINDOW = timedelta(hours=6)
CATCH_UP_GRACE = timedelta(seconds=30)
State = Notice.State
EventKind = EscalationEvent.Kind


# -- who is told ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: int | None = None


def level_recipients(*, level: EscalationLevel) -> list[Recipient]:
    """The level's notice recipients: its users' emails, then its extra addresses; each address once.

    Blank or malformed addresses are left out with a log line: one typo must not stop the others.
    """
    recipients: dict[str, Recipient] = {}

    def add(raw: str, user_id: int | None, origin: str) -> None:
        email = (raw or "").strip().lower()
        if not email:
            if user_id is not None:
                logger.warning("Level %s: user %s (%s) has no email address", level.pk, user_id, origin)
            return
        try:
            validate_email(email)
        except ValidationError:
            logger.warning("Level %s: skipping invalid notice address %r (%s)", level.pk, raw, origin)
            return
        recipients.setdefault(email, Recipient(email=email, user_id=user_id))

    for user in level.notify_users.filter(is_active=True).order_by("pk"):
        add(user.email, user.pk, f"user {user.get_username()}")
    for line in level.notify_emails.splitlines():
        add(line, None, "notify_emails")
    return list(recipients.values())


def _what_to_tell(event: EscalationEvent) -> tuple[str, EscalationLevel] | None:
    """The notice kind an event gives and the level whose recipients get it; None: no notice."""
    if event.kind == EventKind.RAISED and event.to_level_id:
        return Kind.ESCALATED, event.to_level
    if event.kind == EventKind.MOVED_UP and event.to_level_id:
        return Kind.MOVED_UP, event.to_level
    if event.kind == EventKind.ACCEPTED and event.to_level_id and event.to_level.notify_on_accept:
        return Kind.ACCEPTED, event.to_level
    if event.kind == EventKind.DE_ESCALATED and event.from_level_id and event.from_level.notify_on_deescalate:
        return Kind.DE_ESCALATED, event.from_level
    return None


# -- creating notices -----------------------------------------------------------------------------------


def notice_create_for_events(*, events: Iterable[EscalationEvent], now: datetime | None = None) -> int:
    """Create the notices the events call for and enqueue them on commit; returns how many were new.

    Call it in the transaction that wrote the events, or right after it committed. Safe to repeat:
    the (event, email) constraint makes a second call create nothing.
    """
    now = now or timezone.now()
    events = list(events)
    by_level: dict[int, list[Recipient]] = {}
    rows = []
    for event in events:
        told = _what_to_tell(event)
        if told is None:
            continue
        kind, level = told
        if level.pk not in by_level:
            by_level[level.pk] = level_recipients(level=level)
        for recipient in by_level[level.pk]:
            # The person who accepted or de-escalated knows it already.
            if kind in (Kind.ACCEPTED, Kind.DE_ESCALATED) and recipient.user_id == event.actor_id:
                continue
            rows.append(Notice(
                escalation_id=event.escalation_id, event=event, level=level, kind=kind,
                user_id=recipient.user_id, email=recipient.email, created_at=now,
            ))
    if not rows:
        return 0
    Notice.objects.bulk_create(rows, ignore_conflicts=True)
    # ignore_conflicts leaves the ids unset; the rows this call created are the pending ones stamped now.
    new = Notice.objects.filter(event__in=[e.pk for e in events], created_at=now, state=State.PENDING)
    return _enqueue_on_commit(list(new.values_list("pk", flat=True)))


def notice_create_for_evaluation(*, escalation_ids: list[int], now: datetime) -> int:
    """Notices for what one engine evaluation raised or moved up (its events carry no actor)."""
    created = 0
    # In chunks: a first run over a large backlog may raise more escalations than SQLite takes
    # parameters in one statement.
    for start in range(0, len(escalation_ids), EVENT_CHUNK):
        events = EscalationEvent.objects.filter(
            escalation_id__in=escalation_ids[start:start + EVENT_CHUNK], at=now, actor__isnull=True,
            kind__in=[EventKind.RAISED, EventKind.MOVED_UP],
        ).select_related("to_level", "from_level").order_by("pk")
        created += notice_create_for_events(events=events, now=now)
    return created


def notice_catch_up(*, now: datetime | None = None) -> int:
    """Notices for recent events that have none, because the process that wrote the events died
    before it wrote their notices (the engine writes them right after its step commits).

    Looks back CATCH_UP_WINDOW, leaving the last CATCH_UP_GRACE to the normal path; creating is
    idempotent, so an event whose level simply has no recipients costs a look, nothing more.
    """
    now = now or timezone.now()
    events = EscalationEvent.objects.filter(
        at__gte=now - CATCH_UP_WINDOW, at__lte=now - CATCH_UP_GRACE, notices__isnull=True,
        kind__in=[EventKind.RAISED, EventKind.MOVED_UP, EventKind.ACCEPTED, EventKind.DE_ESCALATED],
    ).select_related("to_level", "from_level").order_by("pk")
    created, last = 0, 0
    while chunk := list(events.filter(pk__gt=last)[:EVENT_CHUNK]):  # keyset: creating changes the set
        created += notice_create_for_events(events=chunk, now=now)
        last = chunk[-1].pk
    return created


def notice_create_reminders(*, now: datetime | None = None) -> int:
    """Reminders for open, unaccepted escalations waiting at their level longer than `remind_after`.

    One per escalation, level and address, ever (a unique constraint); users who opted out of
    reminders get none. The loop runs over the escalations due a reminder, not over tickets.
    """
    now = now or timezone.now()
    waited_since = ExpressionWrapper(Value(now, output_field=DateTimeField()) - F("level__remind_after"),
                                     output_field=DateTimeField())
    reminded = Notice.objects.filter(
        escalation=OuterRef("pk"), level=OuterRef("level_id"), kind=Kind.REMINDER
    )
    due = Escalation.objects.filter(
        ~Exists(reminded), ended_at__isnull=True, accepted_at__isnull=True,
        level__remind_after__isnull=False, level_since__lte=waited_since,
    ).select_related("level").order_by("pk")
    opted_out = set(Profile.objects.filter(reminders_opt_out=True).values_list("user_id", flat=True))
    rows = []
    for escalation in due:
        for recipient in level_recipients(level=escalation.level):
            if recipient.user_id in opted_out:
                continue
            rows.append(Notice(
                escalation=escalation, level=escalation.level, kind=Kind.REMINDER,
                user_id=recipient.user_id, email=recipient.email, created_at=now,
            ))
    if not rows:
        return 0
    with transaction.atomic():
        Notice.objects.bulk_create(rows, ignore_conflicts=True)
        new = Notice.objects.filter(kind=Kind.REMINDER, created_at=now, state=State.PENDING)
        return _enqueue_on_commit(list(new.values_list("pk", flat=True)))


def _enqueue_on_commit(ids: list[int]) -> int:
    for notice_id in ids:
        enqueue_on_commit(SEND_NOTICE, notice_id)
    return len(ids)


# -- sending --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    state: str  # the notice's state afterwards
    retry_in: float | None = None  # seconds until the retry that notice_send enqueued
    claimed: bool = True  # False: another worker had it, or it was already final


class SendError(Exception):
    """An SMTP failure, sorted: `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def notice_send(*, notice_id: int, now: datetime | None = None) -> SendOutcome:
    """Send one notice, at most once however often it is called and by however many workers.

    1. Claim the row (pending or awaiting retry -> inflight) with a conditional UPDATE; a row that is
       final, missing, or claimed by someone else is left alone.
    2. Render and send, outside any transaction, so no lock is held during the SMTP conversation.
    3. Record the outcome: sent; failed at once for a permanent refusal; awaiting retry with a capped
       backoff for a temporary one, until NOTICE_MAX_ATTEMPTS.
    """
    now = now or timezone.now()
    claimed = Notice.objects.filter(pk=notice_id, state__in=[State.PENDING, State.AWAITING_RETRY]).update(
        state=State.INFLIGHT, attempts=F("attempts") + 1, claimed_at=now, next_attempt_at=None,
    )
    if not claimed:
        state = Notice.objects.filter(pk=notice_id).values_list("state", flat=True).first()
        return SendOutcome(state=state or "missing", claimed=False)
    notice = Notice.objects.select_related(
        "escalation__ticket__team", "escalation__ticket__assignee", "escalation__ticket__customer",
        "escalation__ticket__stage", "escalation__level", "event__actor", "level",
    ).get(pk=notice_id)
    stale = _no_longer_needed(notice)
    if stale:
        return _record(notice, state=State.FAILED, now=now, error=stale)
    message = notice_message(notice=notice, now=now)
    try:
        _deliver(message)
    except SendError as exc:
        return _record_failure(notice, exc, now=now)
    return _record(notice, state=State.SENT, now=now, subject=message.subject)


def _no_longer_needed(notice: Notice) -> str:
    # A reminder asks someone to accept: pointless once someone did, or the escalation ended.
    if notice.kind != Kind.REMINDER:
        return ""
    escalation = notice.escalation
    if escalation.ended_at is not None:
        return "Not sent: the escalation ended before the reminder went out."
    if escalation.accepted_at is not None or escalation.level_id != notice.level_id:
        return "Not sent: the escalation was accepted or moved before the reminder went out."
    return ""


def _deliver(message) -> None:
    connection = get_connection(fail_silently=False)
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        reply = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items())
        raise SendError(f"The mail server refused the recipient ({reply}).",
                        permanent=all(code >= 500 for code in codes)) from exc
    except smtplib.SMTPDataError as exc:
        raise SendError(f"The mail server refused the message ({exc.smtp_code} {_text(exc.smtp_error)}).",
                        permanent=exc.smtp_code >= 500) from exc
    except smtplib.SMTPResponseException as exc:
        # Authentication or sender refused: our configuration, which a person can fix; keep trying.
        raise SendError(f"The mail server answered {exc.smtp_code} {_text(exc.smtp_error)}.",
                        permanent=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"Could not reach the mail server: {exc or type(exc).__name__}.",
                        permanent=False) from exc


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: doubling from the base, capped."""
    return capped_backoff(attempts, base=settings.NOTICE_RETRY_BASE_SECONDS,
                          cap=settings.NOTICE_RETRY_MAX_SECONDS)


def _record_failure(notice: Notice, exc: SendError, *, now: datetime) -> SendOutcome:
    if exc.permanent:
        logger.warning("Notice %s to %s failed: %s", notice.pk, notice.email, exc.message)
        return _record(notice, state=State.FAILED, now=now, error=exc.message)
    if notice.attempts >= settings.NOTICE_MAX_ATTEMPTS:
        error = f"Gave up after {notice.attempts} attempts. {exc.message}"
        logger.warning("Notice %s to %s failed: %s", notice.pk, notice.email, error)
        return _record(notice, state=State.FAILED, now=now, error=error)
    delay = retry_delay(notice.attempts)
    logger.info("Notice %s to %s: %s; retrying in %ss", notice.pk, notice.email, exc.message, delay)
    outcome = _record(notice, state=State.AWAITING_RETRY, now=now, error=exc.message,
                      next_attempt_at=now + timedelta(seconds=delay), retry_in=delay)
    # Retried the way the outbox retries: the row says when, a task is enqueued for then, and the
    # sweeper hands the row to a new task if that one is lost.
    enqueue(SEND_NOTICE, notice.pk, countdown=delay)
    return outcome


def _record(notice: Notice, *, state: str, now: datetime, error: str = "", subject: str = "",
            next_attempt_at: datetime | None = None, retry_in: float | None = None) -> SendOutcome:
    values = {"state": state, "last_error": error, "next_attempt_at": next_attempt_at}
    if state == State.SENT:
        values.update(sent_at=now, subject=subject[:255])
    # Only the claim we made: if the sweeper gave this row to another attempt meanwhile, that one records.
    Notice.objects.filter(pk=notice.pk, state=State.INFLIGHT, claimed_at=notice.claimed_at).update(**values)
    return SendOutcome(state=state, retry_in=retry_in)


# -- the sweeper ----------------------------------------------------------------------------------------


def notice_sweep(*, now: datetime | None = None) -> list[int]:
    """The ids of notices whose task was lost, made sendable again; the caller enqueues them.

    - inflight for longer than NOTICE_INFLIGHT_TIMEOUT_SECONDS: the worker died mid-send;
    - awaiting retry well past their time, or pending for over a minute: the task never came.
    A notice that has used all its attempts is failed instead.
    """
    now = now or timezone.now()
    stuck = now - timedelta(seconds=settings.NOTICE_INFLIGHT_TIMEOUT_SECONDS)
    late = now - timedelta(seconds=60)
    Notice.objects.filter(
        state=State.INFLIGHT, claimed_at__lt=stuck, attempts__gte=settings.NOTICE_MAX_ATTEMPTS
    ).update(state=State.FAILED, last_error="Gave up: the last attempt never finished.")
    Notice.objects.filter(state=State.INFLIGHT, claimed_at__lt=stuck).update(
        state=State.AWAITING_RETRY, next_attempt_at=now, last_error="The last attempt never finished."
    )
    due = Notice.objects.filter(
        Q(state=State.AWAITING_RETRY, next_attempt_at__lte=late)
        | Q(state=State.AWAITING_RETRY, next_attempt_at=now)
        | Q(state=State.PENDING, created_at__lte=late)
    )
    return list(due.order_by("pk").values_list("pk", flat=True))
