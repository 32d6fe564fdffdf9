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
escalations.outbox.send sends them, with the values `marker_values` works out.

How the outbox writes one: at most one `write` of the ticket, its tag_ids with (4, id) to add the
level's tag and (3, id) to take off the previous level's, and its priority when that is lower than the
level's. What is already so is not written, so a repeat (a retry after a timeout) changes nothing and
does not move the ticket's write_date.

A tag is found by name, case-insensitively, as Odoo itself does when a person types a tag
(`name_create` searches `=ilike`), and created only when there is none (escalations.odoo.tickets).
`create` is never retried blindly: after a timeout the outbox tries the whole action again later, and
that attempt finds the tag Odoo did create.

A marker posts no chatter note. It mirrors the escalation's state rather than a person's act: the
person's own action (escalate, de-escalate) already posts a note saying who did it and why; the engine
raises many escalations at once, and a machine note on each would teach agents to skip the chatter;
the tag itself is what agents see. Without a note the write is also safe to repeat as it is ((4, id)
and (3, id) twice change nothing, a priority is only raised), so a retry needs no note search.
"""

from __future__ import annotations

from datetime import datetime

from escalations.enqueue import SEND_ODOO_ACTION, enqueue_on_commit
from escalations.models import Escalation, EscalationLevel, OdooAction, SyncState
from escalations.odoo import tickets
from escalations.odoo.client import OdooClient


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


def _tag_model(client: OdooClient) -> str:
    """helpdesk.tag (Enterprise) or helpdesk.ticket.tag (OCA), as the sync detected it."""
    return SyncState.load().schema.get("tag_model") or tickets.tag_model(client)


def marker_values(client: OdooClient, *, remote: dict, mark: dict) -> dict:
    """The values to `write` on the ticket for the marker (empty: nothing to change).

    `remote` is the ticket as read from Odoo, with its tag_ids and priority.
    """
    add, remove, priority = (mark.get(key) or "" for key in ("add", "remove", "priority"))
    current = set(remote.get("tag_ids") or [])
    model = _tag_model(client) if add or remove else ""
    commands = []
    # The same tag on both levels (in any case) stays: taking it off would take off the one we add.
    if remove and remove.strip().lower() != add.strip().lower():
        # Archived tags too: an OCA tag archived since we set it is still on the ticket.
        old = tickets.tag_ids_named(client, model, remove, active_test=False)
        commands += [(3, tag_id) for tag_id in old if tag_id in current]
    if add:
        tag_id = tickets.tag_find_or_create(client, model, add)
        if tag_id not in current:
            commands.append((4, tag_id))
    values = {"tag_ids": commands} if commands else {}
    # Odoo's priorities are the keys "0" to "3", so text order is priority order.
    if priority and str(remote.get("priority") or "0") < priority:
        values["priority"] = priority
    return values
