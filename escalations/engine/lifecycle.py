"""What happens to an escalation by people's hands: raise one by hand, accept, move it between levels,
de-escalate, and take back an acceptance Odoo refused.

Each function writes the change and its event (with its notices) in one transaction, and claims the
change with a conditional UPDATE on the state the person saw (a raise, with the unique index of open
escalations): of two leads acting at once, exactly one wins, and the other gets `EscalationChanged`
with a message saying what happened; a lead's second accept (a double click) changes nothing.
Nothing here checks who may act or writes to Odoo: the views' access helpers (dashboard.access) and
escalations.actions check escalations.permissions first, then escalations.actions calls these and
saves the write-back to Odoo in the outbox in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from escalations.models import EndReason, Escalation, EscalationEvent, EscalationLevel, Ticket, Trigger
from escalations.notices.create import notice_create_for_events

Kind = EscalationEvent.Kind


class EscalationError(Exception):
    """A request that cannot be done; `message` is fit to show the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EscalationAlreadyOpen(EscalationError):
    pass


class EscalationChanged(EscalationError):
    """Someone (or the engine) changed the escalation first; nothing was written."""


def _event(escalation: Escalation, *, kind: str, now: datetime, user, reason: str = "",
           from_level=None, to_level=None, facts: dict | None = None) -> EscalationEvent:
    """The event, and its notices in the same transaction (sent once it commits)."""
    event = EscalationEvent.objects.create(
        escalation=escalation, kind=kind, at=now, actor=user, reason=reason,
        from_level=from_level, to_level=to_level, facts=facts or {},
        from_level_name=from_level.name if from_level else "",
        to_level_name=to_level.name if to_level else "",
    )
    notice_create_for_events(events=[event], now=now)
    return event


def _changed(escalation: Escalation) -> EscalationChanged:
    escalation.refresh_from_db()
    if not escalation.is_open:
        return EscalationChanged(
            f"This escalation has already ended ({escalation.get_end_reason_display().lower()})."
        )
    if escalation.accepted_by is not None:
        who = escalation.accepted_by.get_full_name() or escalation.accepted_by.get_username()
        return EscalationChanged(f"{who} has already accepted this escalation.")
    return EscalationChanged(f"This escalation changed meanwhile; it is now at {escalation.level}.")


def escalation_raise_manual(*, ticket: Ticket, level: EscalationLevel, user, reason: str,
                            now: datetime | None = None) -> Escalation:
    """Escalate a ticket by hand at the given level of its team's policy; `user` None: an automation
    rule hands the ticket over (`reason` names it), which a policy's allow_manual does not govern."""
    now = now or timezone.now()
    policy = level.policy
    if policy.team_id != ticket.team_id:
        raise EscalationError(f"{level} belongs to another team's escalation policy.")
    if not policy.active:
        raise EscalationError(f"The escalation policy of {policy.team} is switched off.")
    if user is not None and not policy.allow_manual:
        raise EscalationError(f"The escalation policy of {policy.team} does not allow escalation by hand.")
    if not Ticket.objects.open().filter(pk=ticket.pk).exists():
        raise EscalationError("This ticket is closed, archived or deleted in Odoo.")
    if Ticket.objects.filter(pk=ticket.pk, invisible_since__isnull=False).exists():
        # It would wait at its level and its marker could not be written (see escalations_move_up).
        raise EscalationError("Odoo no longer shows this ticket to the console's user (team privacy or "
                              "record rules): escalate it in Odoo, or have an administrator let the "
                              "console see it again.")
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                ticket=ticket, policy=policy, level=level, trigger=Trigger.MANUAL,
                trigger_key=f"{now:%Y%m%dT%H%M%S.%f}/{user.pk if user else 'automation'}",
                facts={"reason": reason},
                raised_at=now, level_since=now,
            )
            _event(escalation, kind=Kind.RAISED, now=now, user=user, reason=reason, to_level=level)
    except IntegrityError:
        # The partial unique index "one open escalation per ticket" refused it.
        raise EscalationAlreadyOpen("This ticket already has an open escalation.") from None
    return escalation


