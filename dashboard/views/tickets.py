"""The first page: open mirrored tickets, nearest SLA deadline first. The real queue comes later."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import render
from django.utils import timezone

from escalations.models import SyncState, Ticket
from escalations.queue import odoo_link, waiting_actions
from escalations.sla import sla_state

PAGE_SIZE = 100


@login_required
def ticket_list(request):
    tickets = (
        Ticket.objects.open()
        .select_related("team", "stage", "assignee", "clock")
        # The SLA clock's deadline: Odoo's, or the policy's own. Tickets with none go last (SQLite
        # would put NULLs first).
        .order_by(F("clock__deadline").asc(nulls_last=True), "odoo_id")
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    state = SyncState.load()
    now = timezone.now()
    waiting = waiting_actions([t.pk for t in page], now=now)
    rows = [
        {**_row(t, now=now, server_version=state.server_version), "actions": waiting.get(t.pk, [])}
        for t in page
    ]
    return render(request, "dashboard/tickets.html", {"page": page, "rows": rows, "sync": state, "now": now})


def _row(ticket: Ticket, *, now, server_version: str) -> dict:
    clock = getattr(ticket, "clock", None)  # none yet, or the ticket has no SLA running
    deadline = clock.deadline if clock else None
    state = sla_state(deadline, now=now, at_risk_at=clock.at_risk_at if clock else None,
                      paused=bool(clock and clock.paused))
    return {
        "ticket": ticket,
        "deadline": deadline,
        "sla": state,
        "time_left": deadline - now if deadline else None,
        "odoo_url": odoo_link(ticket.odoo_id, server_version=server_version),
    }

