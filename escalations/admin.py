"""The mirror is read-only in the admin: Odoo is the source of truth and the sync overwrites it."""

from django.contrib import admin

from .models import Agent, Customer, SlaStatus, Stage, SyncState, Tag, Team, Ticket


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
