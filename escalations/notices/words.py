"""What a notice says in one line, news first: "Escalated to L1: #111 Scanner not recognised — SLA
breached 3 h ago". The subject of a single notice, and a line of a digest.

Worked out when the email is sent, so "3 h ago" is true when it arrives. Levels are named the way the
console shows them everywhere (L1, L2: the number the policy gives them), tickets by their Odoo
reference, triggers by what happened rather than by their codes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime

from escalations.models import Escalation, EscalationLevel, Notice, Ticket, Trigger
from escalations.models.policy import PRIORITIES

from .stale import deadline_of_occasion, percent_of_occasion

Kind = Notice.Kind
REASON_CHARS = 60


def short_duration(delta: timedelta) -> str:
    """'12 min', '1 h 40 min', '3 h', '2 d 4 h': enough to read at a glance; at least a minute."""
    minutes = max(1, int(abs(delta.total_seconds())) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 3 and minutes:
        return f"{hours} h {minutes} min"
    if hours < 24:
        return f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ticket_reference(ticket: Ticket) -> str:
    """'#111' for Odoo's numbered references, 'HD-1042' as it is, '#<id>' when Odoo gives none."""
    reference = (ticket.reference or "").strip()
    if not reference:
        return f"#{ticket.odoo_id}"
    return f"#{reference}" if reference.isdigit() else reference


def level_short(level: EscalationLevel | None) -> str:
    return f"L{level.number}" if level is not None else ""


def person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _fact_time(escalation: Escalation, key: str) -> datetime | None:
    return parse_datetime((escalation.facts or {}).get(key) or "")


def trigger_words(escalation: Escalation, *, now: datetime, actor=None) -> str:
    """Why the ticket is escalated, and how long ago or how long left, at `now`."""
    trigger = escalation.trigger
    if trigger in (Trigger.SLA_BREACHED, Trigger.SLA_AT_RISK):
        deadline = _fact_time(escalation, "deadline")
        if deadline is None:
            return escalation.get_trigger_display()
        if deadline <= now:
            return f"SLA breached {short_duration(now - deadline)} ago"
        return f"SLA at risk, {short_duration(deadline - now)} left"
    if trigger == Trigger.NO_UPDATE and (last := _fact_time(escalation, "last_update")):
        return f"no update for {short_duration(now - last)}"
    if trigger == Trigger.REOPENED and (reopened := _fact_time(escalation, "reopened_at")):
        return f"reopened {short_duration(now - reopened)} ago"
    if trigger == Trigger.UNASSIGNED and (created := _fact_time(escalation, "created_at")):
        priority = dict(PRIORITIES).get(str(escalation.facts.get("priority")), "High priority")
        return f"{priority} and unassigned for {short_duration(now - created)}"
    if trigger == Trigger.TAG:
        return f"tagged {escalation.facts.get('tag') or 'for escalation'} in Odoo"
    if trigger == Trigger.MANUAL:
        return f"escalated by hand by {person(actor)}" if actor is not None else "escalated by hand"
    return escalation.get_trigger_display()


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1].rstrip() + "…"


def notice_news(notice: Notice, *, now: datetime) -> tuple[str, str]:
    """The news and the words after the ticket: ('Escalated to L1', 'SLA breached 3 h ago')."""
    level, escalation = level_short(notice.level), notice.escalation
    actor = notice.event.actor if notice.event is not None else None
    by = f" by {person(actor)}" if actor is not None else ""
    if notice.kind == Kind.ESCALATED:
        return f"Escalated to {level}", trigger_words(escalation, now=now, actor=actor)
    if notice.kind == Kind.MOVED_UP:
        return f"Moved up to {level}{by}", trigger_words(escalation, now=now)
    if notice.kind == Kind.ACCEPTED:
        return f"Accepted at {level}{by}", ""
    if notice.kind == Kind.DE_ESCALATED:
        return f"De-escalated from {level}{by}", _shortened(notice.event.reason if notice.event else "")
    if notice.kind == Kind.DEADLINE:
        deadline = deadline_of_occasion(notice.occasion) or now
        share = percent_of_occasion(notice.occasion)
        return (f"SLA deadline in {short_duration(deadline - now)}",
                f"{share} % of the SLA window left, escalated to {level}")
    waited = short_duration(now - escalation.level_since)
    return f"Not accepted at {level} after {waited}", trigger_words(escalation, now=now)


def notice_line(notice: Notice, *, now: datetime) -> str:
    """The whole line: the subject of a notice sent alone, a line of a digest."""
    news, tail = notice_news(notice, now=now)
    ticket = notice.escalation.ticket
    line = f"{news}: {ticket_reference(ticket)} {ticket.name}"
    return f"{line} — {tail}" if tail else line


DIGEST_GROUPS = {Kind.ESCALATED: "escalated to {level}", Kind.MOVED_UP: "moved up to {level}",
                 Kind.ACCEPTED: "accepted at {level}", Kind.DE_ESCALATED: "de-escalated from {level}",
                 Kind.REMINDER: "not accepted yet at {level}", Kind.DEADLINE: "deadline reminders"}
DIGEST_GROUPS_SHOWN = 3


def digest_subject(items: list[Notice]) -> str:
    """'Digest of 7 notices: 5 escalated to L1, 2 moved up to L2'."""
    groups = Counter(DIGEST_GROUPS[item.kind].format(level=level_short(item.level)) for item in items)
    parts = [f"{count} {words}" for words, count in groups.most_common(DIGEST_GROUPS_SHOWN)]
    if len(groups) > DIGEST_GROUPS_SHOWN:
        parts.append("…")
    noun = "notice" if len(items) == 1 else "notices"
    return f"Digest of {len(items)} {noun}: {', '.join(parts)}"
