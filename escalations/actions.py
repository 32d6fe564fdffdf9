"""What a lead does to a ticket from the console: accept, reassign, de-escalate, escalate, add a note.

Each function checks who may act (escalations.permissions), changes the escalation through the engine's
lifecycle functions, and saves the Odoo write-back (an OdooAction outbox row) and its AuditEntry, all
in one transaction; the send task is enqueued only once that transaction has committed. An action
that moves an escalation between levels also queues the levels' marker in Odoo (escalations.outbox.markers);
one that accepts records how to undo that if Odoo refuses it (escalations.outbox.rollback). A refusal
raises ActionDenied (not allowed) or an EscalationError (cannot be done; `message` says why), and
writes nothing. A function returns None when there is nothing to do (a double click).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks

from escalations.engine import (
    EscalationChanged,
    EscalationError,
    escalation_accept,
    escalation_deescalate,
    escalation_move,
    escalation_raise_manual,
)
from escalations.enqueue import SEND_ODOO_ACTION, enqueue_on_commit
from escalations.models import Agent, AuditEntry, Escalation, EscalationLevel, OdooAction, Team, Ticket
from escalations.outbox.markers import marker_queue
from escalations.outbox.rollback import action_roll_back, undo_of_acceptance
from escalations.outbox.send import CANCEL_CHECKING
from escalations.outbox.watch import mirror_values
from escalations.permissions import ActionDenied, check_can_act, is_supervisor

Kind = OdooAction.Kind
State = OdooAction.State
MAX_TEXT = 10_000


class ActionRefused(EscalationError):
    """The action cannot be done as asked; nothing was written."""


def _who(user) -> str:
    return user.get_full_name() or user.get_username()


def _required(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(message)
    if len(text) > MAX_TEXT:
        raise ActionRefused(f"Keep it under {MAX_TEXT} characters.")
    return text


def _note_html(*, user, what: str, why: str, action_uid) -> str:
    html = f"<p><b>{escape(_who(user))}</b> {escape(what)}, from the escalation console.</p>"
    if why:
        html += linebreaks(why, autoescape=True)
    # The marker a retry looks for before posting again (escalations.outbox).
    return html + f"<p><small>console action {action_uid}</small></p>"


def _facts(ticket: Ticket, escalation: Escalation | None = None) -> dict:
    facts = {
        "assignee_id": ticket.assignee_id, "assignee": str(ticket.assignee or ""),
        "team_id": ticket.team_id, "team": str(ticket.team or ""),
    }
    if escalation is not None:
        escalation.refresh_from_db()
        facts["escalation"] = {
            "id": escalation.pk, "level": str(escalation.level), "open": escalation.is_open,
            "accepted_by": _who(escalation.accepted_by) if escalation.accepted_by else "",
        }
    return facts


def _lock(ticket: Ticket) -> Ticket:
    # Serializes actions on one ticket (on PostgreSQL), so that their ids follow the order they were
    # made in and two leads accepting at once see each other.
    return (Ticket.objects.select_for_update(of=("self",)).select_related("assignee", "team", "stage")
            .get(pk=ticket.pk))


def _open_escalation(ticket: Ticket) -> Escalation | None:
    return Escalation.objects.filter(ticket=ticket, ended_at__isnull=True).first()


def _record(*, ticket, escalation, kind, user, what, why, values, before, seen_write_date, now,
            after_extra: dict | None = None, undo: dict | None = None) -> OdooAction:
    """Save the outbox row and the audit entry; enqueue the send when the transaction commits."""
    action = OdooAction(
        ticket=ticket, escalation=escalation, kind=kind, created_by=user, created_at=now,
        next_attempt_at=now, seen_write_date=seen_write_date or ticket.odoo_write_date,
        # What the lead saw: the outbox holds the action if Odoo's values differ (escalations.outbox).
        seen_values=mirror_values(ticket),
    )
    action.payload = {
        "values": values, "note": _note_html(user=user, what=what, why=why, action_uid=action.action_uid),
    }
    if undo:
        action.payload["undo"] = undo
    action.save()
    AuditEntry.objects.create(
        user=user, at=now, ticket=ticket, action=action, kind=kind, before=before,
        after={**_facts(ticket, escalation), "odoo_values": values, "why": why, **(after_extra or {})},
    )
    enqueue_on_commit(SEND_ODOO_ACTION, action.pk)
    return action


def _linked_agent(user) -> Agent:
    agent = getattr(getattr(user, "profile", None), "agent", None)
    if agent is None:
        raise ActionRefused("Your account is not linked to an Odoo user, so the ticket cannot be assigned "
                            "to you. Ask an administrator to link it (Profile).")
    if not agent.active:
        raise ActionRefused(f"Your Odoo user {agent.name} is archived in Odoo.")
    return agent


def _rival_accept(ticket: Ticket, user) -> OdooAction | None:
    return (OdooAction.objects.filter(ticket=ticket, kind=Kind.ACCEPT)
            .exclude(state__in=OdooAction.FINAL_STATES).exclude(created_by=user)
            .select_related("created_by").first())


def _already_taken(ticket: Ticket, escalation, *, user, agent: Agent) -> bool:
    """Whether an accept by `user` would change nothing, whatever the page they clicked on shows."""
    if escalation is not None and escalation.accepted_by_id == user.pk:
        return True  # they hold the escalation already: their accept was written, or is on its way
    if ticket.assignee_id == agent.pk:
        return True
    # Their accept of a ticket with no escalation, on its way or applied since the mirror last read it.
    mine = OdooAction.objects.filter(ticket=ticket, kind=Kind.ACCEPT, created_by=user)
    return mine.exclude(state__in=OdooAction.FINAL_STATES).exists() or mine.filter(
        state__in=OdooAction.APPLIED_STATES, applied_at__gt=ticket.synced_at).exists()


def action_accept(*, ticket: Ticket, user, seen_write_date: datetime | None = None,
                  now: datetime | None = None) -> OdooAction | None:
    """Take ownership: the ticket is assigned to the user's Odoo user and its escalation accepted."""
    now = now or timezone.now()
    check_can_act(user, ticket)
    agent = _linked_agent(user)
    with transaction.atomic():
        ticket = _lock(ticket)
        before = _facts(ticket)
        escalation = _open_escalation(ticket)
        claimed = False
        if escalation is not None:
            claimed = escalation_accept(escalation=escalation, user=user, now=now).accepted_at == now
        rival = _rival_accept(ticket, user)
        if rival is not None:
            raise EscalationChanged(f"{_who(rival.created_by)} has just taken this ticket.")
        if not claimed and _already_taken(ticket, escalation, user=user, agent=agent):
            return None  # a double click, or a page the Back button restored
        return _record(ticket=ticket, escalation=escalation, kind=Kind.ACCEPT, user=user,
                       what=f"took ownership of this ticket (assigned to {agent.name})", why="",
                       values={"user_id": agent.pk}, before=before, seen_write_date=seen_write_date, now=now,
                       undo=undo_of_acceptance(escalation) if claimed else None)


