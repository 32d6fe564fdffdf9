"""The escalation's marker in Odoo: a tag and a priority that a level sets on its tickets, so that
agents working in Odoo see the escalation there too.

A level may name a tag (e.g. "Escalated L2") and a priority (EscalationLevel.odoo_tag_name and
odoo_priority). When an escalation is raised at such a level or moves to one, a MARK action is queued
that adds the tag and raises the priority (never lowers it). When the escalation ends, or moves to a
level with another tag or none, the old tag is removed. The priority is left as it is: a person may
have raised it for their own reasons, and lowering it is not what ending an escalation means.

Two paths queue these rows, each in the transaction of the change the marker follows:
- a person, through escalations.actions: `marker_queue`, one row;
- the engine, through escalations.engine.markers: one INSERT .. SELECT per step, whatever the number
  of escalations it changed.
escalations.outbox sends them (escalations.outbox_marker says how).

A marker posts no chatter note. It mirrors the escalation's state rather than a person's act: the
person's own action (escalate, de-escalate) already posts a note saying who did it and why; the engine
raises many escalations at once, and a machine note on each would teach agents to skip the chatter;
the tag itself is what agents see. Without a note the write is also safe to repeat as it is ((4, id)
and (3, id) twice change nothing, a priority is only raised), so a retry needs no note search.
"""

from __future__ import annotations

from datetime import datetime

from escalations.enqueue import SEND_ODOO_ACTION, enqueue_on_commit
from escalations.models import Escalation, EscalationLevel, OdooAction


def marker_payload(*, to_level: EscalationLevel | None, from_level: EscalationLevel | None) -> dict | None:
    """The MARK payload for an escalation going from one level to another (None: raised; None: ended),
    or None when neither level has a marker. The engine builds the same payload in SQL."""
    mark = {
        "add": to_level.odoo_tag_name if to_level else "",
        "remove": from_level.odoo_tag_name if from_level else "",
        "priority": to_level.odoo_priority if to_level else "",
    }
    return {"mark": mark} if any(mark.values()) else None


def marker_queue(*, escalation: Escalation, to_level: EscalationLevel | None,
                 from_level: EscalationLevel | None, user, now: datetime) -> OdooAction | None:
    """Queue the marker change of a person's action, in its transaction; enqueued once it commits."""
    payload = marker_payload(to_level=to_level, from_level=from_level)
    if payload is None:
        return None
    action = OdooAction.objects.create(
        ticket_id=escalation.ticket_id, escalation=escalation, kind=OdooAction.Kind.MARK, payload=payload,
        created_by=user, created_at=now, next_attempt_at=now,
    )
    enqueue_on_commit(SEND_ODOO_ACTION, action.pk)
    return action
