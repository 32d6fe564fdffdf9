"""How the outbox writes an escalation marker (a MARK action, see escalations.markers) in Odoo.

At most one `write` of the ticket: its tag_ids with (4, id) to add the level's tag and (3, id) to take
off the previous level's, and its priority when that is lower than the level's. What is already so is
not written, so a repeat (a retry after a timeout) changes nothing and does not move the ticket's
write_date.

A tag is found by name, case-insensitively, as Odoo itself does when a person types a tag
(`name_create` searches `=ilike`), and created only when there is none. `create` is never retried
blindly (escalations.odoo.client): after a timeout the outbox tries the whole action again later, and
that attempt finds the tag Odoo did create. Enterprise refuses a second tag of the same name (a unique
constraint), so a create refused because another worker made the tag a moment ago searches again.
"""

from __future__ import annotations

from escalations.models import SyncState
from escalations.odoo.client import OdooClient
from escalations.odoo.errors import OdooRejected

TICKET_MODEL = "helpdesk.ticket"


def tag_model(client: OdooClient) -> str:
    """helpdesk.tag (Enterprise) or helpdesk.ticket.tag (OCA), as the sync detected it."""
    detected = SyncState.load().schema.get("tag_model")
    if detected:
        return detected
    return client.fields_get(TICKET_MODEL, attributes=("relation",))["tag_ids"]["relation"]


def _tag_ids(client: OdooClient, model: str, name: str, *, active_test: bool = True) -> list[int]:
    rows = client.search_read(model, [("name", "=ilike", name)], ["name"], order="id",
                              active_test=active_test)
    # `=ilike` reads "_" and "%" as wildcards: keep the tags whose name is really this one.
    wanted = name.strip().lower()
    return [row["id"] for row in rows if (row["name"] or "").strip().lower() == wanted]


def _find_or_create(client: OdooClient, model: str, name: str) -> int:
    found = _tag_ids(client, model, name)
    if found:
        return found[0]
    try:
        return client.create(model, {"name": name})
    except OdooRejected:
        found = _tag_ids(client, model, name)  # someone else created it just now
        if found:
            return found[0]
        raise


def marker_values(client: OdooClient, *, remote: dict, mark: dict) -> dict:
    """The values to `write` on the ticket for the marker (empty: nothing to change).

    `remote` is the ticket as read from Odoo, with its tag_ids and priority.
    """
    add, remove, priority = (mark.get(key) or "" for key in ("add", "remove", "priority"))
    current = set(remote.get("tag_ids") or [])
    model = tag_model(client) if add or remove else ""
    commands = []
    # The same tag on both levels (in any case) stays: taking it off would take off the one we add.
    if remove and remove.strip().lower() != add.strip().lower():
        # Archived tags too: an OCA tag archived since we set it is still on the ticket.
        old = _tag_ids(client, model, remove, active_test=False)
        commands += [(3, tag_id) for tag_id in old if tag_id in current]
    if add:
        tag_id = _find_or_create(client, model, add)
        if tag_id not in current:
            commands.append((4, tag_id))
    values = {"tag_ids": commands} if commands else {}
    # Odoo's priorities are the keys "0" to "3", so text order is priority order.
    if priority and str(remote.get("priority") or "0") < priority:
        values["priority"] = priority
    return values
