"""All open mirrored tickets, nearest SLA deadline first, with the queue's filters (team, SLA state,
mine) and a text search (title, reference, customer), all in the URL so that a view can be bookmarked."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.shortcuts import render
from django.utils import timezone

from dashboard.forms import TicketFilterForm
from escalations.models import SyncState, Ticket
from escalations.queue import odoo_link, sla_expression, waiting_actions

PAGE_SIZE = 100


def open_tickets(*, now, team=None, sla: str = "", agent_id: int | None = None, mine: bool = False,
                 text: str = "") -> QuerySet[Ticket]:
    """Open tickets with their SLA state at `now` annotated, narrowed by the filters given."""
    tickets = Ticket.objects.open().annotate(sla=sla_expression(now, prefix=""))
    if team is not None:
        tickets = tickets.filter(team=team)
    if sla:
        tickets = tickets.filter(sla=sla)
    if mine:
        tickets = tickets.filter(assignee_id=agent_id)  # no Odoo user linked: none is "mine"
    if text:
        tickets = tickets.filter(Q(name__icontains=text) | Q(reference__icontains=text)
                                 | Q(customer_name__icontains=text))
    # The SLA clock's deadline: Odoo's, or the policy's own. Tickets with none go last (SQLite would put
    # NULLs first).
    return tickets.order_by(F("clock__deadline").asc(nulls_last=True), "odoo_id")


@login_required
def ticket_list(request):
    form = TicketFilterForm(request.GET)
    data, now = form.values(), timezone.now()
    agent_id = getattr(getattr(request.user, "profile", None), "agent_id", None)
    tickets = open_tickets(now=now, team=data.get("team"), sla=data.get("sla") or "", agent_id=agent_id,
                           mine=bool(data.get("mine")), text=data.get("q") or "")
    page = Paginator(tickets.select_related("team", "stage", "assignee", "clock"), PAGE_SIZE).get_page(
        data.get("page") or 1)
    state = SyncState.load()
    waiting = waiting_actions([t.pk for t in page], now=now)
    rows = [
        {**_row(t, now=now, server_version=state.server_version), "actions": waiting.get(t.pk, [])}
        for t in page
    ]
    filtered = any(data.get(key) for key in ("team", "sla", "mine", "q"))
    return render(request, "dashboard/tickets.html", {"page": page, "rows": rows, "sync": state, "now": now,
                                                      "form": form, "filtered": filtered})


def _row(ticket: Ticket, *, now, server_version: str) -> dict:
    clock = getattr(ticket, "clock", None)  # none yet, or the ticket has no SLA running
    deadline = clock.deadline if clock else None
    return {
        "ticket": ticket,
        "deadline": deadline,
        "sla": ticket.sla,
        "time_left": deadline - now if deadline else None,
        "odoo_url": odoo_link(ticket.odoo_id, server_version=server_version),
    }
