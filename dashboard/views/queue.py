"""The supervisor dashboard: the escalation queue, most urgent first, with filters kept in the URL.

The same view serves the page and, to htmx, its `queue-body` partial: the page polls it with the
change stamp it was rendered at (escalations.queue.change_stamp), and gets a 204 (no swap, no payload)
while the stamp has not moved. That answer comes before anything else is read: with the session in the
cache, an unchanged poll costs two queries (the user, the stamp), whatever the queue's size.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dashboard.access import mark_actable
from dashboard.forms import QueueFilterForm
from dashboard.views.action_forms import agent_choices
from escalations.models import EscalationPolicy, SyncState
from escalations.queue import SLA_STATES, at_risk_not_escalated, change_stamp, escalation_queue

PAGE_SIZE = 50
TEMPLATE = "dashboard/queue.html"
BULK_AGENT_CHOICES = 200  # the bulk bar's picker: a plain <select>, every agent who may be assigned


@login_required
def queue(request):
    now = timezone.now()
    # 1. The stamp first: read before the queue, so that a change made while the page is read moves it
    #    past what the page shows, and the next poll renders again (never the other way round).
    stamp = change_stamp(now=now)
    if request.htmx and request.GET.get("since") == stamp:
        return HttpResponse(status=204)
    # 2. Something may have changed (or this is the page itself): read the queue.
    form = QueueFilterForm(request.GET)
    filters, tab, page_number = form.filters(), form.current_tab, form.page_number
    sync = SyncState.load()
    read = at_risk_not_escalated if tab == "at_risk" else escalation_queue
    queue = read(now=now, filters=filters, user=request.user, limit=PAGE_SIZE,
                 offset=(page_number - 1) * PAGE_SIZE, server_version=sync.server_version)
    mark_actable(queue.rows, request.user)
    params = {k: v for k, v in request.GET.items() if k not in ("since", "page")}
    # An htmx request (a poll, or a filter changed in place) gets the queue's body and, out of band,
    # the tabs; a plain request the whole page.
    partial = bool(request.htmx and not request.htmx.boosted)
    context = {
        "form": form, "tab": tab, "filters": filters, "queue": queue, "sync": sync, "now": now,
        "state_counts": [(state, queue.counts[state]) for state in SLA_STATES],
        "page": Paginator(range(queue.total), PAGE_SIZE).get_page(page_number),
        "poll_url": f"{request.path}?{urlencode({**params, 'page': page_number, 'since': stamp})}",
        "poll_seconds": settings.QUEUE_POLL_SECONDS, "partial": partial,
        # The first run: no escalation can exist without a policy, so only an empty queue asks whether
        # any team has one (one query); the page then says so (templates/dashboard/partials/first_run.html).
        "first_run": not partial and tab == "escalated" and not queue.counts["total"]
        and not EscalationPolicy.objects.exists(),
        # The bulk bar, for a lead who may act on some row (its picker: every agent who can be assigned).
        "bulk_agents": [] if partial or not any(row.can_act for row in queue.rows)
        else agent_choices("", team_id=None, limit=BULK_AGENT_CHOICES),
    }
    return render(request, f"{TEMPLATE}#queue-body" if partial else TEMPLATE, context)
