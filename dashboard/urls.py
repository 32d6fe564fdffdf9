from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.views import (
    action_forms,
    actions,
    api,
    automation,
    health,
    hooks,
    notice_settings,
    policies,
    queue,
    reports,
    ticket,
    tickets,
    wall,
)

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("tickets/", tickets.ticket_list, name="tickets"),
    path("tickets/<int:ticket_id>/row/", action_forms.row, name="queue-row"),
    path("tickets/<int:ticket_id>/form/<slug:kind>/", action_forms.action_form, name="action-form"),
    path("agents/", action_forms.agent_search, name="agent-search"),
    path("tickets/<int:ticket_id>/", ticket.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/conversation/", ticket.conversation, name="ticket-conversation"),
    path("tickets/<int:ticket_id>/accept/", actions.accept, name="action-accept"),
    path("tickets/<int:ticket_id>/reassign/", actions.reassign, name="action-reassign"),
    path("tickets/<int:ticket_id>/deescalate/", actions.deescalate, name="action-deescalate"),
    path("tickets/<int:ticket_id>/escalate/", actions.escalate, name="action-escalate"),
    path("tickets/<int:ticket_id>/note/", actions.note, name="action-note"),
    path("actions/<int:action_id>/confirm/", actions.confirm, name="action-confirm"),
    path("actions/<int:action_id>/cancel/", actions.cancel, name="action-cancel"),
    path("actions/<int:action_id>/retry/", actions.retry_now, name="action-retry"),
    path("tickets/bulk/", actions.bulk, name="action-bulk"),
    path("automation/", automation.rule_list, name="automation"),
    path("automation/new/", automation.rule_new, name="automation-new"),
    path("automation/<int:rule_id>/edit/", automation.rule_edit, name="automation-edit"),
    path("automation/<int:rule_id>/preview/", automation.rule_preview, name="automation-preview"),
    path("automation/<int:rule_id>/switch/", automation.rule_switch_view, name="automation-switch"),
    path("automation/ledger/", automation.ledger, name="automation-ledger"),
    path("automation/ledger/<int:change_id>/undo/", automation.undo, name="automation-undo"),
    path("policies/", policies.policy_list, name="policies"),
    path("policies/first-run/", policies.first_run, name="policies-first-run"),
    path("policies/<int:team_id>/", policies.policy_edit, name="policy-edit"),
    path("policies/<int:team_id>/check/", policies.policy_check, name="policy-check"),
    path("policies/<int:team_id>/preview/", policies.policy_preview_view, name="policy-preview"),
    path("settings/notices/", notice_settings.notice_settings, name="notice-settings"),
    path("reports/", reports.report_page, name="reports"),
    path("reports/tickets/", reports.report_tickets, name="report-tickets"),
    path("reports/<slug:section>.csv", reports.report_csv, name="report-csv"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("wall/", wall.wall, name="wall-screen"),
    path("wall/<str:token>/", wall.wall_enter, name="wall"),
    path("api/queue/", api.queue_feed_view, name="api-queue"),
    path("hooks/odoo/<str:token>/", hooks.odoo_hook, name="odoo-hook"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]

handler400 = "dashboard.views.errors.bad_request"
handler403 = "dashboard.views.errors.permission_denied"
handler404 = "dashboard.views.errors.page_not_found"
