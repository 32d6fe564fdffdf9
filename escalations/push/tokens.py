"""The hook tokens: made when the Odoo rule is installed, checked on every post, revoked with the rule
(or in the admin). Only a hash is stored; the token is readable once, in the URL given to Odoo."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from escalations.models import OdooHook

# A busy Odoo posts several times a second: last_used_at is for an admin, to the minute.
SEEN_EVERY = timedelta(seconds=60)
_HOOK_PATH = re.compile(r"/hooks/odoo/([A-Za-z0-9_-]{1,100})/$")


def odoo_hook_create(*, name: str) -> tuple[OdooHook, str]:
    """A new hook and its token, which is readable only now."""
    hook = OdooHook(name=name)
    token = hook.new_token()
    hook.save()
    return hook, token


def odoo_hook_check(*, token: str) -> OdooHook | None:
    """The active hook this token opens (one query), or None."""
    return OdooHook.objects.for_token(token)


def odoo_hook_revoke(*, hook: OdooHook) -> bool:
    """End the hook's address (404 from now on); False if it already was revoked."""
    live = OdooHook.objects.filter(pk=hook.pk, revoked_at__isnull=True)
    return bool(live.update(revoked_at=timezone.now()))


def odoo_hook_seen(*, hook: OdooHook, now: datetime) -> None:
    """Note that Odoo posted, at most once a minute."""
    hook.note_use("last_used_at", now, every=SEEN_EVERY)


def odoo_hook_url(token: str, *, base_url: str | None = None) -> str:
    """The address Odoo posts to: the console's public address and the token."""
    base = (base_url or settings.DASHBOARD_BASE_URL).rstrip("/")
    return base + reverse("odoo-hook", args=[token])


def odoo_hook_token_of(url: str) -> str:
    """The token in a hook address ("" when the address is not one of ours)."""
    match = _HOOK_PATH.search(urlsplit(url or "").path)
    return match[1] if match else ""


def odoo_hook_mask(url: str) -> str:
    """The address with its token cut to its first characters, fit to print."""
    token = odoo_hook_token_of(url)
    return url.replace(token, f"{token[:8]}…") if token else url
