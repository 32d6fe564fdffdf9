"""What the mirror remembers of a ticket's past beyond its current values: its assignees.

Odoo keeps no assignment history a console can read (only the latest assignment's date), so the sync
notes each change of assignee it sees. Changes between two syncs are seen as one; a new ticket's first
assignee is its own row's.
"""

from django.db import models

from .mirror import Agent, Ticket


class TicketAssigneeChange(models.Model):
    """An assignee the sync saw a ticket move to (None: unassigned), at the ticket's write date in Odoo
    when the sync read it (the change's time, or later if more was written after it). Read by the
    hand-offs report."""

    # No index of its own: (ticket, at) below serves every look-up by ticket.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignee_changes",
                               db_index=False)
    assignee = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    from_assignee = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["ticket", "at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="assignee_change_ticket_at_idx")]

    def __str__(self):
        return f"{self.ticket_id} -> {self.assignee_id} at {self.at}"
