"""Odoo refused the console's API key: what every screen says, and one email to the admins per refusal.

Odoo 18 gave API keys an expiration date and Odoo 19 limits them to three months, so a key refused after
months of service is routine, and nobody reads the logs. The sync records the refusal on SyncState
(`auth_failed_at`); while it lasts every dashboard page and the wall display show `MESSAGE`
(dashboard.context_processors, templates/_key_refused.html). The admins get one email per refusal
episode: from the first refused sync to the next successful one, which clears
`SyncState.auth_refusal_notified_at`.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from escalations.models import SyncState

logger = logging.getLogger(__name__)

MESSAGE = (
    "Odoo refused the console's API key (keys expire in Odoo 18 and later): create a new one and set "
    "ODOO_API_KEY"
)
SUBJECT = "Odoo refused the console's API key"


def admin_addresses() -> list[str]:
    """Active superusers with an email, then settings.ADMINS; each address once, whatever its case."""
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    candidates = list(superusers.order_by("pk").values_list("email", flat=True))
    candidates += [email for _name, email in getattr(settings, "ADMINS", [])]
    seen: set[str] = set()
    addresses = []
    for address in (a.strip() for a in candidates):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    return addresses


def key_refusal_notify(*, now: datetime | None = None) -> bool:
    """Email the admins that Odoo refused the key, once per refusal episode. True if this call sent it.

    The claim is a conditional update, so two workers that both saw the refusal send one email. A send
    that fails gives the claim back: the next refused sync tries again.
    """
    now = now or timezone.now()
    claimed = SyncState.objects.filter(pk=1, auth_refusal_notified_at__isnull=True).update(
        auth_refusal_notified_at=now
    )
    if not claimed:
        return False
    addresses = admin_addresses()
    if not addresses:
        logger.warning("Odoo refused the console's API key; no admin has an email address to tell")
        return False
    state = SyncState.objects.get(pk=1)
    body = render_to_string("emails/key-refused-body.txt", {
        "message": MESSAGE, "state": state, "since": timezone.localtime(state.auth_failed_at or now),
        "odoo_url": settings.ODOO_URL, "odoo_db": settings.ODOO_DB, "odoo_user": settings.ODOO_USER,
        "console_url": settings.DASHBOARD_BASE_URL,
    })
    try:
        EmailMessage(SUBJECT, body, settings.DEFAULT_FROM_EMAIL, to=addresses).send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Could not email the admins that Odoo refused the API key: %s", exc)
        SyncState.objects.filter(pk=1, auth_refusal_notified_at=now).update(auth_refusal_notified_at=None)
        return False
    logger.info("Told %d admin(s) that Odoo refused the console's API key", len(addresses))
    return True
