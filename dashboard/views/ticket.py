"""A ticket's page: its fields, a bar per SLA deadline, its row of the queue with the actions, its
escalations with their history, its write-backs to Odoo, the link that opens it in Odoo, and its
conversation from Odoo's chatter, loaded after the page.

The page the notices link to.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from dashboard.access import mark_actable
from dashboard.timeline import LATE_FROM, TICKS, event_line, person_name, sla_bars
from escalations.conversation import ConversationUnavailable, ticket_conversation
from escalations.models import EscalationEvent, OdooAction, SyncState, Ticket
from escalations.queue import queue_row
from escalations.sla import ticket_sla


@login_required
def ticket_detail(request, ticket_id: int):
    ticket = get_object_or_404(
        Ticket.objects.select_related("team", "stage", "assignee").prefetch_related(
            "tags",
            Prefetch(
                "escalations__events",
                queryset=EscalationEvent.objects.select_related("actor", "from_level", "to_level"),
            ),
            "escalations__level",
            "escalations__accepted_by",
        ),
        odoo_id=ticket_id,
    )
    now, sync = timezone.now(), SyncState.load()
    sla = ticket_sla(ticket=ticket, now=now)
    escalations = ticket.escalations.all()
    row = queue_row(ticket.pk, now=now, server_version=sync.server_version)
    mark_actable([row], request.user)
    actions = OdooAction.objects.filter(ticket=ticket).select_related("created_by").order_by("-pk")[:20]
    context = {
        "ticket": ticket,
        "sla": sla,
        "bars": sla_bars(created_at=ticket.created_at, sla=sla, now=now),
        "ticks": TICKS, "late_from": LATE_FROM, "late_width": round(100 - LATE_FROM, 2),
        "row": row,
        "escalations": [_history(escalation) for escalation in escalations],
        "actions": [(action, person_name(action.created_by)) for action in actions],
        "odoo_url": row.odoo_url,
        "now": now,
        "sync": sync,  # base.html's alert when Odoo refused the API key
    }
    return render(request, "dashboard/ticket.html", context)


def _history(escalation) -> tuple:
    """An escalation, who accepted it, and its events in words (dashboard.timeline)."""
    return escalation, person_name(escalation.accepted_by), [event_line(e) for e in escalation.events.all()]


@login_required
def conversation(request, ticket_id: int):
    """The conversation partial the page asks for once it has loaded (htmx): read live from Odoo, so a
    down Odoo costs this fragment its content, never the page."""
    ticket = get_object_or_404(Ticket, odoo_id=ticket_id)
    try:
        chatter, unavailable = ticket_conversation(ticket.odoo_id), ""
    except ConversationUnavailable as exc:
        chatter, unavailable = [], exc.message
    context = {"ticket": ticket, "chatter": chatter, "unavailable": unavailable}
    return render(request, "dashboard/ticket.html#conversation", context)
