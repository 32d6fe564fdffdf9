"""The reports' rollup (escalations.reports): one row per thing a report counts, kept up to date by a
beat task, so that the Reports page adds up rows over the weeks shown and never reads the history
tables (escalations, their events, the outbox, the automation ledger, the mirror's stage history).

A row is a fact about one ticket at one moment: "its SLA was breached at 14:00", "an escalation was
raised by the at-risk trigger", "a write-back failed". It carries the ticket's team, so a team lead's
page reads only their teams' rows, and the moment itself rather than a day, so that weeks are cut at
the viewer's own midnight in any time zone. The rollup rebuilds the rows of each ticket touched since
its last pass (escalations.reports.rollup): a correction (a deadline Odoo moved, a write-back that
failed days later) replaces the old row instead of leaving it in an old day's total.
"""

from django.db import models

from .mirror import Team, Ticket


class ReportFact(models.Model):
    class Figure(models.TextChoices):
        # SLA: a ticket whose deadlines were all met, or one of which was missed (key met / breached);
        # `seconds`: time left on its tightest deadline when reached (negative: the overrun).
        SLA = "sla", "SLA outcome"
        # A closed ticket, escalated or not (the escalation rate's denominator).
        CLOSED = "closed", "Ticket closed"
        RAISED = "raised", "Escalation raised"  # key: the trigger
        LEVEL = "level", "Highest level reached"  # key: the level's number; at: when it was raised
        ACCEPTED = "accepted", "Escalation accepted"  # seconds: from raised to the first acceptance
        TIMEOUT = "timeout", "Moved up, not accepted in time"  # key: the level's number it moved to
        DEESCALATED = "deescalated", "De-escalated"  # key: the lead's reason, in lower case
        ENDED = "ended", "Escalation ended"  # key: the end reason
        ACTION = "action", "Write-back"  # key: the action's kind
        ACTION_END = "action_end", "Write-back outcome"  # failed, cancelled, changed, pending
        CONFIRMED = "confirmed", "Write-back applied after confirmation"
        AUTOMATED = "automated", "Automated change"  # key: the rule's id
        UNDONE = "undone", "Automated change undone"  # key: the rule's id; at: the undo
        HANDED = "handed", "Handed to a person by automation"  # key: the rule's id
        UNATTENDED = "unattended", "Closed with no person's activity after automation"
        # For breached tickets: time from creation to the breach, per stage (key: stage id) and per
        # assignee (key: agent id, "none" unassigned, "unknown" not recorded); at: the breach.
        HANDOFF_STAGE = "handoff_stage", "Time before a breach, by stage"
        HANDOFF_AGENT = "handoff_agent", "Time before a breach, by assignee"

    figure = models.CharField(max_length=16, choices=Figure.choices)
    key = models.CharField(max_length=100, blank=True)
    # db_constraint off: the rollup writes rows by the thousand with INSERT .. SELECT, and the mirror's
    # rows they point at are the ones it just read.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                             db_constraint=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    seconds = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # The page: every figure of the weeks shown, in one pass over the range.
            models.Index(fields=["at"], name="report_fact_at_idx"),
            # The tickets behind one bar: one figure's key in one week.
            models.Index(fields=["figure", "key", "at"], name="report_fact_bar_idx"),
        ]

    def __str__(self):
        return f"{self.figure} {self.key} of {self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"


class ReportRollup(models.Model):
    """The rollup's bookkeeping: one row (pk=1), locked by each pass so that two never interleave."""

    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    # Tickets whose rows the last pass rebuilt, and whether it rebuilt everything.
    last_tickets = models.PositiveIntegerField(default=0)
    last_full = models.BooleanField(default=False)

    def __str__(self):
        return f"reports rollup, last pass {self.last_started_at}"
