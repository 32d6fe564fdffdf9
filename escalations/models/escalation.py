"""Escalations and their append-only history.

An escalation belongs to one ticket and has a life: raised at a level (with its trigger and the facts
that fired it), accepted by someone, moved up a level, de-escalated with a reason, or ended when the
ticket is solved or leaves the policy's scope. The database, not only the code, keeps at most one
open escalation per ticket and never raises the same occurrence of a trigger twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .mirror import Ticket
from .policy import EscalationLevel, EscalationPolicy


class Trigger(models.TextChoices):
    SLA_AT_RISK = "sla_at_risk", "SLA at risk"
    SLA_BREACHED = "sla_breached", "SLA breached"
    NO_UPDATE = "no_update", "No update"
    REOPENED = "reopened", "Reopened"
    UNASSIGNED = "unassigned", "High priority, unassigned"
    TAG = "tag", "Escalation tag in Odoo"
    MANUAL = "manual", "Escalated by hand"


class EndReason(models.TextChoices):
    SOLVED = "solved", "Ticket solved or closed"
    DE_ESCALATED = "de_escalated", "De-escalated"
    OUT_OF_SCOPE = "out_of_scope", "Left the policy's scope"
    DELETED = "deleted", "Ticket archived or deleted in Odoo"


class Escalation(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.PROTECT, related_name="escalations")
    level = models.ForeignKey(EscalationLevel, on_delete=models.PROTECT, related_name="escalations")

    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    # Identifies one occurrence of the trigger (e.g. the deadline that went at risk), so that the
    # same occurrence never raises twice, even after a lead de-escalated it.
    trigger_key = models.CharField(max_length=64)
    facts = models.JSONField(default=dict, blank=True)

    raised_at = models.DateTimeField()
    level_since = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    # The evaluation run that last wrote the row: set-based writes find their own rows by it.
    run_token = models.CharField(max_length=32, blank=True, db_index=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="one_open_escalation_per_ticket"
            ),
            # Once per policy: moved to another team, the ticket is raised there for the same breach.
            models.UniqueConstraint(
                fields=["ticket", "policy", "trigger", "trigger_key"],
                name="escalation_occurrence_once_per_policy",
            ),
        ]
        indexes = [models.Index(fields=["ended_at", "accepted_at"], name="escalation_open_idx")]

    def __str__(self):
        return f"{self.ticket} at {self.level} ({self.get_trigger_display()})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class EscalationEvent(models.Model):
    """One change in an escalation's life. Written once, never edited."""

    class Kind(models.TextChoices):
        RAISED = "raised", "Raised"
        MOVED_UP = "moved_up", "Moved up"
        MOVED_DOWN = "moved_down", "Moved down"
        ACCEPTED = "accepted", "Accepted"
        DE_ESCALATED = "de_escalated", "De-escalated"
        ENDED = "ended", "Ended"
        # Odoo refused the write-back of an accept (escalations.outbox.rollback): the escalation waits again.
        ACCEPT_UNDONE = "accept_undone", "Acceptance undone"

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(max_length=100, blank=True, help_text="the rule that acted, when no person did")
    from_level = models.ForeignKey(
        EscalationLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_level = models.ForeignKey(
        EscalationLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The levels' names when the event happened: history keeps the words of its time, so renaming a
    # level today does not rewrite what the page says happened last week. Filled on every write.
    from_level_name = models.CharField(max_length=100, blank=True)
    to_level_name = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
