"""Minimal HTML answers for the web-client links the app generates (odoo.md §6), so a link can be
smoke-tested against the simulator: `/web#...` (the fragment never reaches a server), `/odoo/<model>/<id>`
(17.2+/18), `/mail/view?model=...&res_id=...` and the portal's `/my/ticket/<id>`."""

import html
import re
from urllib.parse import parse_qs

from .protocol import Response

_ODOO_PATH = re.compile(r"^/odoo/(?:action-[\w.]+|[\w.]+)/(\d+)$")
_PORTAL = re.compile(r"^/my/ticket/(\d+)$")


def page(state, path: str, query: str) -> Response | None:
    """A page for a known web-client URL, or None for anything else."""
    if path in ("/web", "/odoo"):
        return _html(200, "Odoo", "<p>Simulated Odoo web client.</p>")
    match = _ODOO_PATH.match(path) or _PORTAL.match(path)
    if match:
        return _ticket(state, int(match.group(1)))
    if path == "/mail/view":
        args = parse_qs(query)
        res_id = (args.get("res_id") or [""])[0]
        if (args.get("model") or [""])[0] == "helpdesk.ticket" and res_id.isdigit():
            return Response(303, b"", "text/html", {"Location": f"/odoo/helpdesk.ticket/{res_id}"})
    return None


def _ticket(state, ticket_id: int) -> Response:
    with state.lock:
        rec = state.store.get("helpdesk.ticket", ticket_id)
        name = state.store.display_name("helpdesk.ticket", rec) if rec else None
    if name is None:
        return _html(404, "Record not found", "<p>This record does not exist or has been deleted.</p>")
    return _html(200, name, f"<h1>{html.escape(name)}</h1>")


def _html(status: int, title: str, body: str) -> Response:
    text = f"<!doctype html><title>{html.escape(title)}</title>{body}"
    return Response(status, text.encode(), "text/html; charset=utf-8")
