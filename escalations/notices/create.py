"""Creating notices: for new escalation events, for what an evaluation raised, for events a crash left
without theirs, and reminders of unaccepted escalations. Each batch is routed (alone, or held for a
digest or quiet hours: escalations.notices.route) and what goes alone is enqueued on commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Value
from django.utils import timezone

from escalations.models import Escalation, EscalationEvent, Notice

from .people import prefs_for, prefs_of
from .recipients import Recipient, level_recipients, what_to_tell
from .route import notices_insert

Kind = Notice.Kind
State = Notice.State
EventKind = EscalationEvent.Kind
EVENT_CHUNK = 1000
EVENT_RELATED = ("escalation__policy", "to_level", "from_level")
# The sweeper's catch-up looks this far back for events left without notices, and leaves the most
# recent ones to the path that is writing them right now.
CATCH_UP_WINDOW = timedelta(hours=6)
CATCH_UP_GRACE = timedelta(seconds=30)


def notice_create_for_events(*, events: Iterable[EscalationEvent], now: datetime | None = None) -> int:
    """Create the notices the events call for, held or sent on commit; returns how many were new.

    Call it in the transaction that wrote the events, or right after it committed. Safe to repeat:
    the (event, email) constraint makes a second call create nothing. Load the events with
    `escalation__policy`, `to_level` and `from_level` (EVENT_RELATED) to spare a query per event.
    """
    now = now or timezone.now()
    events = list(events)
    by_level: dict[int, list[Recipient]] = {}
    rows = []
    for event in events:
        told = what_to_tell(event)
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
                escalation=event.escalation, event=event, level=level, kind=kind,
                user_id=recipient.user_id, email=recipient.email, created_at=now,
            ))
    ids = [event.pk for event in events]
    chunks = [ids[start:start + EVENT_CHUNK] for start in range(0, len(ids), EVENT_CHUNK)]
    return notices_insert(rows, now=now, new=[Notice.objects.filter(event__in=chunk) for chunk in chunks])


def notice_create_for_evaluation(*, escalation_ids: list[int], now: datetime) -> int:
    """Notices for what one engine evaluation raised or moved up (its events carry no actor), created
    together: the budget counts a person's notices of the whole evaluation at once."""
    events: list[EscalationEvent] = []
    # In chunks: a first run over a large backlog may raise more escalations than SQLite takes
    # parameters in one statement.
    for start in range(0, len(escalation_ids), EVENT_CHUNK):
        events += EscalationEvent.objects.filter(
            escalation_id__in=escalation_ids[start:start + EVENT_CHUNK], at=now, actor__isnull=True,
            kind__in=[EventKind.RAISED, EventKind.MOVED_UP],
        ).select_related(*EVENT_RELATED).order_by("pk")
    return notice_create_for_events(events=events, now=now)


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
    ).select_related(*EVENT_RELATED).order_by("pk")
    created, last = 0, 0
    while chunk := list(events.filter(pk__gt=last)[:EVENT_CHUNK]):  # keyset: creating changes the set
        created += notice_create_for_events(events=chunk, now=now)
        last = chunk[-1].pk
    return created


def notice_create_reminders(*, now: datetime | None = None) -> int:
    """Reminders for open, unaccepted escalations waiting at their level longer than `remind_after`.

    One per escalation, level and address, ever (a unique constraint). People who turned these
    reminders off get none; in a person's quiet hours it is held until they end, and dropped then if
    someone accepted meanwhile. The loop runs over the escalations due a reminder.
    """
    now = now or timezone.now()
    waited_since = ExpressionWrapper(Value(now, output_field=DateTimeField()) - F("level__remind_after"),
                                     output_field=DateTimeField())
    reminded = Notice.objects.filter(
        escalation=OuterRef("pk"), level=OuterRef("level_id"), kind=Kind.REMINDER
    )
    due = list(Escalation.objects.filter(
        ~Exists(reminded), ended_at__isnull=True, accepted_at__isnull=True,
        level__remind_after__isnull=False, level_since__lte=waited_since,
    ).select_related("level", "ticket").order_by("pk"))
    by_level: dict[int, list[Recipient]] = {}
    for escalation in due:
        if escalation.level_id not in by_level:
            by_level[escalation.level_id] = level_recipients(level=escalation.level)
    prefs = prefs_for(r.user_id for recipients in by_level.values() for r in recipients)
    rows = []
    for escalation in due:
        for recipient in by_level[escalation.level_id]:
            if not prefs_of(prefs, recipient.user_id).unaccepted_reminders:
                continue
            rows.append(Notice(
                escalation=escalation, level=escalation.level, kind=Kind.REMINDER,
                user_id=recipient.user_id, email=recipient.email, created_at=now,
            ))
    return notices_insert(rows, now=now, new=[Notice.objects.filter(kind=Kind.REMINDER)])
