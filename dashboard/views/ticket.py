"""A ticket's page: its fields, its SLA timeline and deadlines, its row of the queue with the actions,
its escalations with their history, its write-backs to Odoo, and the link that opens it in Odoo.

The page the notices link to.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from dashboard.access import mark_actable
from dashboard.timeline import sla_timeline
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
    server_version = sync.server_version
    sla = ticket_sla(ticket=ticket, now=now)
    escalations = ticket.escalations.all()
    row = queue_row(ticket.pk, now=now, server_version=server_version)
    mark_actable([row], request.user)
    context = {
        "ticket": ticket,
        "sla": sla,
        "timeline": sla_timeline(created_at=ticket.created_at, sla=sla, now=now,
                                 events=[event for e in escalations for event in e.events.all()]),
        "row": row,
        "escalations": escalations,
        "actions": OdooAction.objects.filter(ticket=ticket).select_related("created_by").order_by("-pk")[:20],
        "odoo_url": row.odoo_url,
        "now": now,
        "sync": sync,  # base.html's alert when Odoo refused the API key
    }
    return render(request, "dashboard/ticket.html", context)
