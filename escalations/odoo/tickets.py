"""What the outbox asks of Odoo about one ticket, as typed calls: read its fields, write them, find
the console's note by its uid or post one, and find or create a tag.

Each is one or two RPC calls through the client (its timeout, its errors); nothing here retries a
call that is not safe to repeat (`create`, `message_post`): the outbox decides, after looking.
"""

from __future__ import annotations

from . import names
from .client import OdooClient
from .errors import OdooRecordGone, OdooRejected


def ticket_read(client: OdooClient, ticket_id: int, fields: list[str]) -> dict:
    """The ticket's fields (archived tickets too); OdooRecordGone when it was deleted."""
    rows = client.read(names.TICKET, [ticket_id], fields)
    if not rows:
        raise OdooRecordGone("The ticket was deleted in Odoo.")
    return rows[0]


def ticket_write(client: OdooClient, ticket_id: int, values: dict) -> None:
    client.write(names.TICKET, [ticket_id], values)


def note_find(client: OdooClient, ticket_id: int, *, uid: str) -> int | None:
    """The id of the ticket's chatter message that carries `uid` (the console writes it in each note),
    or None: a retry looks before posting again."""
    domain = [("model", "=", names.TICKET), ("res_id", "=", ticket_id), ("body", "ilike", uid)]
    found = client.search_read(names.MESSAGE, domain, ["id"], limit=1)
    return found[0]["id"] if found else None


def note_post(client: OdooClient, ticket_id: int, *, body: str) -> int:
    """Post an internal note (HTML) in the ticket's chatter; its message id."""
    return client.message_post(names.TICKET, ticket_id, body=body)


def tag_model(client: OdooClient) -> str:
    """The tags' model, as the ticket's tag_ids field names it: helpdesk.tag (Enterprise) or
    helpdesk.ticket.tag (OCA)."""
    return client.fields_get(names.TICKET, attributes=("relation",))["tag_ids"]["relation"]


def tag_ids_named(client: OdooClient, model: str, name: str, *, active_test: bool = True) -> list[int]:
    """The tags named `name`, case-insensitively, oldest first (archived ones too without active_test)."""
    rows = client.search_read(model, [("name", "=ilike", name)], ["name"], order="id",
                              active_test=active_test)
    # `=ilike` reads "_" and "%" as wildcards: keep the tags whose name is really this one.
    wanted = name.strip().lower()
    return [row["id"] for row in rows if (row["name"] or "").strip().lower() == wanted]


def tag_find_or_create(client: OdooClient, model: str, name: str) -> int:
    """The tag named `name`, created if there is none. Enterprise refuses a second tag of the same name
    (a unique constraint): a create refused because another worker made the tag a moment ago looks
    again."""
    found = tag_ids_named(client, model, name)
    if found:
        return found[0]
    try:
        return client.create(model, {"name": name})
    except OdooRejected:
        found = tag_ids_named(client, model, name)
        if found:
            return found[0]
        raise


def person_needed(client: OdooClient, ticket_id: int, *, partner_id: int | None, customer_tags: list[str],
                  long_thread: int) -> str:
    """Why this ticket needs a person rather than automation, read from Odoo now ("" when nothing
    says so): its customer `partner_id` (the contact or their company) carries one of `customer_tags`
    (a VIP), or its thread with the customer is long (more than `long_thread` emails and comments;
    internal notes and tracking messages do not count). Four calls at most, one without a customer."""
    if partner_id and customer_tags:
        rows = client.read(names.PARTNER, [partner_id], ["category_id", "commercial_partner_id"])
        tag_ids = set(rows[0]["category_id"]) if rows else set()
        company = rows[0]["commercial_partner_id"] if rows else False
        if company and company[0] != partner_id:
            tag_ids |= set(client.read(names.PARTNER, [company[0]], ["category_id"])[0]["category_id"])
        if tag_ids:
            wanted = {t.lower() for t in customer_tags}
            found = [r["name"] for r in client.read(names.PARTNER_TAG, sorted(tag_ids), ["name"])
                     if r["name"].lower() in wanted]
            if found:
                return f"the customer is tagged {found[0]} in Odoo"
    domain = [("model", "=", names.TICKET), ("res_id", "=", ticket_id),
              ("message_type", "in", ["email", "comment"]),
              "|", ("subtype_id", "=", False), ("subtype_id.internal", "=", False)]
    messages = client.call(names.MESSAGE, "search_count", [domain])
    if messages > long_thread:
        return f"the conversation with the customer is long ({messages} messages)"
    return ""
