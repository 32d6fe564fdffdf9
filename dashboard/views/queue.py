"""The supervisor dashboard: the escalation queue, most urgent first, with filters kept in the URL.

The same view serves the page and, to htmx, its `queue-body` partial: the page polls it with the
version it shows, and gets a 204 (no swap, no payload) while nothing it shows has changed.
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
from escalations.models import SyncState
from escalations.queue import SLA_STATES, at_risk_not_escalated, escalation_queue

PAGE_SIZE = 50
TEMPLATE = "dashboard/queue.html"


@login_required
def queue(request):
    form = QueueFilterForm(request.GET)
    filters, tab, page_number = form.filters(), form.current_tab, form.page_number
    now, sync = timezone.now(), SyncState.load()
    read = at_risk_not_escalated if tab == "at_risk" else escalation_queue
    queue = read(now=now, filters=filters, user=request.user, limit=PAGE_SIZE,
                 offset=(page_number - 1) * PAGE_SIZE, server_version=sync.server_version)
    version = f"{queue.version}-{int(bool(sync.last_error))}-{sync.invisible_tickets}"
    if request.htmx and request.GET.get("since") == version:
        return HttpResponse(status=204)
    mark_actable(queue.rows, request.user)
    params = {k: v for k, v in request.GET.items() if k not in ("since", "page")}
    # An htmx request (a poll, or a filter changed in place) gets the queue's body and, out of band,
    # the tabs; a plain request the whole page.
    partial = bool(request.htmx and not request.htmx.boosted)
    context = {
        "form": form, "tab": tab, "filters": filters, "queue": queue, "sync": sync, "now": now,
        "state_counts": [(state, queue.counts[state]) for state in SLA_STATES],
        "page": Paginator(range(queue.total), PAGE_SIZE).get_page(page_number),
        "poll_url": f"{request.path}?{urlencode({**params, 'page': page_number, 'since': version})}",
        "poll_seconds": settings.QUEUE_POLL_SECONDS, "partial": partial,
    }
    return render(request, f"{TEMPLATE}#queue-body" if partial else TEMPLATE, context)
