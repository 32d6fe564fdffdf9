"""Sending a notice once, however often it is asked and by however many workers, retrying what a mail
server refused for the moment; and the sweeper that hands lost notices to new tasks."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F, Q
from django.utils import timezone

from escalations.backoff import capped_backoff
from escalations.enqueue import SEND_NOTICE, enqueue
from escalations.models import Notice

from .digest_email import digest_message
from .email import notice_message
from .stale import notice_stale_reason

logger = logging.getLogger(__name__)

Kind = Notice.Kind
State = Notice.State


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
    stale = notice_stale_reason(notice, now=now)
    if stale:
        return _record(notice, state=State.FAILED, now=now, error=stale)
    if notice.kind == Kind.DIGEST:
        message = digest_message(notice=notice, now=now)
    else:
        message = notice_message(notice=notice, now=now)
    try:
        _deliver(message)
    except SendError as exc:
        return _record_failure(notice, exc, now=now)
    return _record(notice, state=State.SENT, now=now, subject=message.subject)


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
    # A held notice released to go alone became pending at its release, not at its creation.
    pending_since = Q(release_at__isnull=True) | Q(release_at__lte=late)
    due = Notice.objects.filter(
        Q(state=State.AWAITING_RETRY, next_attempt_at__lte=late)
        | Q(state=State.AWAITING_RETRY, next_attempt_at=now)
        | (Q(state=State.PENDING, created_at__lte=late) & pending_since)
    )
    return list(due.order_by("pk").values_list("pk", flat=True))
