"""Undoing one automated change from the ledger: written back to Odoo through the outbox like any
action, and refused when a person has changed the ticket since (the undo would overwrite them).

What undo writes: the assignee, priority or stage the ticket had before, or the removal of the tags
the change added (only those). A hand-over to escalation is undone by ending the escalation, while
nobody has accepted it. A reminder cannot be taken back (its note and email have been read).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from escalations.engine import EscalationError, escalation_deescalate
from escalations.enqueue import SEND_ODOO_ACTION, enqueue_on_commit
from escalations.models import AutomationChange, AutomationRule, Escalation, OdooAction, SyncState, Ticket
from escalations.outbox.markers import marker_queue
from escalations.outbox.routine import ADD, REMOVE, ForbiddenAutomation, check_routine
from escalations.outbox.watch import mirror_values
from escalations.permissions import check_can_act

from .scope import not_people

Action = AutomationRule.Action
Outcome = AutomationChange.Outcome


class UndoRefused(Exception):
    """The change cannot be undone; `message` says why, fit to show the lead. Nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def undo_values(change: AutomationChange) -> dict:
    """The Odoo write that takes the change back."""
    if "tag_ids" in change.after:
        return {"tag_ids": [[REMOVE, tag] for command, tag in change.after["tag_ids"] if command == ADD]}
    return dict(change.before)


def changed_by_person_since(change: AutomationChange, ticket: Ticket) -> bool:
    """A person changed the ticket after the automated change: in Odoo (the mirror's last writer is
    someone other than the console or OdooBot, later than the change), or from the console."""
    applied = change.odoo_action.applied_write_date if change.odoo_action else None
    since = applied or change.at
    writer = ticket.odoo_write_uid
    person = writer is not None and writer not in not_people(SyncState.console_uid())
    if person and ticket.odoo_write_date > since:
        return True
    by_person = OdooAction.objects.filter(ticket=ticket, created_by__isnull=False, created_at__gt=change.at)
    return by_person.exists()


def undo_change(change: AutomationChange, *, user, now: datetime | None = None) -> AutomationChange:
    """Undo `change` for `user` (a supervisor or a lead of the ticket's team); UndoRefused says why not."""
    now = now or timezone.now()
    check_can_act(user, change.ticket)
    with transaction.atomic():
        change = (AutomationChange.objects.select_for_update(of=("self",))
                  .select_related("odoo_action", "rule").get(pk=change.pk))
        ticket = Ticket.objects.select_related("assignee", "team", "stage").get(pk=change.ticket_id)
        _check(change, ticket)
        if change.action == Action.ESCALATE:
            _end_escalation(change, ticket, user=user, now=now)
        else:
            change.undo_action = _queue_undo(change, ticket, user=user, now=now)
        change.outcome, change.undone_by, change.undone_at = Outcome.UNDONE, user, now
        change.save(update_fields=["outcome", "undone_by", "undone_at", "undo_action"])
    return change


def _check(change: AutomationChange, ticket: Ticket) -> None:
    if change.outcome == Outcome.UNDONE:
        raise UndoRefused("This change has already been undone.")
    if change.outcome == Outcome.HANDED:
        raise UndoRefused("Nothing to undo: automation left this ticket to a person.")
    if change.action == Action.REMIND:
        raise UndoRefused("A reminder cannot be taken back: its note and email have gone out.")
    action = change.odoo_action
    if change.action != Action.ESCALATE:
        if action is None or action.state not in OdooAction.APPLIED_STATES:
            raise UndoRefused("This change has not been applied in Odoo (yet): there is nothing to undo "
                              "there. A change still waiting can be cancelled from the ticket's page.")
    if changed_by_person_since(change, ticket):
        raise UndoRefused("A person has changed this ticket since: undoing the automated change now could "
                          "overwrite their work. Change it by hand if needed.")


def _queue_undo(change: AutomationChange, ticket: Ticket, *, user, now: datetime) -> OdooAction:
    values = undo_values(change)
    try:
        check_routine(values, undo=True)
    except ForbiddenAutomation as refusal:
        raise UndoRefused(refusal.message) from None
    action = OdooAction(
        ticket=ticket, kind=OdooAction.Kind.UNDO, created_by=user, created_at=now, next_attempt_at=now,
        seen_write_date=ticket.odoo_write_date, seen_values=mirror_values(ticket),
    )
    who = escape(user.get_full_name() or user.get_username())
    action.payload = {"values": values, "rule": change.rule_id, "note": (
        f"<p><b>{who}</b> undid the automated change of rule “{escape(change.rule.name)}” "
        f"({escape(change.summary)}), from the escalation console.</p>"
        f"<p><small>console action {action.action_uid}</small></p>")}
    action.save()
    enqueue_on_commit(SEND_ODOO_ACTION, action.pk)
    return action


def _end_escalation(change: AutomationChange, ticket: Ticket, *, user, now: datetime) -> None:
    escalation = Escalation.objects.filter(ticket=ticket, ended_at__isnull=True).first()
    if escalation is None or escalation.raised_at != change.at:
        raise UndoRefused("The escalation this rule raised has ended or changed since.")
    if escalation.accepted_by_id:
        raise UndoRefused("Someone has accepted this escalation: it is theirs now.")
    try:
        escalation_deescalate(escalation=escalation, user=user, now=now,
                              reason=f"Undid the hand-over by automation rule “{change.rule.name}”")
    except EscalationError as refusal:
        raise UndoRefused(refusal.message) from None
    marker_queue(escalation=escalation, to_level=None, from_level=escalation.level, user=user, now=now)
