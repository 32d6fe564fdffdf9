"""POST /hooks/odoo/<token>/: Odoo's automation rule says a ticket changed (escalations.push).

Anything but a POST with a live token is the site's 404, as any unknown address; past the hook's rate
a 429; a body over 64 kB a 413 (before it is read), one that is not Odoo's ticket webhook a 400.
Otherwise a 202 at once: the ticket is read from Odoo by a worker, never from the body. No session, no
CSRF token (Odoo sends neither), nothing stored by anyone on the way. The address is the secret, so
no refusal is logged with it (Django logs every 4xx with its path): our own line names the hook's
token prefix at most.
"""

import logging

from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from dashboard.views.errors import page_not_found
from escalations.push.flood import WINDOW_SECONDS, push_flood_exceeded
from escalations.push.payload import MAX_BODY_BYTES, HookPayloadError, hook_payload_ticket_id
from escalations.push.schedule import push_event_schedule
from escalations.push.tokens import odoo_hook_check, odoo_hook_seen

logger = logging.getLogger(__name__)


@csrf_exempt
def odoo_hook(request, token):
    hook = odoo_hook_check(token=token) if request.method == "POST" else None
    if hook is None:
        logger.info("Odoo hook: %s to an unknown or revoked address", request.method)
        return _logged(page_not_found(request, Http404()))
    if push_flood_exceeded(hook_id=hook.pk):
        logger.warning("Odoo hook %s…: over ODOO_HOOK_RATE_PER_MINUTE, refused", hook.token_prefix)
        response = _answer(429, {"error": "too_many_events"})
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    try:
        odoo_id = hook_payload_ticket_id(_body(request))
    except HookPayloadError as exc:
        logger.warning("Odoo hook %s…: refused a body (%s)", hook.token_prefix, exc.code)
        return _answer(exc.status, {"error": exc.code})
    queued = push_event_schedule(odoo_id=odoo_id)
    odoo_hook_seen(hook=hook, now=timezone.now())
    return _answer(202, {"ticket": odoo_id, "queued": queued})


def _body(request) -> bytes:
    """The body, unless its announced length is over the limit (then it is never read)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise HookPayloadError(413, "body_too_large")
    return request.body


def _answer(status: int, data: dict) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return _logged(response)


def _logged(response):
    # Django's request logger would log a 4xx with its path, the token in it: this view logs its own.
    response._has_been_logged = True
    return response
