"""The audit log: who did what to which ticket, before and after, and what Odoo made of it.

Written by escalations.actions in the same transaction as the action; only the outcome is filled in
later, by the outbox. The admin shows it read-only.
"""

from django.conf import settings
from django.db import models

from .mirror import Ticket
from .outbox import OdooAction


class AuditEntry(models.Model):
    class Outcome(models.TextChoices):
        QUEUED = "queued", "Queued for Odoo"
        APPLIED = "applied", "Applied in Odoo"
        CHANGED = "changed", "Applied, but Odoo kept another assignee or team"
        STALE = "stale", "Held: the ticket changed in Odoo"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    at = models.DateTimeField()
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="audit_entries")
    action = models.ForeignKey(
        OdooAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    kind = models.CharField(max_length=32)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.QUEUED)
    reason = models.TextField(blank=True, help_text="Odoo's reason, in plain words, when it failed")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.kind} {self.ticket_id}: {self.outcome}"
