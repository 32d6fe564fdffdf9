"""Links that open a record in Odoo's web client, in the form the server's version understands.

16.0 and 17.0 route `/web#id=..&model=..&view_type=form`; 17.2+ and 18 route `/odoo/<model>/<id>`
(and still rewrite the old form, but the new one avoids a redirect).
"""

from django.conf import settings

from . import names


def record_url(model: str, record_id: int, *, server_version: str, base_url: str | None = None) -> str:
    base = (base_url or settings.ODOO_WEB_URL).rstrip("/")
    if _uses_odoo_router(server_version):
        return f"{base}/odoo/{model}/{record_id}"
    return f"{base}/web#id={record_id}&model={model}&view_type=form"


def ticket_url(ticket_id: int, *, server_version: str) -> str:
    return record_url(names.TICKET, ticket_id, server_version=server_version)


def _uses_odoo_router(server_version: str) -> bool:
    version = server_version.split("+")[0].split("-")[0]
    saas = version.startswith("saas~")
    digits = version.removeprefix("saas~").split(".")
    try:
        major, minor = int(digits[0]), int(digits[1]) if len(digits) > 1 else 0
    except ValueError:
        return True  # unknown: the current form
    return major >= 18 or (major == 17 and (saas or minor >= 2))
