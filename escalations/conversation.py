"""A ticket's conversation, read live from Odoo's chatter: the customer's emails, the replies and the
internal notes, newest first, so a lead can judge a ticket without opening Odoo.

Not mirrored: only the ticket page shows it, one ticket at a time, and it loads after the page (htmx),
so a slow or down Odoo never holds the page up. Bodies are Odoo's HTML, written by customers: they are
sanitized here, the one place where Odoo's HTML becomes markup for a page.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import nh3
from django.utils.safestring import SafeString, mark_safe

from escalations.odoo import names
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.errors import OdooError
from escalations.odoo.values import m2o_id, m2o_name, odoo_datetime

LIMIT = 30
UNREACHABLE = "Odoo could not be reached: the conversation is not shown."
# Odoo 14+ has `is_internal` on mail.message (the console supports 16 to 18); a note is internal by its
# subtype (mail.mt_note: internal), which is why the subtypes are read too.
FIELDS = ["body", "author_id", "email_from", "date", "message_type", "subtype_id", "is_internal"]
SUBTYPE = "mail.message.subtype"

# What a message may keep of its HTML: text structure and links. No images (tracking pixels), no
# styles (the pages' CSP will forbid inline styles), no scripts or event handlers (nh3 never keeps them).
TAGS = {"p", "br", "div", "span", "b", "strong", "i", "em", "u", "ul", "ol", "li", "blockquote", "pre",
        "code", "a"}
ATTRIBUTES = {"a": {"href", "title"}}


class ConversationUnavailable(Exception):
    """Odoo did not give the conversation; `message` says why in plain words, for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Message:
    odoo_id: int
    at: datetime | None
    author: str
    body: SafeString  # sanitized HTML
    kind: str  # "email" (from the customer's mailbox) or "comment" (written in Odoo)
    internal: bool  # an internal note: the customer never saw it

    @property
    def label(self) -> str:
        if self.internal:
            return "Internal note"
        return "Email" if self.kind == "email" else "Message to the customer"


def message_body(html: str | bool) -> SafeString:
    """Odoo's HTML body, keeping only harmless tags: safe to put in a page as it is."""
    return mark_safe(nh3.clean(html or "", tags=TAGS, attributes=ATTRIBUTES, link_rel="noopener noreferrer"))


def ticket_conversation(ticket_id: int, *, client: OdooClient | None = None) -> list[Message]:
    """The ticket's last LIMIT emails and comments, newest first.

    Raises ConversationUnavailable when Odoo cannot be reached or refuses. No retries: a page is
    waiting, and the lead can reload it."""
    try:
        client = client or OdooClient.connect(dataclasses.replace(OdooConfig.from_settings(), retries=0))
        domain = [("model", "=", names.TICKET), ("res_id", "=", ticket_id),
                  ("message_type", "in", ["email", "comment"])]
        rows = client.search_read(names.MESSAGE, domain, FIELDS, order="date desc, id desc", limit=LIMIT)
        internal_subtypes = _internal_subtypes(client, {m2o_id(row["subtype_id"]) for row in rows} - {None})
    except OdooError as exc:
        if exc.transient:
            raise ConversationUnavailable(UNREACHABLE) from exc
        raise ConversationUnavailable(f"Odoo did not give the conversation: {exc.message}") from exc
    return [_message(row, internal_subtypes) for row in rows]


def _internal_subtypes(client: OdooClient, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return {row["id"] for row in client.read(SUBTYPE, sorted(ids), ["internal"]) if row.get("internal")}


def _message(row: dict, internal_subtypes: set[int]) -> Message:
    internal = bool(row.get("is_internal")) or m2o_id(row.get("subtype_id")) in internal_subtypes
    author = m2o_name(row.get("author_id")) or (row.get("email_from") or "") or "Unknown sender"
    return Message(
        odoo_id=row["id"], at=odoo_datetime(row.get("date")), author=author,
        body=message_body(row.get("body")), kind=row.get("message_type") or "comment", internal=internal,
    )
