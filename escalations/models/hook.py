"""The address Odoo's automation rule posts ticket changes to (/hooks/odoo/<token>/), by its token.

Odoo's webhook action sends no credential of its own: the token in the URL is the only secret, so it
is long and random, and only its hash is stored (as with wall displays). Revoking it makes the address
answer 404, as any unknown one does.
"""

from __future__ import annotations

from django.db import models

from .bearer import BearerQuerySet, BearerToken


class OdooHook(BearerToken):
    name = models.CharField(max_length=100, help_text="what posts here, e.g. the Odoo automation rule")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = BearerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "Odoo webhook"

    def __str__(self):
        return f"{self.name} ({self.token_prefix}…)"