def action_reassign(*, ticket: Ticket, user, agent: Agent | None = None, team: Team | None = None,
                    note: str = "", seen_write_date: datetime | None = None,
                    now: datetime | None = None) -> OdooAction | None:
    """Give the ticket to another agent and/or team. The escalation stays open at its level."""
    now = now or timezone.now()
    check_can_act(user, ticket)
    if agent is None and team is None:
        raise ActionRefused("Choose an agent or a team to reassign the ticket to.")
    if agent is not None and not agent.active:
        raise ActionRefused(f"{agent.name} is archived in Odoo; choose someone else.")
    if team is not None and not team.active:
        raise ActionRefused(f"The team {team.name} is archived in Odoo; choose another.")
    note = (note or "").strip()[:MAX_TEXT]
    with transaction.atomic():
        ticket = _lock(ticket)
        values = {}
        if agent is not None and agent.pk != ticket.assignee_id:
            values["user_id"] = agent.pk
        if team is not None and team.pk != ticket.team_id:
            values["team_id"] = team.pk
        if not values:
            return None
        to = " and ".join(str(x) for x in (agent if "user_id" in values else None,
                                            team if "team_id" in values else None) if x)
        before, escalation = _facts(ticket), _open_escalation(ticket)
        undo = None
        if "user_id" in values and _accept_for_member(escalation, agent, now=now):
            to += ", who accepts the escalation"
            undo = undo_of_acceptance(escalation)
        return _record(ticket=ticket, escalation=escalation, kind=Kind.REASSIGN, user=user,
                       what=f"reassigned this ticket to {to}", why=note, values=values,
                       before=before, seen_write_date=seen_write_date, now=now, undo=undo)


