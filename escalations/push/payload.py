"""What the hook endpoint takes from Odoo's post: the ticket's id, and nothing else.

The body is `{"_action": ..., "_id": <id>, "_model": "helpdesk.ticket", ...chosen fields}`. Nothing in it
but the id is trusted (the address's token is the only credential, and a token can leak): the values
are read from Odoo itself, with the console's own key.
"""

from __future__ import annotations

import json

from escalations.odoo import names

MAX_BODY_BYTES = 64 * 1024  # Odoo's body is a few hundred bytes; more is not Odoo
MAX_ODOO_ID = 2**31 - 1  # PostgreSQL's integer, as Odoo's ids are


class HookPayloadError(Exception):
    def __init__(self, status: int, code: str):
        super().__init__(code)
        self.status, self.code = status, code


def hook_payload_ticket_id(body: bytes) -> int:
    """The ticket id of a webhook body; HookPayloadError (413, 400) for anything else."""
    if len(body) > MAX_BODY_BYTES:
        raise HookPayloadError(413, "body_too_large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HookPayloadError(400, "bad_json") from None
    if not isinstance(data, dict) or data.get("_model") != names.TICKET:
        raise HookPayloadError(400, "not_a_ticket")
    odoo_id = data.get("_id")
    if not isinstance(odoo_id, int) or isinstance(odoo_id, bool) or not 0 < odoo_id <= MAX_ODOO_ID:
        raise HookPayloadError(400, "bad_id")
    return odoo_id
