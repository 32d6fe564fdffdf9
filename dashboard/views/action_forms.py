"""The small forms of the queue's rows (reassign, de-escalate, escalate, note), opened in place by htmx.

GET only: each returns the ticket's row with its form open below it; the form posts to the action
views (dashboard.views.actions), which answer with the row again.
"""

import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.access import mark_actable, ticket_for_action
from escalations.models import ODOO_SUPERUSER_ID, Agent, EscalationLevel, SyncState, Team
from escalations.queue import queue_row

ROW = "dashboard/queue.html#row"
FORMS = {"reassign", "deescalate", "escalate", "note"}
SELECT_ID = re.compile(r"agent-\d{1,12}")
AGENT_CHOICES = 30  # the picker shows this many; typing narrows it down


def render_row(request, ticket_id: int, *, status: int = 200, **context) -> HttpResponse:
    """The ticket's queue row (with a message or an open form when given)."""
    now = timezone.now()
    row = queue_row(ticket_id, now=now, server_version=SyncState.load().server_version)
    if row is None:
        raise Http404("No such ticket.")
    mark_actable([row], request.user)
    return render(request, ROW, {"row": row, "now": now, **context}, status=status)


@require_GET
@login_required
def action_form(request, ticket_id: int, kind: str):
    if kind not in FORMS:
        raise Http404("No such form.")
    ticket = ticket_for_action(request, ticket_id)
    context = {"action_form": kind, "action_form_template": f"dashboard/forms/{kind}.html", "ticket": ticket}
    if kind == "reassign":
        context["agents"] = agent_choices("", team_id=ticket.team_id)
        context["select_id"] = f"agent-{ticket_id}"
        context["teams"] = Team.objects.filter(active=True)
    if kind == "escalate":
        context["levels"] = EscalationLevel.objects.filter(
            policy__team_id=ticket.team_id, policy__active=True, policy__allow_manual=True)
    return render_row(request, ticket_id, **context)


@require_GET
@login_required
def row(request, ticket_id: int):
    """The row alone: what "Close" on an open form asks for."""
    ticket_for_action(request, ticket_id)
    return render_row(request, ticket_id)


def assignable_agents(*, team_id: int | None) -> QuerySet[Agent]:
    """Who can work a team's tickets: its active members as mirrored from Odoo, or, for a team without
    members mirrored (or none given), every active agent. Never the console's own Odoo user (the
    integration login: assigning it a ticket hands the ticket to nobody) nor OdooBot. One query."""
    agents = Agent.objects.filter(active=True).exclude(pk=ODOO_SUPERUSER_ID).exclude(
        pk__in=SyncState.objects.filter(odoo_uid__isnull=False).values("odoo_uid"))
    if settings.ODOO_USER:
        agents = agents.exclude(login__iexact=settings.ODOO_USER)
    if team_id:
        has_members = Team.members.through.objects.filter(team_id=team_id)
        agents = agents.filter(Q(teams=team_id) | ~Exists(has_members))
    return agents


def agent_choices(query: str, *, team_id: int | None, limit: int = AGENT_CHOICES):
    agents = assignable_agents(team_id=team_id).only("odoo_id", "name", "email")
    if query:
        agents = agents.filter(Q(name__icontains=query) | Q(email__icontains=query))
    return agents.order_by("name").distinct()[:limit]


@require_GET
@login_required
def agent_search(request):
    """The picker for what the lead typed (name or email), among who can work the ticket's team's
    tickets: a whole <select>, as a browser drops bare <option>s swapped in on their own."""
    query = request.GET.get("q", "").strip()[:100]
    team = request.GET.get("team", "")
    team_id = int(team) if team.isdigit() and len(team) < 10 else None
    select_id = request.GET.get("for", "")
    if not SELECT_ID.fullmatch(select_id):
        select_id = "agent"
    return render(request, "dashboard/forms/agent_select.html",
                  {"agents": agent_choices(query, team_id=team_id), "select_id": select_id})
