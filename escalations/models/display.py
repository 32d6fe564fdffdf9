"""Wall displays: a support room screen reaches the read-only queue with a token, not a user session.

Only a hash of the token is stored, as with any bearer credential: the admin sees the full URL once,
when the display is created. Revoking it ends the screen's access at its next refresh.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .bearer import BearerQuerySet, BearerToken
from .mirror import Team


class WallDisplayQuerySet(BearerQuerySet):
    def with_token(self, token: str, *, active: bool = False) -> WallDisplay | None:
        # With the team, which every page of the display names.
        return BearerQuerySet.with_token(self.select_related("team"), token, active=active)


class WallDisplay(BearerToken):
    name = models.CharField(max_length=100, help_text='where the screen is, e.g. "Support room, north wall"')
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="wall_displays",
        help_text="show this team's queue only; empty: all teams",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = WallDisplayQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
