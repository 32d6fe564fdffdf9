"""The address Odoo's automation rule posts ticket changes to (/hooks/odoo/<token>/), by its token.

Odoo's webhook action sends no credential of its own: the token in the URL is the only secret, so it
is long and random, and only its hash is stored (as with wall displays). Revoking it makes the address
answer 404, as any unknown one does.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

MAX_TOKEN_LENGTH = 100


def hook_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OdooHookQuerySet(models.QuerySet):
    def for_token(self, token: str) -> OdooHook | None:
        """The active hook this token opens, or None (unknown, revoked or malformed)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return self.filter(token_hash=hook_digest(token), revoked_at__isnull=True).first()


class OdooHook(models.Model):
    name = models.CharField(max_length=100, help_text="what posts here, e.g. the Odoo automation rule")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, so that an admin can tell hooks apart without the secret.
    token_prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OdooHookQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "Odoo webhook"

    def __str__(self):
        return f"{self.name} ({self.token_prefix}…)"

    def new_token(self) -> str:
        """Give the hook a fresh token and return it (the only time it is readable)."""
        token = secrets.token_urlsafe(32)
        self.token_hash, self.token_prefix = hook_digest(token), token[:8]
        return token

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
