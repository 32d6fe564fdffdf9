"""What wall displays and Odoo's webhook address share: a bearer token in a URL as their only credential.

The token is long and random and readable once, when it is made; only its hash is stored (with its first
characters, so that an admin can tell two apart without the secret). Revoking ends its access.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

# Longer than any token this makes: anything longer is not worth hashing.
MAX_TOKEN_LENGTH = 100


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BearerQuerySet(models.QuerySet):
    def for_token(self, token: str):
        """The active holder of this token, or None (unknown, revoked or malformed)."""
        return self.with_token(token, active=True)

    def with_token(self, token: str, *, active: bool = False):
        """The holder of this token, revoked or not unless `active` (so that a revoked one can say so)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        found = self.filter(token_hash=token_digest(token))
        return (found.filter(revoked_at__isnull=True) if active else found).first()


class BearerToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def new_token(self) -> str:
        """Give it a fresh token and return it (the only time it is readable)."""
        token = secrets.token_urlsafe(32)
        self.token_hash, self.token_prefix = token_digest(token), token[:8]
        return token

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def note_use(self, field: str, now: datetime, *, every: timedelta) -> None:
        """Note in `field` that the token was used now, at most once per `every` (a conditional update,
        no read): a screen polls every few seconds and a busy Odoo posts several times a second, for a
        time an admin reads to the minute."""
        last = getattr(self, field)
        if last is not None and now - last < every:
            return
        type(self).objects.filter(pk=self.pk).update(**{field: now})
        setattr(self, field, now)
