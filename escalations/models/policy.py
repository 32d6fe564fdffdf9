"""Escalation policies: per team, which triggers raise an escalation and the ordered levels it climbs;
and each person's Profile (their Odoo user, the teams they lead, their notice settings).

Set up in the Django admin. The delays of triggers and levels (`no_update_after`, `unassigned_after`,
`accept_within`, `remind_after`) are DurationFields so that the engine compares them with timestamps
inside the database (`odoo_write_date <= now - no_update_after`), on PostgreSQL and SQLite alike. The
at-risk threshold is not compared there: escalations.sla turns it into each clock's `at_risk_at`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .calendar import WorkingCalendar
from .mirror import Agent, Stage, Team

PRIORITIES = [("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Urgent")]


class Profile(models.Model):
    """An app user's link to their Odoo user, so that "accept" can assign the ticket to them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    agent = models.OneToOneField(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="profile",
        help_text="the Odoo user this person works as",
    )
    # The teams whose tickets a "Team leads" member may act on (escalations.permissions).
    teams = models.ManyToManyField(
        Team, blank=True, related_name="leads", help_text="teams this person leads"
    )
    # Escalations to a level a person is on always reach them; reminders they may turn off.
    reminders_opt_out = models.BooleanField(
        "no reminders", default=False, help_text="do not send me reminders about unaccepted escalations"
    )
    # -- notice settings, which each person changes on /settings/notices/ (escalations.notices) --
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="the zone of the quiet hours; empty: the console's TIME_ZONE"
    )
    quiet_from = models.TimeField(
        null=True, blank=True, help_text="from this time: no reminders, notices held but for the top level"
    )
    quiet_to = models.TimeField(null=True, blank=True, help_text="until this time (the next day if earlier)")
    deadline_reminders = models.CharField(
        max_length=40, blank=True, help_text="remind me when these shares of the SLA window are left, "
        "e.g. 50,10; none: no reminders; empty: the console's default (NOTICE_REMINDERS)",
    )

    def __str__(self):
        return f"{self.user} as {self.agent or 'no Odoo user'}"


class EscalationPolicy(models.Model):
    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="escalation_policy")
    active = models.BooleanField(default=True)
    # One more at each save from the policies page: a form opened before someone else's save is refused
    # rather than silently undoing it (escalations.policies.save).
    revision = models.PositiveIntegerField(default=0, editable=False)

    # -- the SLA clock --
    at_risk_within = models.DurationField(
        null=True, blank=True, help_text="at risk when less than this is left (e.g. 1:00:00)"
    )
    at_risk_share = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.01), MaxValueValidator(0.99)],
        help_text="or when less than this share of the SLA window is left (0.25 = 25 %)",
    )
    target_hours = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.1)],
        help_text="the console's own deadline, in working hours from creation, for tickets Odoo gives none",
    )
    calendar = models.ForeignKey(
        WorkingCalendar, null=True, blank=True, on_delete=models.SET_NULL,
        help_text="working hours for that deadline; default: the team's calendar in Odoo",
    )
    paused_stages = models.ManyToManyField(
        Stage, blank=True, help_text="time in these stages (e.g. waiting for customer) does not count"
    )

    # -- triggers --
    on_sla_at_risk = models.BooleanField("SLA at risk", default=True)
    on_sla_breached = models.BooleanField("SLA breached", default=True)
    no_update_after = models.DurationField(
        null=True, blank=True, help_text="escalate an open ticket not updated in Odoo for this long"
    )
    on_reopened = models.BooleanField("reopened", default=True)
    unassigned_priority = models.CharField(
        max_length=1, choices=PRIORITIES, blank=True,
        help_text="escalate tickets of this priority or higher left unassigned ...",
    )
    unassigned_after = models.DurationField(null=True, blank=True, help_text="... for this long")
    escalate_tag = models.CharField(
        max_length=64, blank=True, default="Escalate", help_text="an agent sets this tag in Odoo to escalate"
    )
    allow_manual = models.BooleanField("escalation by hand", default=True)
    reassign_accepts = models.BooleanField(
        "reassigning to a level member accepts", default=False,
        help_text="a lead reassigning the ticket to a member of the escalation's level accepts it for them",
    )

    class Meta:
        verbose_name_plural = "escalation policies"

    def __str__(self):
        return f"Escalation policy of {self.team}"

    def clean(self):
        if bool(self.unassigned_priority) != bool(self.unassigned_after):
            raise ValidationError(
                "Set both the priority and the delay for the unassigned trigger, or neither."
            )


class EscalationLevel(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    name = models.CharField(max_length=100, help_text="e.g. Team lead, Senior support")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="escalation_levels",
        help_text="the people who can take an escalation at this level",
    )
    notify_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="notified_levels",
        help_text="who receives this level's notices",
    )
    notify_emails = models.TextField(blank=True, help_text="more notice addresses, one per line")
    accept_within = models.DurationField(
        null=True, blank=True, help_text="move up to the next level when not accepted within this"
    )
    notify_on_accept = models.BooleanField(
        "notify on accept", default=False, help_text="also tell this level's recipients when someone accepts"
    )
    notify_on_deescalate = models.BooleanField(
        "notify on de-escalation", default=False,
        help_text="also tell this level's recipients when a lead de-escalates",
    )
    remind_after = models.DurationField(
        null=True, blank=True, help_text="remind the recipients once when still unaccepted after this"
    )
    # -- the marker in Odoo, so that agents see the escalation there (escalations.outbox.markers) --
    odoo_tag_name = models.CharField(
        "tag in Odoo", max_length=64, blank=True,
        help_text="set this tag on the ticket in Odoo while it is escalated here (e.g. Escalated L2)",
    )
    odoo_priority = models.CharField(
        "priority in Odoo", max_length=1, choices=PRIORITIES, blank=True,
        help_text="raise the ticket's priority in Odoo to at least this (it is never lowered)",
    )

    class Meta:
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="escalation_level_number_unique"),
        ]

    def __str__(self):
        return f"L{self.number} {self.name}"

    def clean(self):
        self.odoo_tag_name = (self.odoo_tag_name or "").strip()
        try:
            trigger = (self.policy.escalate_tag or "").strip()
        except EscalationPolicy.DoesNotExist:  # a level form without its policy yet
            return
        # The marker is the console's own write. Were it the trigger tag, agents could not tell the
        # console's mark from a colleague's request to escalate, the mark could raise the ticket again
        # (under the policy of a team it moves to, say), and ending the escalation would take off a
        # tag an agent may have set on purpose.
        if self.odoo_tag_name and self.odoo_tag_name.lower() == trigger.lower():
            raise ValidationError({"odoo_tag_name": (
                f"\"{self.odoo_tag_name}\" is the tag that escalates a ticket in this policy; the level's "
                "marker needs a tag of its own (e.g. Escalated L2)."
            )})
