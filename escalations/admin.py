"""The admin: the mirror read-only (Odoo is the source of truth and the sync overwrites it), escalation
policies set up here, and escalations with their append-only history shown read-only."""

from django.contrib import admin

from .models import (
    Agent,
    AuditEntry,
    Customer,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
    Notice,
    OdooAction,
    Profile,
    SlaStatus,
    Stage,
    SyncState,
    Tag,
    Team,
    Ticket,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ["name", "odoo_id", "active", "use_sla"]


@admin.register(Stage)
class StageAdmin(ReadOnlyAdmin):
    list_display = ["name", "odoo_id", "sequence", "is_closed", "active"]


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdmin):
    list_display = ["name", "login", "email", "odoo_id", "active"]
    search_fields = ["name", "login", "email"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["name", "email", "odoo_id"]
    search_fields = ["name", "email"]


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ["name", "odoo_id"]


class SlaStatusInline(admin.TabularInline):
    model = SlaStatus
    extra = 0
    can_delete = False
    readonly_fields = ["name", "deadline", "reached_at", "state", "odoo_status"]
    exclude = ["odoo_id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["reference", "name", "team", "stage", "assignee", "priority", "sla_deadline", "active"]
    list_filter = ["team", "stage", "priority", "active"]
    search_fields = ["reference", "name", "customer_name", "customer_email"]
    list_select_related = ["team", "stage", "assignee"]
    inlines = [SlaStatusInline]


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = ["cursor_write_date", "flavour", "server_version", "last_success_at", "last_error"]
    exclude = ["schema"]


# -- escalation policies (set up here) and escalations (read here, changed only by their rules) -------


class EscalationLevelInline(admin.StackedInline):
    model = EscalationLevel
    extra = 0
    filter_horizontal = ["members", "notify_users"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "active", "on_sla_at_risk", "on_sla_breached", "no_update_after", "on_reopened",
                    "escalate_tag", "allow_manual"]
    list_filter = ["active"]
    list_select_related = ["team"]
    filter_horizontal = ["paused_stages"]
    inlines = [EscalationLevelInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The clocks' at-risk times and computed deadlines follow the policy (its threshold, target
        # and paused stages), which is saved whole only now, with its levels and stages.
        from escalations.sla import refresh_clocks

        refresh_clocks(team_ids=[form.instance.team_id])


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "agent"]
    search_fields = ["user__username", "user__email", "agent__name"]
    autocomplete_fields = ["agent"]
    filter_horizontal = ["teams"]


class EscalationEventInline(admin.TabularInline):
    model = EscalationEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "rule", "from_level", "to_level", "reason", "facts"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "level", "trigger", "raised_at", "accepted_by", "ended_at", "end_reason"]
    list_filter = ["trigger", "end_reason", "policy"]
    list_select_related = ["ticket", "level", "accepted_by"]
    search_fields = ["ticket__reference", "ticket__name"]
    date_hierarchy = "raised_at"
    inlines = [EscalationEventInline]


@admin.register(EscalationEvent)
class EscalationEventAdmin(ReadOnlyAdmin):
    """Append-only: nobody adds, edits or deletes history here."""

    list_display = ["at", "escalation", "kind", "actor", "rule", "from_level", "to_level"]
    list_filter = ["kind"]
    list_select_related = ["escalation__ticket", "escalation__level", "actor", "from_level", "to_level"]


# -- the outbox and the audit log: read here, written only by escalations.actions and the outbox -------


@admin.register(OdooAction)
class OdooActionAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "kind", "state", "attempts", "created_by", "created_at", "applied_at",
                    "last_error"]
    list_filter = ["state", "kind"]
    list_select_related = ["ticket", "created_by"]
    search_fields = ["ticket__reference", "ticket__name", "action_uid"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Nobody adds, edits or deletes audit entries here."""

    list_display = ["at", "user", "ticket", "kind", "outcome", "reason"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["user", "ticket"]
    search_fields = ["ticket__reference", "ticket__name", "user__username"]
    date_hierarchy = "at"


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """Every email notice with its state; written only by escalations.notices."""

    list_display = ["created_at", "kind", "email", "escalation", "level", "state", "attempts", "sent_at",
                    "last_error"]
    list_filter = ["state", "kind", "level"]
    list_select_related = ["escalation__ticket", "escalation__level", "level"]
    search_fields = ["email", "escalation__ticket__reference", "escalation__ticket__name"]
    date_hierarchy = "created_at"
