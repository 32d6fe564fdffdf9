"""Unexpected errors reported to Sentry (or a service that speaks its protocol), when SENTRY_DSN is set.

The reports carry the error and its stack, never personal data: customers' names and emails sit in
tickets, leads' in requests, and a wall display's token in its URL. So the SDK is asked for none
(no default PII, no local variables, no request bodies), and `scrub_event` removes what its
integrations add anyway before anything leaves: bodies, cookies, headers, the query string, the
user but for the id, breadcrumbs (they are log lines, which name people), any email address left in
a message, and the token in a wall URL.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
WALL_TOKEN = re.compile(r"/wall/[^/?#]+")
REQUEST_KEYS = ("method", "url")  # all a report keeps of a request


def _mask_strings(value):
    if isinstance(value, str):
        return EMAIL.sub("[email]", WALL_TOKEN.sub("/wall/[token]", value))
    if isinstance(value, dict):
        return {key: _mask_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_strings(item) for item in value]
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's before_send: the event with nothing personal left in it."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {key: request[key] for key in REQUEST_KEYS if key in request}
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    event.pop("breadcrumbs", None)
    return _mask_strings(event)


def error_reports_init(dsn: str, *, environment: str = "") -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
    )
