"""The email of a notice: what it says, worked out at sending time, and its links.

The SLA's time left is read when the email is sent, not when the notice was created, so a notice
sent after retries tells the time left then. Templates: templates/emails/escalation-subject.txt,
-body-text.txt and -body-html.html; the subject's words come from escalations.notices.words. Every
email links to the person's notice settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.dateparse import parse_datetime

from escalations.models import EndReason, Notice, SyncState, Ticket, Trigger
from escalations.models.policy import PRIORITIES
from escalations.odoo.links import ticket_url
from escalations.sla import AT_RISK, BREACHED, NO_SLA, ON_TRACK, PAUSED, REACHED, ticket_sla

from .links import notice_settings_url, ticket_dashboard_url
from .stale import percent_of_occasion
from .words import notice_news, ticket_reference

RECENT_EVENTS = 5
# Whole words, each naming the SLA once: the box heading is this alone (it said "SLA · SLA breached").
SLA_WORDS = {ON_TRACK: "SLA on track", AT_RISK: "SLA at risk", BREACHED: "SLA breached", REACHED: "SLA met",
             PAUSED: "SLA paused", NO_SLA: "No SLA"}
TAGS = {Notice.Kind.ESCALATED: "Escalated", Notice.Kind.MOVED_UP: "Moved up",
        Notice.Kind.ACCEPTED: "Accepted", Notice.Kind.DE_ESCALATED: "De-escalated",
        Notice.Kind.REMINDER: "Reminder", Notice.Kind.DEADLINE: "Deadline reminder"}
RULE_WORDS = {**dict(Trigger.choices), **dict(EndReason.choices)}
FACT_LABELS = {
    "deadline": "SLA deadline", "at_risk_at": "At risk since", "seconds_left": "Time left when raised",
    "last_update": "Last update in Odoo", "seconds_idle": "Without update", "priority": "Priority",
    "created_at": "Created", "seconds_unassigned": "Unassigned for", "tag": "Tag",
    "reopened_at": "Reopened", "from_stage": "Reopened from", "stage": "Now in stage", "reason": "Reason",
}


def duration_words(delta: timedelta | None) -> str:
    """'2 h 05 min', '3 d 4 h', '45 s'; the sign is the caller's business."""
    if delta is None:
        return ""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def time_left_words(delta: timedelta | None) -> str:
    if delta is None:
        return "no running deadline"
    if delta.total_seconds() < 0:
        return f"overdue by {duration_words(delta)}"
    return f"{duration_words(delta)} left"


def _fact_value(key: str, value):
    if key.startswith("seconds_") and isinstance(value, int | float):
        words = duration_words(timedelta(seconds=value))
        return f"overdue by {words}" if key == "seconds_left" and value < 0 else words
    if key == "priority":
        return dict(PRIORITIES).get(str(value), value)
    if isinstance(value, str) and (parsed := parse_datetime(value)) is not None:
        return parsed
    return value


def trigger_facts(facts: dict) -> list[tuple[str, object]]:
    return [(FACT_LABELS.get(key, key.replace("_", " ").capitalize()), _fact_value(key, value))
            for key, value in facts.items() if value not in (None, "")]


def _headline(notice: Notice) -> str:
    level, event = notice.level, notice.event
    actor = event.actor if event else None
    who = (actor.get_full_name() or actor.get_username()) if actor else "the escalation rules"
    if notice.kind == Notice.Kind.ESCALATED:
        return f"This ticket was escalated to {level}."
    if notice.kind == Notice.Kind.MOVED_UP:
        why = f" by {who}" if actor else ": nobody accepted it in time at the level below"
        return f"This escalation moved up to {level}{why}."
    if notice.kind == Notice.Kind.ACCEPTED:
        return f"{who} accepted this escalation at {level}."
    if notice.kind == Notice.Kind.DE_ESCALATED:
        return f"{who} de-escalated this ticket."
    if notice.kind == Notice.Kind.DEADLINE:
        return (f"{percent_of_occasion(notice.occasion)} % of this ticket's SLA window is left, and it is "
                f"escalated to {level}.")
    return f"This escalation is still waiting for someone at {level} to accept it."


def _customer(ticket: Ticket) -> str:
    name = ticket.customer_name or (ticket.customer.name if ticket.customer else "")
    email = ticket.customer_email or (ticket.customer.email if ticket.customer else "")
    if name and email:
        return f"{name} <{email}>"
    return name or email or "Unknown"


def _events(notice: Notice) -> list[dict]:
    """The escalation's last few events, newest first, in words."""
    recent = notice.escalation.events.select_related("actor", "from_level", "to_level").order_by("-at", "-id")
    rows = []
    for event in recent[:RECENT_EVENTS]:
        if event.to_level:
            where = f"to {event.to_level}"
        else:
            where = f"from {event.from_level}" if event.from_level else ""
        if event.actor:
            by = f"by {event.actor.get_full_name() or event.actor.get_username()}"
        else:
            by = f"({RULE_WORDS.get(event.rule, event.rule)})" if event.rule else ""
        rows.append({"at": event.at, "what": event.get_kind_display(), "where": where, "by": by,
                     "reason": event.reason})
    return rows


def notice_context(*, notice: Notice, now: datetime) -> dict:
    escalation = notice.escalation
    ticket = escalation.ticket
    sla = ticket_sla(ticket=ticket, now=now)
    reason = (notice.event.reason if notice.event else "") or ""
    news, tail = notice_news(notice, now=now)
    return {
        "notice": notice, "kind": notice.kind, "tag": TAGS[notice.kind], "level": notice.level,
        "news": news, "news_tail": tail,
        "headline": _headline(notice), "reason": reason, "escalation": escalation, "ticket": ticket,
        "reference": ticket_reference(ticket), "customer": _customer(ticket),
        "team": ticket.team.name if ticket.team else "No team",
        "assignee": ticket.assignee.name if ticket.assignee else "Unassigned",
        "priority": dict(PRIORITIES).get(ticket.priority, ticket.priority),
        "stage": ticket.stage.name if ticket.stage else "",
        "trigger": escalation.get_trigger_display(), "facts": trigger_facts(escalation.facts),
        "sla": sla, "sla_words": SLA_WORDS.get(sla.state, sla.state), "sla_state": sla.state,
        "deadline": sla.nearest.deadline if sla.nearest else None,
        "deadline_name": sla.nearest.name if sla.nearest else "",
        "time_left": time_left_words(sla.time_left),
        "events": _events(notice), "now": now,
        "dashboard_url": ticket_dashboard_url(ticket_id=ticket.odoo_id),
        "odoo_url": ticket_url(ticket.odoo_id, server_version=SyncState.load().server_version),
        "settings_url": notice_settings_url(),
    }


def notice_message(*, notice: Notice, now: datetime) -> EmailMultiAlternatives:
    """The email for one notice, both parts rendered from the templates."""
    context = notice_context(notice=notice, now=now)
    subject = " ".join(render_to_string("emails/escalation-subject.txt", context).split())
    text = render_to_string("emails/escalation-body-text.txt", context)
    html = render_to_string("emails/escalation-body-html.html", context)
    return email_message(notice=notice, subject=subject, text=text, html=html)


def email_message(*, notice: Notice, subject: str, text: str, html: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[notice.email],
        headers={"X-Escalation-Notice": str(notice.pk), "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
