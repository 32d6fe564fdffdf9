"""The action endpoints: POST only, CSRF-checked, each one access helper -> domain function -> answer.

An htmx request from the queue (`render=row`) gets the ticket's row back with the message in it;
another htmx request gets the `_action_result.html` partial; both carry a 4xx status when refused
(the page's htmx config swaps those too). A plain form post gets a message and a redirect back. Bad
input is a 400 with the form's errors, never a 500.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard.access import odoo_action_for_user, ticket_for_action
from dashboard.forms import BulkForm, DeescalateForm, EscalateForm, NoteForm, ReassignForm, SeenForm
from dashboard.views.action_forms import render_row
from escalations.actions import (
    ActionRefused,
    Cancel,
    action_accept,
    action_cancel,
    action_confirm,
    action_deescalate,
    action_escalate,
    action_note,
    action_reassign,
    action_retry_now,
    actions_in_bulk,
)
from escalations.engine import EscalationError
from escalations.models import Escalation, Ticket
from escalations.permissions import ActionDenied

PARTIAL = "dashboard/_action_result.html"


def _answer(request, *, message: str, ok: bool, ticket_id: int, action=None,
            status: int = 200) -> HttpResponse:
    if request.htmx and request.POST.get("render") == "row":
        return render_row(request, ticket_id, message=message, ok=ok, status=status)
    if request.htmx:
        context = {"message": message, "ok": ok, "action": action}
        return render(request, PARTIAL, context, status=status)
    (messages.success if ok else messages.error)(request, message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "queue"
    return redirect(target)


def _invalid(request, form, ticket_id: int) -> HttpResponse:
    # Each error under its field's label; a field without one (the page's date) speaks for itself.
    errors = "; ".join(
        f"{label}: {' '.join(errs)}" if (label := _label(form, field)) else " ".join(errs)
        for field, errs in form.errors.items()
    )
    return _answer(request, message=f"Please check the form ({errors}).", ok=False, ticket_id=ticket_id,
                   status=400)


def _label(form, field: str) -> str:
    if field not in form.fields:
        return ""
    label = form.fields[field].label
    return field.replace("_", " ") if label is None else str(label)


def _run(request, ticket_id: int, do, *, done: str) -> HttpResponse:
    try:
        action = do()
    except ActionDenied as exc:
        return _answer(request, message=exc.message, ok=False, ticket_id=ticket_id, status=403)
    except EscalationError as exc:
        return _answer(request, message=exc.message, ok=False, ticket_id=ticket_id, status=409)
    if action is None:
        return _answer(request, message="Nothing to change: this is already done.", ok=True,
                       ticket_id=ticket_id)
    return _answer(request, message=f"{done} It will show in Odoo within seconds.", ok=True, action=action,
                   ticket_id=ticket_id)


def _act(request, ticket_id: int, form_class, act, *, done) -> HttpResponse:
    """Access check, form, domain function, answer: the shape of every action on a ticket. `act` takes
    the ticket and the form's data; `done` is the success message, or makes it from the data."""
    ticket = ticket_for_action(request, ticket_id)
    form = form_class(request.POST)
    if not form.is_valid():
        return _invalid(request, form, ticket_id)
    data = form.cleaned_data
    return _run(request, ticket_id, lambda: act(ticket, data), done=done(data) if callable(done) else done)


def _open_escalation(ticket) -> Escalation:
    escalation = Escalation.objects.filter(ticket=ticket, ended_at__isnull=True).first()
    if escalation is None:
        raise ActionRefused("This ticket has no open escalation.")
    return escalation


@require_POST
@login_required
def accept(request, ticket_id: int):
    return _act(request, ticket_id, SeenForm, lambda ticket, data: action_accept(
        ticket=ticket, user=request.user, seen_write_date=data["seen_write_date"]),
        done="You took this ticket.")


@require_POST
@login_required
def reassign(request, ticket_id: int):
    return _act(request, ticket_id, ReassignForm, lambda ticket, data: action_reassign(
        ticket=ticket, user=request.user, agent=data["agent"], team=data["team"], note=data["note"],
        seen_write_date=data["seen_write_date"]), done="Reassigned.")


