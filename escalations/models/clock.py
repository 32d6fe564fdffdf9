"""The SLA clock of each ticket, worked out by escalations.sla and read by the engine's queries.

Kept apart from `Ticket`, which the sync owns and rewrites: the clock is the app's own reading of
the ticket's deadlines under its team's policy (which deadline counts, when it goes at risk, whether
it is paused), refreshed when the ticket or the policy changes, so that the per-minute evaluation is a
plain comparison with the current time inside the database.
"""

from django.db import models

from .mirror import Stage, Ticket


class TicketClock(models.Model):
    class Source(models.TextChoices):
        ODOO = "odoo", "Odoo's SLA"
        POLICY = "policy", "The policy's own target"

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="clock")
    # The nearest deadline not met yet; None when none is running (no SLA, all met, or paused).
    deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    # When the ticket goes at risk under its policy's threshold (None: never, or no deadline).
    at_risk_at = models.DateTimeField(null=True, blank=True, db_index=True)
    paused = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    def __str__(self):
        return f"clock of {self.ticket_id}: {self.deadline}"


class TicketStageChange(models.Model):
    """A stage the sync saw a ticket enter, with Odoo's time of the change.

    Gives the time spent in paused stages for deadlines the app computes, the "reopened" trigger,
    and the ticket page's timeline. Changes between two syncs are seen as one.
    """

    # No index of its own: (ticket, at) below serves every look-up by ticket, and a full sync writes a
    # row for each new ticket.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="stage_changes", db_index=False)
    stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    from_stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["ticket", "at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="stage_change_ticket_at_idx")]

    def __str__(self):
        return f"{self.ticket_id} -> {self.stage_id} at {self.at}"
