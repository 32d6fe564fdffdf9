"""Email notices about escalations: one row per person per event, kept whatever became of it.

The row is the outbox: created in (or right after) the transaction that wrote the event, then sent by
a Celery task that claims it. The database, not only the code, keeps one notice per event per
address, one reminder per escalation, level and address, and one deadline reminder per escalation,
address and occasion, so that retries, repeated evaluations and two racing workers never mail the
same person twice about the same thing.

A notice beyond its person's budget, or in their quiet hours, is held (state `held`, with the time it
may go); held notices go out together as one digest, itself a Notice row of kind `digest` sent like
any other, and each of them then points at it (state `in_digest`). See escalations.notices.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .escalation import Escalation, EscalationEvent
from .policy import EscalationLevel


class Notice(models.Model):
    class Kind(models.TextChoices):
        ESCALATED = "escalated", "Escalated"
        MOVED_UP = "moved_up", "Moved up"
        ACCEPTED = "accepted", "Accepted"
        DE_ESCALATED = "de_escalated", "De-escalated"
        REMINDER = "reminder", "Reminder"
        DEADLINE = "deadline", "Deadline reminder"
        DIGEST = "digest", "Digest"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        INFLIGHT = "inflight", "Sending"
        AWAITING_RETRY = "awaiting_retry", "Awaiting retry"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        HELD = "held", "Held for a digest"
        IN_DIGEST = "in_digest", "Sent in a digest"

    class Hold(models.TextChoices):
        BUDGET = "budget", "Over the person's budget, or a backlog"
        QUIET = "quiet", "The person's quiet hours"

    FINAL_STATES = (State.SENT, State.FAILED, State.IN_DIGEST)

    # None only for a digest, which is about the notices it carries.
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    # The event it tells about; none for a reminder, which is about the escalation waiting at `level`.
    event = models.ForeignKey(
        EscalationEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    level = models.ForeignKey(
        EscalationLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    email = models.CharField(max_length=254, help_text="the address the notice goes to")

    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="when the last attempt started")
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=255, blank=True, help_text="as sent")
    created_at = models.DateTimeField()

    # Which deadline reminder this is ("10% 2026-11-25T10:15:00Z"): one per share left and deadline.
    occasion = models.CharField(max_length=64, blank=True)
    held_for = models.CharField(max_length=10, choices=Hold.choices, blank=True)
    release_at = models.DateTimeField(null=True, blank=True, help_text="a held notice goes out from then")
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="items",
        help_text="the digest that carried this notice",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "email"], condition=Q(event__isnull=False),
                name="notice_once_per_event_email",
            ),
            models.UniqueConstraint(
                fields=["escalation", "level", "email"], condition=Q(kind="reminder"),
                name="notice_one_reminder_per_level_email",
            ),
            models.UniqueConstraint(
                fields=["escalation", "email", "occasion"], condition=Q(kind="deadline"),
                name="notice_one_deadline_reminder_per_occasion",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notice_state_idx"),
            # A person's budget: their notices created in the last window (escalations.notices.budget).
            models.Index(fields=["email", "created_at"], name="notice_email_created_idx"),
            # The sweep's held notices due for release.
            models.Index(fields=["state", "release_at"], name="notice_held_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} notice to {self.email} ({self.get_state_display()})"
