"""The email of a digest: one line per notice it carries, news first, each with a link to its ticket
and, when it changed since, where the escalation is now. Templates: templates/emails/digest-body-text.txt
and -body-html.html; the subject comes from escalations.notices.words."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from escalations.models import Notice

from .email import email_message
from .links import notice_settings_url, queue_url, ticket_dashboard_url
from .words import digest_subject, level_short, notice_line, person

ITEM_RELATED = ("escalation__ticket", "escalation__policy", "escalation__level", "escalation__accepted_by",
                "level", "event__actor")


def _since(item: Notice) -> str:
    """What changed since the notice's news, in a few words; "" when nothing did."""
    escalation = item.escalation
    if escalation.ended_at is not None:
        return f"since ended: {escalation.get_end_reason_display().lower()}"
    if escalation.accepted_at is not None:
        return f"since accepted by {person(escalation.accepted_by) or 'someone'}"
    if escalation.level_id != item.level_id:
        return f"now at {level_short(escalation.level)}"
    return ""


def digest_context(*, notice: Notice, now: datetime) -> dict:
    items = list(notice.items.select_related(*ITEM_RELATED).order_by("created_at", "pk"))
    lines = [{
        "line": notice_line(item, now=now), "since": _since(item),
        "url": ticket_dashboard_url(ticket_id=item.escalation.ticket.odoo_id),
    } for item in items]
    return {
        "subject": digest_subject(items), "lines": lines, "count": len(items), "now": now,
        "budget": settings.NOTICE_BUDGET, "window": settings.NOTICE_BUDGET_WINDOW_MINUTES,
        "queue_url": queue_url(), "settings_url": notice_settings_url(),
    }


def digest_message(*, notice: Notice, now: datetime) -> EmailMultiAlternatives:
    context = digest_context(notice=notice, now=now)
    text = render_to_string("emails/digest-body-text.txt", context)
    html = render_to_string("emails/digest-body-html.html", context)
    return email_message(notice=notice, subject=context["subject"], text=text, html=html)