def escalation_accept(*, escalation: Escalation, user, now: datetime | None = None) -> Escalation:
    """Take ownership. Accepting twice (a double click) is harmless; after someone else, it fails."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Escalation.objects.filter(
            pk=escalation.pk, ended_at__isnull=True, accepted_at__isnull=True
        ).update(accepted_at=now, accepted_by=user)
        escalation.refresh_from_db()  # the level it is at now, which the engine may have moved
        if claimed:
            _event(escalation, kind=Kind.ACCEPTED, now=now, user=user, to_level=escalation.level)
    if claimed or (escalation.is_open and escalation.accepted_by_id == user.pk):
        return escalation
    raise _changed(escalation)


def escalation_move(*, escalation: Escalation, level: EscalationLevel, user, reason: str,
                    now: datetime | None = None) -> Escalation:
    """Move by hand, up or down. The new level's people must accept it again."""
    now = now or timezone.now()
    if level.policy_id != escalation.policy_id:
        raise EscalationError(f"{level} is not a level of this escalation's policy.")
    current = escalation.level
    if level.pk == current.pk:
        raise EscalationError(f"This escalation is already at {level}.")
    with transaction.atomic():
        # Claimed on the level the person saw: a second move from a stale page changes nothing.
        moved = Escalation.objects.filter(pk=escalation.pk, ended_at__isnull=True, level=current).update(
            level=level, level_since=now, accepted_at=None, accepted_by=None
        )
        if moved:
            kind = Kind.MOVED_UP if level.number > current.number else Kind.MOVED_DOWN
            _event(escalation, kind=kind, now=now, user=user, reason=reason,
                   from_level=current, to_level=level)
    if not moved:
        raise _changed(escalation)
    escalation.refresh_from_db()
    return escalation


def escalation_deescalate(*, escalation: Escalation, user, reason: str,
                          now: datetime | None = None) -> Escalation:
    """End the escalation by a lead's decision. What had happened to the ticket until now does not
    raise it again (see escalations.engine.raise_)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise EscalationError("Say why this ticket no longer needs escalating.")
    with transaction.atomic():
        ended = Escalation.objects.filter(pk=escalation.pk, ended_at__isnull=True).update(
            ended_at=now, end_reason=EndReason.DE_ESCALATED
        )
        if ended:
            escalation.refresh_from_db()
            _event(escalation, kind=Kind.DE_ESCALATED, now=now, user=user, reason=reason,
                   from_level=escalation.level)
    if not ended:
        raise _changed(escalation)
    return escalation


def escalation_undo_accept(*, escalation: Escalation, accepted_by_id: int, accepted_at: datetime,
                           reason: str, facts: dict | None = None, now: datetime | None = None,
                           actor=None, rule: str = "Odoo refused") -> bool:
    """Take back one acceptance that Odoo refused to write back (or that its lead cancelled before it
    was written): the escalation waits for someone again.

    Only that acceptance: the escalation must still be open and accepted by that person at that time.
    If it ended, moved (which clears the acceptance) or was accepted again since, there is nothing of
    that acceptance left to undo and this returns False. The history gets an event; none is removed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        undone = Escalation.objects.filter(
            pk=escalation.pk, ended_at__isnull=True, accepted_by_id=accepted_by_id, accepted_at=accepted_at
        ).update(accepted_at=None, accepted_by=None)
        if undone:
            escalation.refresh_from_db()
            # No notice: the lead whose acceptance it was sees the failed action on the dashboard, and
            # the level's reminders and move-up timeout apply again from here.
            EscalationEvent.objects.create(
                escalation=escalation, kind=Kind.ACCEPT_UNDONE, at=now, actor=actor, rule=rule,
                reason=reason, to_level=escalation.level, to_level_name=escalation.level.name,
                facts=facts or {},
            )
    return bool(undone)