def _accept_for_member(escalation: Escalation | None, agent: Agent, *, now: datetime) -> bool:
    """When the policy says so, reassigning to a member of the escalation's level accepts it for them."""
    if escalation is None or escalation.accepted_at is not None or not escalation.policy.reassign_accepts:
        return False
    member = getattr(getattr(agent, "profile", None), "user", None)
    if member is None or not escalation.level.members.filter(pk=member.pk).exists():
        return False
    escalation_accept(escalation=escalation, user=member, now=now)
    return True


def action_deescalate(*, escalation: Escalation, user, reason: str, step_down: bool = False,
                      seen_write_date: datetime | None = None, now: datetime | None = None) -> OdooAction:
    """End the escalation (or move it down one level) with a reason."""
    now = now or timezone.now()
    check_can_act(user, escalation.ticket)
    reason = _required(reason, "Say why this ticket no longer needs escalating.")
    with transaction.atomic():
        ticket = _lock(escalation.ticket)
        before = _facts(ticket, escalation)
        old_level, new_level = escalation.level, None
        if step_down:
            new_level = (EscalationLevel.objects.filter(policy_id=escalation.policy_id,
                                                        number__lt=old_level.number)
                         .order_by("-number").first())
            if new_level is None:
                raise ActionRefused("This escalation is at its first level; de-escalate it instead.")
            escalation_move(escalation=escalation, level=new_level, user=user, reason=reason, now=now)
            what = f"moved the escalation down to {new_level}"
        else:
            escalation_deescalate(escalation=escalation, user=user, reason=reason, now=now)
            what = "de-escalated this ticket"
        action = _record(ticket=ticket, escalation=escalation, kind=Kind.DE_ESCALATE, user=user, what=what,
                         why=reason, values={}, before=before, seen_write_date=seen_write_date, now=now)
        # After the action, so Odoo gets the note first and the marker follows (per-ticket order).
        marker_queue(escalation=escalation, to_level=new_level, from_level=old_level, user=user, now=now)
        return action


def action_escalate(*, ticket: Ticket, user, level: EscalationLevel, reason: str,
                    seen_write_date: datetime | None = None, now: datetime | None = None) -> OdooAction:
    """Escalate by hand to the chosen level (raising an escalation, or moving the open one)."""
    now = now or timezone.now()
    check_can_act(user, ticket)
    reason = _required(reason, "Say why this ticket needs escalating.")
    with transaction.atomic():
        ticket = _lock(ticket)
        current = _open_escalation(ticket)
        before = _facts(ticket, current)
        old_level = current.level if current is not None else None
        if current is None:
            escalation = escalation_raise_manual(ticket=ticket, level=level, user=user, reason=reason,
                                                 now=now)
        else:
            escalation = escalation_move(escalation=current, level=level, user=user, reason=reason, now=now)
        action = _record(ticket=ticket, escalation=escalation, kind=Kind.ESCALATE, user=user,
                         what=f"escalated this ticket to {level}", why=reason, values={}, before=before,
                         seen_write_date=seen_write_date, now=now)
        marker_queue(escalation=escalation, to_level=level, from_level=old_level, user=user, now=now)
        return action


def action_note(*, ticket: Ticket, user, body: str, now: datetime | None = None) -> OdooAction:
    """Add an internal note to the ticket's chatter in Odoo."""
    now = now or timezone.now()
    check_can_act(user, ticket)
    body = _required(body, "Write the note first.")
    with transaction.atomic():
        ticket = _lock(ticket)
        return _record(ticket=ticket, escalation=None, kind=Kind.NOTE, user=user, what="added a note",
                       why=body, values={}, before={}, seen_write_date=None, now=now)


def action_confirm(*, action: OdooAction, user, now: datetime | None = None) -> bool:
    """Apply a stale action anyway (the lead saw what changed in Odoo). False if it was not stale."""
    check_can_act(user, action.ticket)
    now = now or timezone.now()
    with transaction.atomic():
        done = OdooAction.objects.filter(pk=action.pk, state=State.STALE).update(
            state=State.QUEUED, confirmed=True, next_attempt_at=now, last_error="")
        if done:
            AuditEntry.objects.filter(action=action).update(outcome=AuditEntry.Outcome.QUEUED, reason="")
            enqueue_on_commit(SEND_ODOO_ACTION, action.pk)
    return bool(done)


