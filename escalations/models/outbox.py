"""The outbox: every change the console makes in Odoo, saved first, sent later by a Celery task.

A row is written in the same transaction as the escalation's change and the audit entry, so a click
is either wholly recorded or not at all; escalations.outbox sends it, retries it while Odoo is down,
and never applies it twice (the chatter note carries `action_uid`, looked for before posting again).
"""

import uuid

from django.conf import settings
from django.db import models

from .escalation import Escalation
from .mirror import Ticket


class OdooAction(models.Model):
    class Kind(models.TextChoices):
        ACCEPT = "accept", "Accept"
        REASSIGN = "reassign", "Reassign"
        DE_ESCALATE = "de_escalate", "De-escalate"
        ESCALATE = "escalate", "Escalate"
        NOTE = "note", "Note"
        # The level's tag and priority set on the ticket in Odoo (escalations.markers): no note.
        MARK = "mark", "Escalation marker"

    class State(models.TextChoices):
        QUEUED = "queued", "Pending"
        INFLIGHT = "inflight", "Sending to Odoo"
        AWAITING_RETRY = "awaiting_retry", "Pending (Odoo unreachable, will retry)"
        STALE = "stale", "Waiting for your confirmation (the ticket changed in Odoo)"
        SENT = "sent", "Applied in Odoo"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL_STATES = (State.SENT, State.FAILED, State.CANCELLED)
    SENDABLE_STATES = (State.QUEUED, State.AWAITING_RETRY)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="odoo_actions")
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.SET_NULL, related_name="odoo_actions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # {"values": {Odoo field: value} to `write`, "note": the chatter note's HTML,
    #  "undo": what to undo in the console if Odoo refuses (escalations.rollback)}
    # A MARK carries {"mark": {"add": tag, "remove": tag, "priority": key}} instead (escalations.markers).
    payload = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the row was claimed; the sweeper re-queues rows inflight for longer than the lease.
    inflight_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="in plain words, for the lead")

    # The ticket's Odoo write_date the lead saw; a newer one in Odoo makes the action stale.
    seen_write_date = models.DateTimeField(null=True, blank=True)
    # What changed in Odoo meanwhile, when stale; `confirmed` once the lead says "apply anyway".
    stale_changes = models.JSONField(default=list, blank=True)
    confirmed = models.BooleanField(default=False)
    # Put in the chatter note, so that a retry finds a note Odoo already posted and does not post twice.
    action_uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    applied_at = models.DateTimeField(null=True, blank=True)
    odoo_message_id = models.PositiveIntegerField(null=True, blank=True)
    # The ticket's write_date in Odoo right after this action: later actions of the same page compare
    # with it, so the console's own writes never make them stale.
    applied_write_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="odoo_action_due_idx"),
            models.Index(fields=["ticket", "state"], name="odoo_action_ticket_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.ticket_id} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.INFLIGHT, self.State.AWAITING_RETRY)
