"""The first page: open mirrored tickets, nearest SLA deadline first. The real queue comes later."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import render
from django.utils import timezone

from escalations.models import SyncState, Ticket
from escalations.odoo.links import ticket_url
from escalations.sla import sla_state

PAGE_SIZE = 100


@login_required
def ticket_list(request):
    tickets = (
        Ticket.objects.open()
        .select_related("team", "stage", "assignee")
        # Tickets with no SLA running go last (SQLite would put NULLs first).
        .order_by(F("sla_deadline").asc(nulls_last=True), "odoo_id")
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    state = SyncState.load()
    now = timezone.now()
    rows = [
        {
            "ticket": t,
            "sla": sla_state(t.sla_deadline, now=now),
            "time_left": t.time_left(now),
            "odoo_url": ticket_url(t.odoo_id, server_version=state.server_version),
        }
        for t in page
    ]
    return render(request, "dashboard/tickets.html", {"page": page, "rows": rows, "sync": state, "now": now})