class Cancel(enum.Enum):
    """What a lead's cancel did."""

    DONE = "cancelled"  # at once: nothing had been sent
    CHECKING = "checking"  # handed to the outbox, which checks Odoo first
    TOO_LATE = "too late"  # it is being or was applied


def action_cancel(*, action: OdooAction, user) -> Cancel:
    """Drop an action not yet applied (stale or waiting).

    An action no attempt has sent is cancelled at once: nothing reached Odoo, and an acceptance it made
    is undone. One that an earlier attempt may have sent (its answer lost, its worker killed) is not
    cancelled blind: Odoo may hold it, and undoing the acceptance would contradict Odoo. The outbox
    checks Odoo first (escalations.outbox): held there, it stands; otherwise it is cancelled and undone.
    """
    check_can_act(user, action.ticket)
    waiting = OdooAction.objects.filter(pk=action.pk,
                                        state__in=[State.STALE, State.QUEUED, State.AWAITING_RETRY])
    with transaction.atomic():
        if waiting.filter(odoo_before__isnull=False).update(state=State.QUEUED, cancelled_by=user,
                                                            next_attempt_at=timezone.now(),
                                                            last_error=CANCEL_CHECKING):
            AuditEntry.objects.filter(action=action).update(
                reason=f"Cancel asked by {_who(user)}; the console checks whether Odoo already holds it.")
            enqueue_on_commit(SEND_ODOO_ACTION, action.pk)
            return Cancel.CHECKING
        if not waiting.filter(odoo_before__isnull=True).update(
                state=State.CANCELLED, cancelled_by=user, last_error=f"Cancelled by {_who(user)}."):
            return Cancel.TOO_LATE
        reason = f"Cancelled by {_who(user)}: not written to Odoo."
        AuditEntry.objects.filter(action=action).update(outcome=AuditEntry.Outcome.CANCELLED, reason=reason)
        action_roll_back(action=action, reason=reason, actor=user, rule="")
    return Cancel.DONE


def action_retry_now(*, action: OdooAction, user, now: datetime | None = None) -> bool:
    """Send a write-back waiting out its backoff now (Odoo is back, the lead does not want to wait).
    Only for the lead who made it, or a supervisor. False if it no longer waits (sent, or on its way)."""
    check_can_act(user, action.ticket)
    if action.created_by_id != user.pk and not is_supervisor(user):
        raise ActionDenied("Only the lead who made this change, or a supervisor, can retry it now.")
    now = now or timezone.now()
    # A conditional update: a worker that claimed it meanwhile keeps it, and a double click sends once.
    with transaction.atomic():
        waiting = OdooAction.objects.filter(pk=action.pk, state=State.AWAITING_RETRY)
        if not waiting.update(next_attempt_at=now):
            return False
        enqueue_on_commit(SEND_ODOO_ACTION, action.pk)
    return True


@dataclass(frozen=True)
class BulkOutcome:
    """What one ticket of a bulk action came to: the action made (None: nothing to do) or why not."""

    ticket: Ticket
    action: OdooAction | None = None
    refused: str = ""

    @property
    def done(self) -> bool:
        return not self.refused and self.action is not None


def actions_in_bulk(*, tickets: Iterable[Ticket],
                    act: Callable[[Ticket], OdooAction | None]) -> list[BulkOutcome]:
    """`act` on each ticket in turn, each in its own transaction with its own outbox row and audit entry,
    as if done one by one: one refused (another lead took it, not this lead's team) stops nothing."""
    outcomes = []
    for ticket in tickets:
        try:
            outcomes.append(BulkOutcome(ticket=ticket, action=act(ticket)))
        except (ActionDenied, EscalationError) as exc:
            outcomes.append(BulkOutcome(ticket=ticket, refused=exc.message))
    return outcomes


__all__ = [
    "ActionDenied", "ActionRefused", "BulkOutcome", "Cancel", "action_accept", "action_cancel",
    "action_confirm", "action_deescalate", "action_escalate", "action_note", "action_reassign",
    "action_retry_now", "actions_in_bulk",
]
