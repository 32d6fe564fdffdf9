"""What the console takes back when Odoo refuses an action for good (the outbox's `failed` path).

An action changes the console at once (the lead's click) and Odoo later (the outbox). Odoo is the
source of truth: when it refuses the action (access denied, an archived user, a deleted ticket, a
rejected value), the console must not go on claiming what Odoo does not show. `action_roll_back`
runs in the transaction that marks the action failed, so the two are seen together or not at all.

- Accept, and a reassign that accepted the escalation for a level member: that acceptance is undone
  (the escalation waits for someone again), if the escalation is still open and still holds that
  very acceptance; an `accept_undone` event records it with Odoo's reason. An acceptance made since
  (or a move, which clears it) is not this action's to undo.
- Escalate and de-escalate by hand: nothing is undone. They write no ticket field, only a note: the
  escalation lives in the console, and a lead's decision to raise or end one stands even when Odoo
  would not take the note (the failed action says Odoo did not hear of it). Undoing them could also
  not be exact: notices have gone out, and the engine may have acted on the escalation since. If the
  ticket was deleted in Odoo, the next sync (at the latest the hourly full one) marks it deleted and
  the engine ends its escalation anyway (EndReason.DELETED).
- Note and marker: nothing in the console to undo.
- A lead cancelling an accept that was waiting (stale, or Odoo unreachable) is undone the same way:
  the ticket will not be assigned to them in Odoo, so the escalation must not stay theirs. Not while
  Odoo may hold the write (an earlier attempt's answer was lost): the outbox checks Odoo first.
- An accept Odoo applied but whose assignee it did not keep (its assignment rules, an automation rule:
  the action ends "changed by Odoo") is undone the same way, rule "Changed by Odoo": the person who
  accepted does not hold the ticket, so the escalation must wait for someone again.

The ticket's own fields (assignee, team, priority, tags) are never changed locally by an action: the
mirror is written by the sync only, so the next sync shows what Odoo holds, whatever failed.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from escalations.engine.lifecycle import escalation_undo_accept
from escalations.models import Escalation, OdooAction

Kind = OdooAction.Kind


def undo_of_acceptance(escalation: Escalation) -> dict:
    """What an action records (payload["undo"]) to take back the acceptance it made, if Odoo refuses."""
    return {"accepted_by": escalation.accepted_by_id, "accepted_at": escalation.accepted_at.isoformat()}


def action_roll_back(*, action: OdooAction, reason: str, now: datetime | None = None, actor=None,
                     rule: str = "Odoo refused") -> bool:
    """Undo the console's part of an action Odoo refused (or its lead cancelled: `actor`, no rule);
    True if something was undone."""
    undo = (action.payload or {}).get("undo") or {}
    if action.kind not in (Kind.ACCEPT, Kind.REASSIGN) or not undo or action.escalation is None:
        return False
    return escalation_undo_accept(
        escalation=action.escalation, accepted_by_id=undo["accepted_by"],
        accepted_at=datetime.fromisoformat(undo["accepted_at"]), reason=reason,
        facts={"action": str(action.action_uid), "kind": action.kind}, now=now or timezone.now(),
        actor=actor, rule=rule,
    )
