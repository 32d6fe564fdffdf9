"""Routine automation (escalations.automation): the rules supervisors write, and the ledger of what
they did.

A rule has a scope (which open tickets), a trigger (when) and one routine action (what). Every change
a rule makes is an AutomationChange row, written in the same transaction as its outbox row
(OdooAction), so the ledger never misses a change nor shows one that was not queued; a ticket a rule
matched but left to a person is a row too, with the reason. The unique (rule, ticket, occasion)
constraint is what keeps two workers, or a rule and its own earlier write, from acting twice.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .mirror import Agent, Customer, Stage, Tag, Team, Ticket
from .outbox import OdooAction
from .policy import PRIORITIES


class AutomationRule(models.Model):
    class Trigger(models.TextChoices):
        CREATED = "created", "Ticket created"
        CHANGED = "changed", "Ticket changed (by someone other than the console)"
        IDLE = "idle", "Assignee idle for a number of working minutes"
        SCHEDULE = "schedule", "On a schedule"

    class Action(models.TextChoices):
        ASSIGN = "assign", "Assign to an agent of the team"
        SET_PRIORITY = "set_priority", "Set the priority"
        ADD_TAGS = "add_tags", "Add tags"
        MOVE = "move", "Move to a stage (never one that closes the ticket)"
        REMIND = "remind", "Remind the assignee (internal note and email)"
        ESCALATE = "escalate", "Hand over to escalation"

    class AssignMethod(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_LOADED = "least_loaded", "Least loaded"

    name = models.CharField(max_length=120)
    enabled = models.BooleanField(default=False, help_text="a new rule starts off: preview it first")
    # When it was last switched on: the created and changed triggers act only on what happened since.
    enabled_at = models.DateTimeField(null=True, blank=True)

    # -- scope: every part left empty matches every open ticket --
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    stages = models.ManyToManyField(Stage, blank=True, related_name="+")
    tags = models.ManyToManyField(Tag, blank=True, related_name="+", help_text="tickets with any of these")
    priorities = models.JSONField(default=list, blank=True, help_text="Odoo priority keys, '0' to '3'")
    customers = models.ManyToManyField(Customer, blank=True, related_name="+")
    title_keywords = models.CharField(
        max_length=500, blank=True, help_text="comma-separated; a title containing any of them matches"
    )

    # -- trigger --
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.CREATED)
    idle_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 60)],
        help_text="working minutes on the team's calendar without a change",
    )
    every_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(60 * 24 * 7)],
        help_text="a scheduled rule acts on each matching ticket at most once per period",
    )

    # -- action --
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.ASSIGN)
    assign_method = models.CharField(
        max_length=16, choices=AssignMethod.choices, default=AssignMethod.ROUND_ROBIN
    )
    max_open_per_agent = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="an agent with this many open tickets gets no more",
    )
    set_priority = models.CharField(max_length=1, choices=PRIORITIES, blank=True)
    add_tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    move_to = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    escalate_level = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="the level of the ticket's team's escalation policy",
    )
    # Round robin: the agent each team's last ticket went to ({team id: agent id}).
    last_assigned = models.JSONField(default=dict, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def keywords(self) -> list[str]:
        return [k.strip() for k in self.title_keywords.split(",") if k.strip()]


class AutomationRun(models.Model):
    """One pass of the rules (a beat tick, or after a sync). Only passes that did something, or that
    stopped at the cap, are kept."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    changes = models.PositiveIntegerField(default=0)
    handed = models.PositiveIntegerField(default=0)
    # The per-run cap stopped it; the supervisors were told, and the rest waits for the next pass.
    capped = models.BooleanField(default=False)
    cap = models.PositiveIntegerField(default=0)
    preview = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"automation pass {self.started_at:%Y-%m-%d %H:%M}: {self.changes} changes"


# The occasion of a "handed to a person" row: a ticket is handed over once per rule, whatever fires.
OCCASION_HANDED = datetime(1970, 1, 1, tzinfo=UTC)


class AutomationChange(models.Model):
    """One line of the automation ledger: a change a rule made to a ticket, or a ticket it handed to
    a person instead."""

    class Outcome(models.TextChoices):
        QUEUED = "queued", "Queued for Odoo"
        HANDED = "handed", "Handed to a person"
        UNDONE = "undone", "Undone"

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="changes")
    run = models.ForeignKey(AutomationRun, null=True, on_delete=models.SET_NULL, related_name="ledger")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="automation_changes")
    action = models.CharField(max_length=16, choices=AutomationRule.Action.choices)
    # What the trigger fired on: the ticket's creation, the change (its write date), the start of the
    # idle spell (the last change), the schedule's period; HANDED rows use OCCASION_HANDED (a ticket
    # is handed to a person once per rule). A rule acts once per ticket per occasion, whoever runs it.
    occasion_at = models.DateTimeField()
    # Odoo values before and after, in Odoo's write format ({"user_id": 7}), for the ledger and undo.
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    # In plain words for the ledger: "Assigned to Ana Lopez (round robin)", or why a person gets it.
    summary = models.CharField(max_length=300)
    at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.QUEUED)
    odoo_action = models.OneToOneField(
        OdooAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="automation_change"
    )
    undo_action = models.OneToOneField(
        OdooAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="automation_undo"
    )
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    # The assignee a change gave (for least-loaded counts and round robin).
    assigned_to = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "ticket", "occasion_at"], name="automation_once_per_occasion"
            ),
        ]
        indexes = [models.Index(fields=["ticket", "at"], name="automation_ticket_idx")]

    def __str__(self):
        return f"{self.rule} on {self.ticket_id}: {self.summary}"
