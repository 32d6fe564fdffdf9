"""The outbox: every change the console makes in Odoo, saved first, sent later by a Celery task.

A row is written in the same transaction as the escalation's change and the audit entry, so a click
is either wholly recorded or not at all; escalations.outbox sends it, retries it while Odoo is down,
and never applies it twice: the chatter note carries `action_uid`, looked for before posting again, and
`odoo_before` tells a retry that an earlier attempt may already have written the values.
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
        # The level's tag and priority set on the ticket in Odoo (escalations.outbox.markers): no note.
        MARK = "mark", "Escalation marker"
        # A routine automation rule's change (escalations.automation), and a lead's undo of one. Never
        # held for confirmation: when a person changed the ticket first, automation steps back.
        AUTOMATION = "automation", "Automation"
        UNDO = "undo", "Undo of automation"

    class State(models.TextChoices):
        QUEUED = "queued", "Pending"
        INFLIGHT = "inflight", "Sending to Odoo"
        AWAITING_RETRY = "awaiting_retry", "Pending (Odoo unreachable, will retry)"
        STALE = "stale", "Waiting for your confirmation (the ticket changed in Odoo)"
        SENT = "sent", "Applied in Odoo"
        # Applied, but Odoo kept another assignee or team than the action wrote (its assignment rules):
        # `last_error` says what Odoo kept, in plain words.
        CHANGED = "changed", "Changed by Odoo"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL_STATES = (State.SENT, State.CHANGED, State.FAILED, State.CANCELLED)
    APPLIED_STATES = (State.SENT, State.CHANGED)
    SENDABLE_STATES = (State.QUEUED, State.AWAITING_RETRY)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="odoo_actions")
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.SET_NULL, related_name="odoo_actions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # {"values": {Odoo field: value} to `write`, "note": the chatter note's HTML,
    #  "undo": what to undo in the console if Odoo refuses (escalations.outbox.rollback)}
    # A MARK carries {"mark": {"add": tag, "remove": tag, "priority": key}} instead
    # (escalations.outbox.markers).
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

    # The ticket's Odoo write_date on the page the lead acted from.
    seen_write_date = models.DateTimeField(null=True, blank=True)
    # What the lead saw: the ticket's watched fields (escalations.outbox.WATCHED) as the mirror held them
    # when the action was made, in Odoo's read format, with the mirror's "write_date". The action is
    # stale when Odoo holds other values in fields it does not write itself. None for a marker (no page).
    seen_values = models.JSONField(null=True, blank=True)
    # What changed in Odoo meanwhile, when stale; `confirmed` once the lead says "apply anyway".
    stale_changes = models.JSONField(default=list, blank=True)
    confirmed = models.BooleanField(default=False)
    # Put in the chatter note, so that a retry finds a note Odoo already posted and does not post twice.
    action_uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The watched fields as Odoo held them just before an attempt first sent this action's write (or its
    # note, then {}): set, an earlier attempt may have reached Odoo even if no answer came back.
    odoo_before = models.JSONField(null=True, blank=True)
    # The lead who cancelled it. On an action that may have reached Odoo the outbox first checks what
    # Odoo holds: applied there, it is completed; otherwise cancelled (escalations.outbox).
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    applied_at = models.DateTimeField(null=True, blank=True)
    odoo_message_id = models.PositiveIntegerField(null=True, blank=True)
    # The ticket's write_date in Odoo right after this action, and the watched fields it changed there
    # (what it wrote, and what Odoo changed in answer): later actions count them as the console's own,
    # so they never make them stale.
    applied_write_date = models.DateTimeField(null=True, blank=True)
    applied_values = models.JSONField(null=True, blank=True)

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

    @property
    def may_have_reached_odoo(self) -> bool:
        """An earlier attempt sent (or was sending) its write or note: Odoo may hold it, answer or not."""
        return self.odoo_before is not None
