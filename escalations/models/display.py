"""Wall displays: a support room screen reaches the read-only queue with a token, not a user session.

Only a hash of the token is stored, as with any bearer credential: the admin sees the full URL once,
when the display is created. Revoking it ends the screen's access at its next refresh.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .mirror import Team


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WallDisplayQuerySet(models.QuerySet):
    def for_token(self, token: str) -> WallDisplay | None:
        """The active display this token opens, or None (unknown, revoked or malformed)."""
        if not token or len(token) > 100:
            return None
        return self.filter(token_hash=_digest(token), revoked_at__isnull=True).select_related("team").first()

    def with_token(self, token: str) -> WallDisplay | None:
        """The display this token belongs to, revoked or not, so that a revoked screen can say so."""
        if not token or len(token) > 100:
            return None
        return self.filter(token_hash=_digest(token)).select_related("team").first()


class WallDisplay(models.Model):
    name = models.CharField(max_length=100, help_text='where the screen is, e.g. "Support room, north wall"')
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="wall_displays",
        help_text="show this team's queue only; empty: all teams",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, so that an admin can tell displays apart without the secret.
    token_prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = WallDisplayQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def new_token(self) -> str:
        """Give the display a fresh token and return it (the only time it is readable)."""
        token = secrets.token_urlsafe(32)
        self.token_hash, self.token_prefix = _digest(token), token[:8]
        return token

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
