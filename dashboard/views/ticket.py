"""A ticket's page: its fields, its SLA deadlines, its escalations with their history, the link to Odoo.

The page the notices link to; the dashboard issue grows it (timeline, actions in place).
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from escalations.models import EscalationEvent, OdooAction, SyncState, Ticket
from escalations.odoo.links import ticket_url
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
    now = timezone.now()
    context = {
        "ticket": ticket,
        "sla": ticket_sla(ticket=ticket, now=now),
        "escalations": ticket.escalations.all(),
        "actions": OdooAction.objects.filter(ticket=ticket).select_related("created_by").order_by("-pk")[:20],
        "odoo_url": ticket_url(ticket.odoo_id, server_version=SyncState.load().server_version),
        "now": now,
    }
    return render(request, "dashboard/ticket.html", context)
