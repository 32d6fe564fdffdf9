"""The admin: the mirror read-only (Odoo is the source of truth and the sync overwrites it), escalation
policies set up here, and escalations with their append-only history shown read-only."""

from django.contrib import admin, messages
from django.utils.html import format_html

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
    OdooHook,
    Profile,
    SlaStatus,
    Stage,
    SyncState,
    Tag,
    Team,
    Ticket,
    WallDisplay,
)
from .push.tokens import odoo_hook_revoke
from .sla.refresh import refresh_clocks
from .walls import wall_display_renew, wall_display_revoke, wall_url

# Titled as the product, not "Django administration": supervisors set policies up in the console
# (/policies/); the admin stays for the rest (people and roles, wall displays, the records).
admin.site.site_header = "Escalation console: administration"
admin.site.site_title = "Escalation console admin"
admin.site.index_title = "People, wall displays and records"


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
    fieldsets = [
        (None, {"fields": ["number", "name", "members", "accept_within"]}),
        ("Notices", {"fields": ["notify_users", "notify_emails", "notify_on_accept", "notify_on_deescalate",
                                "remind_after"]}),
        ("Marker in Odoo", {
            "fields": ["odoo_tag_name", "odoo_priority"],
            "description": "Optional: while a ticket is escalated at this level, the console sets this tag "
                           "(and at least this priority) on it in Odoo, so agents see the escalation there.",
        }),
    ]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "active", "on_sla_at_risk", "on_sla_breached", "no_update_after", "on_reopened",
                    "escalate_tag", "allow_manual"]
    list_filter = ["active"]
    list_select_related = ["team"]
    filter_horizontal = ["paused_stages"]
    inlines = [EscalationLevelInline]

    def save_model(self, request, obj, form, change):
        # A policies page opened before this save then refuses to undo it unknowingly.
        obj.revision += 1
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The clocks' at-risk times and computed deadlines follow the policy (its threshold, target
        # and paused stages), which is saved whole only now, with its levels and stages.
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


# -- wall displays: created and revoked here; the screen's URL (with its token) is shown only once ----


class BearerTokenAdmin(admin.ModelAdmin):
    """What the admin shows of a bearer token (escalations.models.bearer): its first characters, never
    the token or its hash, and whether it was revoked."""

    @admin.display(description="token")
    def token_shown(self, obj):
        return f"{obj.token_prefix}…"

    @admin.display(boolean=True, description="revoked", ordering="revoked_at")
    def revoked(self, obj):
        return not obj.is_active


@admin.register(WallDisplay)
class WallDisplayAdmin(BearerTokenAdmin):
    """Only a hash of each token is stored, so the URL appears once, in the message after creating
    the display (or giving it a new token). Nothing here shows or edits the token itself."""

    list_display = ["name", "team_shown", "token_shown", "created_at", "last_seen_at", "revoked"]
    list_select_related = ["team"]
    list_filter = ["team"]
    search_fields = ["name"]
    actions = ["revoke_displays", "renew_tokens"]

    # Shown, read-only, once the display exists; never the token or its hash.
    facts_fields = ["token_shown", "created_at", "created_by", "last_seen_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        return ["name", "team"] if obj is None else ["name", "team", *self.facts_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.facts_fields

    @admin.display(description="team")
    def team_shown(self, obj):
        return obj.team or "All teams"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        obj.created_by = request.user
        token = obj.new_token()
        super().save_model(request, obj, form, change)
        self._show_url_once(request, obj, token, "created")

    @admin.action(description="Revoke the selected displays (their screens say so at their next refresh)")
    def revoke_displays(self, request, queryset):
        count = sum(wall_display_revoke(display=display) for display in queryset)
        self.message_user(request, f"{count} display(s) revoked.", messages.SUCCESS)

    @admin.action(description="Give the selected displays a new URL (the old one stops working)")
    def renew_tokens(self, request, queryset):
        for display in queryset:
            self._show_url_once(request, display, wall_display_renew(display=display), "given a new URL")

    def _show_url_once(self, request, display, token, what):
        url = wall_url(token)
        self.message_user(request, format_html(
            'Wall display "{}" {}. Open this address on the screen; it is shown only this once: '
            '<a href="{}" target="_blank" rel="noreferrer">{}</a>', display.name, what, url, url,
        ), messages.SUCCESS)


# -- Odoo's webhook addresses: made by `manage.py odoo_webhooks install`, revoked here or by `remove` ----


@admin.register(OdooHook)
class OdooHookAdmin(BearerTokenAdmin):
    """The addresses Odoo's automation rule posts ticket changes to. Only a hash of each token is
    stored; a new address comes with `manage.py odoo_webhooks install`, which also tells Odoo."""

    list_display = ["name", "token_shown", "created_at", "last_used_at", "revoked"]
    fields = ["name", "token_shown", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_hooks"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected addresses (Odoo's posts to them answer 404)")
    def revoke_hooks(self, request, queryset):
        count = sum(odoo_hook_revoke(hook=hook) for hook in queryset)
        self.message_user(request, f"{count} address(es) revoked; the periodic sync keeps the mirror.",
                          messages.SUCCESS)