@require_POST
@login_required
def deescalate(request, ticket_id: int):
    return _act(request, ticket_id, DeescalateForm, lambda ticket, data: action_deescalate(
        escalation=_open_escalation(ticket), user=request.user, reason=data["reason"],
        step_down=data["step_down"], seen_write_date=data["seen_write_date"]), done="De-escalated.")


@require_POST
@login_required
def escalate(request, ticket_id: int):
    return _act(request, ticket_id, EscalateForm, lambda ticket, data: action_escalate(
        ticket=ticket, user=request.user, level=data["level"], reason=data["reason"],
        seen_write_date=data["seen_write_date"]), done=lambda data: f"Escalated to {data['level']}.")


@require_POST
@login_required
def note(request, ticket_id: int):
    return _act(request, ticket_id, NoteForm, lambda ticket, data: action_note(
        ticket=ticket, user=request.user, body=data["body"]), done="Note added.")


def _decide(request, action_id: int, decide, *, too_late: str) -> HttpResponse:
    """Confirm or cancel a waiting action: `decide(action)` says what was done, or None when it no longer
    waits."""
    action = odoo_action_for_user(request, action_id)
    done = decide(action)
    if done is None:
        return _answer(request, message=too_late, ok=False, action=action, ticket_id=action.ticket_id,
                       status=409)
    action.refresh_from_db()
    return _answer(request, message=done, ok=True, action=action, ticket_id=action.ticket_id)


@require_POST
@login_required
def confirm(request, action_id: int):
    def decide(action):
        confirmed = action_confirm(action=action, user=request.user)
        return "Confirmed: it will be applied in Odoo." if confirmed else None

    return _decide(request, action_id, decide, too_late="This action is no longer waiting for confirmation.")


CANCEL_SAID = {
    Cancel.DONE: "Cancelled: nothing will be written to Odoo.",
    # Never "nothing will be written" here: an earlier attempt may have reached Odoo.
    Cancel.CHECKING: "An earlier attempt may already have reached Odoo, so the console checks Odoo before "
                     "cancelling: if Odoo holds it, it stands. The row will say which.",
    Cancel.TOO_LATE: None,
}


@require_POST
@login_required
def cancel(request, action_id: int):
    def decide(action):
        return CANCEL_SAID[action_cancel(action=action, user=request.user)]

    return _decide(request, action_id, decide, too_late="Too late to cancel: it is being or was applied.")


@require_POST
@login_required
def retry_now(request, action_id: int):
    """A write-back waiting out its backoff, sent now: for the lead who made it (or a supervisor)."""
    action = odoo_action_for_user(request, action_id)
    try:
        retried = action_retry_now(action=action, user=request.user)
    except ActionDenied as exc:
        return _answer(request, message=exc.message, ok=False, ticket_id=action.ticket_id, status=403)
    if not retried:
        return _answer(request, message="It is no longer waiting: it is being or was sent.", ok=True,
                       ticket_id=action.ticket_id)
    return _answer(request, message="Sending it to Odoo now.", ok=True, action=action,
                   ticket_id=action.ticket_id)


BULK_DONE = {"accept": "taken by you", "reassign": "reassigned"}


@require_POST
@login_required
def bulk(request):
    """Accept or reassign several tickets at once: each its own action (its own outbox row and audit
    entry), as if done one by one; the answer says, ticket by ticket, what happened."""
    form = BulkForm(request.POST)
    if not form.is_valid():
        return render(request, BULK_RESULT, {"errors": form.errors}, status=400)
    data, user = form.cleaned_data, request.user
    tickets = Ticket.objects.filter(pk__in=data["tickets"]).select_related("team", "assignee").order_by("pk")
    if data["do"] == "accept":
        outcomes = actions_in_bulk(tickets=tickets, act=lambda ticket: action_accept(
            ticket=ticket, user=user))
    else:
        outcomes = actions_in_bulk(tickets=tickets, act=lambda ticket: action_reassign(
            ticket=ticket, user=user, agent=data["agent"]))
    response = render(request, BULK_RESULT, {"outcomes": outcomes, "done": BULK_DONE[data["do"]]})
    response["HX-Trigger"] = "queue-changed"  # the queue re-reads its rows (the picks are cleared)
    return response


BULK_RESULT = "dashboard/queue.html#bulk-result"
