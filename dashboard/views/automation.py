"""The routine automation pages: the rules with what they did, the rule form, the preview of a rule,
switching it on or off, and the ledger of automated changes with their undo.

Everyone logged in reads; supervisors write rules; a supervisor or a lead of the ticket's team undoes
a change (the domain checks again). The domain is escalations.automation; these views only call it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.automation_forms import RuleForm
from dashboard.automation_words import rule_action_words, rule_scope_words, rule_trigger_words
from escalations.automation.assign import odoo_assigning_teams
from escalations.automation.figures import closed_without_a_person, rules_with_figures
from escalations.automation.rules import rule_switch
from escalations.automation.run import plan_pass
from escalations.automation.undo import UndoRefused, undo_change
from escalations.models import AutomationChange, AutomationRule, AutomationRun, OdooAction, Ticket
from escalations.permissions import ActionDenied, acting_team_ids, is_supervisor

LEDGER_PAGE = 50
PREVIEW_ROWS = 200  # the preview lists this many tickets; the counts above it cover them all
CLOSED_SHOWN = 50
LEDGER_ROW = "dashboard/automation/ledger.html#row"
Action, Outcome, Trigger = AutomationRule.Action, AutomationChange.Outcome, AutomationRule.Trigger
RULE_PARTS = ("teams", "stages", "tags", "customers", "add_tags")


def _rule_for_supervisor(request, rule_id: int) -> AutomationRule:
    if not is_supervisor(request.user):
        raise PermissionDenied("Only supervisors change automation rules.")
    return get_object_or_404(AutomationRule.objects.prefetch_related(*RULE_PARTS), pk=rule_id)


def _back(request, default: str, *args) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default, *args)


def _described(rule: AutomationRule) -> dict:
    return {"scope": rule_scope_words(rule), "trigger": rule_trigger_words(rule),
            "action": rule_action_words(rule)}


# -- the rules ------------------------------------------------------------------------------------


@require_GET
@login_required
def rule_list(request):
    pairs = rules_with_figures()
    rules = [rule for rule, _ in pairs]
    prefetch_related_objects(rules, *RULE_PARTS[1:], "move_to")  # teams come prefetched
    closed = closed_without_a_person()
    closed_count = closed.count()
    context = {
        "rows": [{"rule": rule, "figures": figures, **_described(rule)} for rule, figures in pairs],
        "closed_count": closed_count,
        "closed": list(closed.order_by("odoo_id")[:CLOSED_SHOWN]) if closed_count else [],
        "odoo_teams": list(odoo_assigning_teams().order_by("name").values_list("name", "odoo_assigns")),
        "last_run": AutomationRun.objects.filter(preview=False).order_by("-started_at", "-pk").first(),
        "can_edit": is_supervisor(request.user),
    }
    return render(request, "dashboard/automation/rules.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def rule_new(request):
    if not is_supervisor(request.user):
        raise PermissionDenied("Only supervisors change automation rules.")
    return _rule_form(request, AutomationRule(created_by=request.user))


@require_http_methods(["GET", "POST"])
@login_required
def rule_edit(request, rule_id: int):
    return _rule_form(request, _rule_for_supervisor(request, rule_id))


def _rule_form(request, rule: AutomationRule) -> HttpResponse:
    was_on = rule.enabled
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        messages.success(request, "Saved and switched off: check what it would do, then switch it on again."
                         if was_on else "Saved. The rule is off: check what it would do, then switch it on.")
        return redirect("automation-preview", rule.pk)
    return render(request, "dashboard/automation/rule_form.html",
                  {"form": form, "rule": rule, "was_on": was_on}, status=400 if form.errors else 200)


@require_GET
@login_required
def rule_preview(request, rule_id: int):
    rule = get_object_or_404(AutomationRule.objects.prefetch_related(*RULE_PARTS).select_related("move_to"),
                             pk=rule_id)
    described = _described(rule)  # before the plan: a preview moves an off rule's enabled_at in memory
    was_on = rule.enabled
    plan = plan_pass([rule], now=timezone.now(), preview=True)[0]
    items = plan.items[:PREVIEW_ROWS]
    tickets = Ticket.objects.select_related("team").in_bulk([p.ticket_id for p in items])
    context = {
        "rule": rule, "was_on": was_on, **described, "plan": plan,
        "rows": [{"item": p, "ticket": tickets.get(p.ticket_id)} for p in items],
        "shown": len(items), "total": len(plan.items), "cap": settings.AUTOMATION_RUN_CAP,
        "over_cap": len(plan.changes) > settings.AUTOMATION_RUN_CAP,
        "as_if": not was_on and rule.trigger in (Trigger.CREATED, Trigger.CHANGED),
        "can_edit": is_supervisor(request.user),
    }
    return render(request, "dashboard/automation/preview.html", context)


@require_POST
@login_required
def rule_switch_view(request, rule_id: int):
    rule = _rule_for_supervisor(request, rule_id)
    if request.POST.get("on") not in ("0", "1"):
        raise BadRequest("Say whether to switch the rule on or off.")
    on = request.POST["on"] == "1"
    if rule.enabled == on:  # a double click, or two supervisors at once
        messages.info(request, f"“{rule.name}” is already {'on' if on else 'off'}.")
        return _back(request, "automation")
    try:
        rule_switch(rule, on=on)
    except ValueError as refusal:
        messages.error(request, f"“{rule.name}” stays off: {refusal}")
    else:
        messages.success(request, f"“{rule.name}” is on: it acts from the next pass." if on
                         else f"“{rule.name}” is off.")
    return _back(request, "automation")


# -- the ledger -----------------------------------------------------------------------------------


def _ledger_rows():
    return AutomationChange.objects.select_related(
        "rule", "ticket", "odoo_action", "undo_action", "undone_by").order_by("-at", "-pk")


def _mark_undoable(changes, user) -> None:
    """Which rows show an Undo button: the user may act on the ticket, and the change is one undo can
    take back now (applied in Odoo, or an escalation). undo_change checks all of it again."""
    teams = acting_team_ids(user)
    for change in changes:
        may_act = teams is None or change.ticket.team_id in teams
        applied = change.action == Action.ESCALATE or (
            change.odoo_action is not None and change.odoo_action.state in OdooAction.APPLIED_STATES)
        change.can_undo = (may_act and change.outcome == Outcome.QUEUED and change.action != Action.REMIND
                           and applied)


@require_GET
@login_required
def ledger(request):
    changes = _ledger_rows()
    rule = None
    # isascii: "²".isdigit() is true, and int() refuses it.
    if (rule_id := request.GET.get("rule", "")).isascii() and rule_id.isdigit() and len(rule_id) < 12:
        rule = get_object_or_404(AutomationRule, pk=int(rule_id))
        changes = changes.filter(rule=rule)
    # get_page: a page number that is not one gives the first page, one past the end the last.
    page = Paginator(changes, LEDGER_PAGE).get_page(request.GET.get("page"))
    _mark_undoable(page.object_list, request.user)
    return render(request, "dashboard/automation/ledger.html", {"page": page, "rule": rule})


@require_POST
@login_required
def undo(request, change_id: int):
    change = get_object_or_404(AutomationChange.objects.select_related("ticket", "rule"), pk=change_id)
    try:
        undo_change(change, user=request.user)
    except ActionDenied as denied:
        if not request.htmx:
            raise
        return _undo_answer(request, change_id, message=denied.message, ok=False, status=403)
    except UndoRefused as refusal:
        return _undo_answer(request, change_id, message=refusal.message, ok=False, status=409)
    return _undo_answer(request, change_id, message="Undone: it will show in Odoo within seconds.", ok=True)


def _undo_answer(request, change_id: int, *, message: str, ok: bool, status: int = 200) -> HttpResponse:
    if not request.htmx:
        (messages.success if ok else messages.error)(request, message)
        return _back(request, "automation-ledger")
    change = _ledger_rows().get(pk=change_id)
    _mark_undoable([change], request.user)
    return render(request, LEDGER_ROW, {"change": change, "message": message, "ok": ok,
                                               "next": request.POST.get("next", "")}, status=status)
