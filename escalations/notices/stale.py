"""Reminders that lost their point before they went out: checked when one is sent alone, and when held
ones are gathered into a digest."""

from __future__ import annotations

from datetime import datetime

from escalations.models import Notice

Kind = Notice.Kind


def notice_stale_reason(notice: Notice, *, now: datetime) -> str:
    """Why this notice should not go out any more, in words for its row; "" when it should."""
    if notice.kind == Kind.REMINDER:
        return _unaccepted_stale(notice)
    if notice.kind == Kind.DEADLINE:
        return _deadline_stale(notice, now=now)
    return ""


def _unaccepted_stale(notice: Notice) -> str:
    # A reminder asks someone to accept: pointless once someone did, or the escalation ended.
    escalation = notice.escalation
    if escalation.ended_at is not None:
        return "Not sent: the escalation ended before the reminder went out."
    if escalation.accepted_at is not None or escalation.level_id != notice.level_id:
        return "Not sent: the escalation was accepted or moved before the reminder went out."
    return ""


def _deadline_stale(notice: Notice, *, now: datetime) -> str:
    escalation = notice.escalation
    if escalation.ended_at is not None:
        return "Not sent: the escalation ended before the reminder went out."
    deadline = deadline_of_occasion(notice.occasion)
    if deadline is None or deadline <= now:
        return "Not sent: the deadline passed before the reminder went out."
    return ""


def occasion_for(percent: int, deadline: datetime) -> str:
    return f"{percent}% {deadline.isoformat()}"


def percent_of_occasion(occasion: str) -> int | None:
    head = occasion.split("%", 1)[0]
    return int(head) if head.isdigit() else None


def deadline_of_occasion(occasion: str) -> datetime | None:
    try:
        return datetime.fromisoformat(occasion.split(" ", 1)[1])
    except (IndexError, ValueError):
        return None
