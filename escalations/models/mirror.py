"""The mirror of Odoo's helpdesk: what the console needs of each record, keyed by its Odoo id.

Odoo is the source of truth. These rows are written only by the sync (escalations.sync), in bulk, and
each mirror model uses the Odoo id as its primary key so that a ticket's foreign keys can be filled
straight from Odoo's many2one values without a lookup per row.
"""

from django.db import models
from django.utils import timezone

# Odoo's superuser (OdooBot, `__system__`, res.users 1): crons and the mail gateway write as it. Never a
# person, never anyone's assignee.
ODOO_SUPERUSER_ID = 1


class Team(models.Model):
    odoo_id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    active = models.BooleanField(default=True)
    use_sla = models.BooleanField(default=False)
    # The team's working calendar in Odoo (resource.calendar); SLA deadlines the app computes use it.
    calendar_odoo_id = models.PositiveIntegerField(null=True, blank=True)
    # The team's members in Odoo (Enterprise `member_ids`, OCA `user_ids`): whom routine automation
    # may assign its tickets to.
    members = models.ManyToManyField("Agent", blank=True, related_name="teams")
    # How Odoo itself assigns the team's new tickets ("randomly", "balanced", ...; "" when it does not):
    # an automation rule that assigns is refused for such a team, Odoo would undo it.
    odoo_assigns = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Stage(models.Model):
    odoo_id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    sequence = models.IntegerField(default=10)
    # Enterprise marks a closed stage with `fold`; OCA with `closed`. Either way, a ticket here is done.
    is_closed = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sequence", "odoo_id"]

    def __str__(self):
        return self.name


class Agent(models.Model):
    """An Odoo user who can be assigned tickets."""

    odoo_id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    login = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    # The person's resource.resource in Odoo: their own time off is a calendar leave with this
    # resource_id (escalations.models.CalendarLeave).
    resource_odoo_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Customer(models.Model):
    """The ticket's customer (res.partner), only the name and email the console shows."""

    odoo_id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    email = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return self.name


class Tag(models.Model):
    odoo_id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=255)

    def __str__(self):
        return self.name


class TicketQuerySet(models.QuerySet):
    def open(self):
        """Tickets a person may still have to work on: present in Odoo, active, not in a closed stage."""
        return self.filter(active=True, deleted_at__isnull=True).exclude(stage__is_closed=True)


class Ticket(models.Model):
    odoo_id = models.PositiveIntegerField(primary_key=True)
    reference = models.CharField(max_length=64, blank=True)
    name = models.TextField()
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    assignee = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    priority = models.CharField(max_length=1, default="0")  # Odoo's selection key, "0" (low) to "3"
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    customer_name = models.CharField(max_length=255, blank=True)
    customer_email = models.CharField(max_length=255, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    active = models.BooleanField(default=True)

    # Times from Odoo, all UTC.
    created_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    odoo_write_date = models.DateTimeField()
    # The Odoo user who wrote the values last mirrored (res.users id; not a foreign key: OdooBot and
    # the console's own user are no agents). Whether a person just changed the ticket.
    odoo_write_uid = models.PositiveIntegerField(null=True, blank=True)

    # The nearest deadline among the ticket's unmet SLAs (None when it has none running). Whether it
    # is breached is worked out against the current time, never taken from Odoo's stored flags.
    sla_deadline = models.DateTimeField(null=True, blank=True, db_index=True)

    synced_at = models.DateTimeField(default=timezone.now)
    # Fingerprint of the Odoo values last mirrored (sync.mapping.odoo_digest): a re-read ticket whose
    # values did not change is not written again, whatever its write_date did.
    odoo_digest = models.CharField(max_length=32, blank=True, default="")
    # Set when Odoo confirms the ticket no longer exists (deleted there; escalations.sync.run).
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Set when Odoo still has the ticket (`exists`) but no longer shows it to the console's user: a
    # private team, team membership, a record rule. The mirror keeps what it last read; the sync clears
    # it when it reads the ticket again. Never a reason to end its escalation (escalations.engine).
    invisible_since = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["sla_deadline", "odoo_id"]

    def __str__(self):
        return f"{self.reference or self.odoo_id} {self.name}"


class SlaStatus(models.Model):
    """One SLA deadline Odoo holds for a ticket.

    Enterprise: a `helpdesk.sla.status`; OCA 17/18: a `helpdesk.ticket.sla`; OCA 16 keeps one deadline
    on the ticket itself, mirrored here with `odoo_id` 0.
    """

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        MET = "met", "Met"
        FAILED = "failed", "Failed"

    # No index of its own: the unique (ticket, odoo_id) constraint below serves lookups by ticket, and
    # each index costs the sync a write per row.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_statuses", db_index=False)
    odoo_id = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    deadline = models.DateTimeField(null=True, blank=True)
    reached_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    # Odoo's own status key (ongoing/reached/failed, in_progress/accomplished/expired/on_hold), kept
    # as received for the ticket page; `state` is what the console reasons with.
    odoo_status = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["deadline", "odoo_id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "odoo_id"], name="sla_status_unique_per_ticket"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_state_display()})"


class SyncState(models.Model):
    """The sync's cursor and health: one row (pk=1)."""

    # Keyset cursor: the last (write_date, id) of a ticket page that was saved whole.
    cursor_write_date = models.DateTimeField(null=True, blank=True)
    cursor_odoo_id = models.PositiveIntegerField(default=0)

    flavour = models.CharField(max_length=16, blank=True)  # "enterprise" or "oca"
    server_version = models.CharField(max_length=32, blank=True)
    # The detected HelpdeskSchema (escalations.odoo.schema), so that incremental syncs need no
    # fields_get; a full sync detects it again.
    schema = models.JSONField(default=dict, blank=True)

    # A lease, so that two syncs (beat and a person running the command) never run at once.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)

    last_incremental_at = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # When Odoo refused our credentials; periodic syncs pause for a while instead of hammering it.
    auth_failed_at = models.DateTimeField(null=True, blank=True)
    # Tickets Odoo has but no longer shows to the console's user (Ticket.invisible_since), counted by
    # each sync for the pages' sync health line, so that they need no query of their own.
    invisible_tickets = models.PositiveIntegerField(default=0)
    # The console's own Odoo user (res.users id), as the last sync logged in: its writes are not a
    # person's (escalations.automation).
    odoo_uid = models.PositiveIntegerField(null=True, blank=True)
    # When the admins were emailed about this refusal; cleared by the next successful sync, so each
    # refusal episode sends one email. Set by a conditional update: two workers never both send.
    auth_refusal_notified_at = models.DateTimeField(null=True, blank=True)
    # Stamped by a task beat sends every BEAT_HEARTBEAT_SECONDS (escalations.tasks.beat_heartbeat): a
    # recent stamp means beat is sending and a worker is running what it sends (/readyz reads it).
    beat_heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When a webhook's targeted read last changed the mirror (escalations.push): tickets then change
    # without the cursor moving, and the queue's change stamp must still move.
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sync state"

    def __str__(self):
        return f"sync cursor {self.cursor_write_date} #{self.cursor_odoo_id}"

    @property
    def auth_refused(self) -> bool:
        """The last sync failed because Odoo refused the console's login or API key."""
        return bool(self.last_error) and self.auth_failed_at is not None

    @classmethod
    def console_uid(cls) -> int | None:
        """The console's own Odoo user, as the last sync logged in (one query, no write)."""
        return cls.objects.filter(pk=1).values_list("odoo_uid", flat=True).first()

    @classmethod
    def load(cls) -> "SyncState":
        state, _ = cls.objects.get_or_create(pk=1)
        return state
