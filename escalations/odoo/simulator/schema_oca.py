"""OCA `helpdesk_mgmt` + `helpdesk_mgmt_sla` models (odoo.md §5), per version 16/17/18.

16 has the older SLA design (stored `sla_deadline`/`sla_expired` refreshed by a cron); 17/18 have
one `helpdesk.ticket.sla` row per (ticket, policy) and non-stored ticket aggregates.
"""

from .schema import PRIORITIES_OCA, F, m2m, m2o, model, o2m, sel

OCA_KANBAN_STATES = [("normal", "Default"), ("done", "Ready for next stage"), ("blocked", "Blocked")]


def _ticket_display(store, rec):
    # OCA: `_rec_name = "number"` and display name "<number> - <name>".
    return f"{rec.get('number') or ''} - {rec.get('name') or ''}"


def _category_display(store, rec):
    parts, seen = [], set()
    while rec is not None and rec["id"] not in seen:
        seen.add(rec["id"])
        parts.append(rec.get("name") or "")
        rec = store.get("helpdesk.ticket.category", rec.get("parent_id")) if rec.get("parent_id") else None
    return " / ".join(reversed(parts))


def oca_models(version: int) -> list:
    models = [_team(version), _stage(), _category(), _tag(), _channel(), _sla(version), _ticket(version)]
    if version >= 17:
        models.append(_ticket_sla())
    return models


def _team(version):
    # 16 inherits mail.alias.mixin with mail.alias's `alias_user_id` (the alias owner); 17 dropped it.
    alias = [m2o("alias_user_id", "res.users", "Owner")] if version <= 16 else []
    # helpdesk_mgmt_assign_method (16.0 and 17.0 only): how Odoo assigns the team's new tickets itself.
    assign = [
        sel(
            "assign_method",
            [("manual", "Manually"), ("randomly", "Randomly"), ("balanced", "Balanced"),
             ("sequential", "Sequential")],
            "Assignation Method",
            required=True,
            default="manual",
        )
    ] if version in (16, 17) else []
    return model(
        "helpdesk.ticket.team",
        "Helpdesk Ticket Team",
        [
            F("name", "char", "Name", required=True),
            F("sequence", "integer", "Sequence", default=10),
            F("active", "boolean", "Active", default=True),
            m2m("user_ids", "res.users", "Members"),
            m2o("user_id", "res.users", "Team Leader"),
            m2m("category_ids", "helpdesk.ticket.category", "Categories"),
            m2o("company_id", "res.company", "Company"),
            F("color", "integer", "Color Index", default=0),
            o2m("ticket_ids", "helpdesk.ticket", "team_id", "Tickets"),
            F("show_in_portal", "boolean", "Show in portal form", default=True),
            m2o("parent_id", "helpdesk.ticket.team", "Parent"),
            F("use_sla", "boolean", "Use SLA", default=True),
            m2o("resource_calendar_id", "resource.calendar", "Working Hours"),
        ]
        + alias
        + assign,
        order="sequence, id",
        parent_name="parent_id",
    )


def _stage():
    return model(
        "helpdesk.ticket.stage",
        "Helpdesk Ticket Stage",
        [
            F("name", "char", "Stage Name", required=True),
            F("description", "html", "Description"),
            F("sequence", "integer", "Sequence", default=1),
            F("active", "boolean", "Active", default=True),
            F("unattended", "boolean", "Unattended"),
            F("closed", "boolean", "Closed"),
            F("close_from_portal", "boolean", "Close From Portal"),
            F("fold", "boolean", "Folded in Kanban"),
            m2o("company_id", "res.company", "Company"),
            m2m("team_ids", "helpdesk.ticket.team", "Helpdesk Teams"),
        ],
        order="sequence, id",
    )


def _category():
    return model(
        "helpdesk.ticket.category",
        "Helpdesk Category",
        [
            F("name", "char", "Name", required=True),
            F("sequence", "integer", "Sequence", default=10),
            F("active", "boolean", "Active", default=True),
            m2o("parent_id", "helpdesk.ticket.category", "Parent Category", index=True),
            o2m("child_id", "helpdesk.ticket.category", "parent_id", "Child Categories"),
            F("complete_name", "char", "Complete Name", store=False, compute="display_name"),
            m2o("company_id", "res.company", "Company"),
            F("show_in_portal", "boolean", "Show in portal form", default=True),
        ],
        order="sequence, id",
        parent_name="parent_id",
        display_name=_category_display,
    )


def _tag():
    return model(
        "helpdesk.ticket.tag",
        "Helpdesk Ticket Tag",
        [
            F("name", "char", "Name", required=True),
            F("color", "integer", "Color Index", default=0),
            F("sequence", "integer", "Sequence", default=10),
            F("active", "boolean", "Active", default=True),
            m2o("company_id", "res.company", "Company"),
        ],
        order="sequence, id",
    )


def _channel():
    return model(
        "helpdesk.ticket.channel",
        "Helpdesk Ticket Channel",
        [
            F("name", "char", "Name", required=True),
            F("sequence", "integer", "Sequence", default=10),
            F("active", "boolean", "Active", default=True),
            m2o("company_id", "res.company", "Company"),
        ],
        order="sequence, id",
    )


def _sla(version):
    common = [
        F("name", "char", "Name", required=True),
        m2m("team_ids", "helpdesk.ticket.team", "Teams"),
        m2m("category_ids", "helpdesk.ticket.category", "Categories"),
        m2m("tag_ids", "helpdesk.ticket.tag", "Tags"),
        F("days", "integer", "Days", default=0),
        F("hours", "integer", "Hours", default=2),
        F("note", "html", "Note"),
        F("active", "boolean", "Active", default=True),
    ]
    if version <= 16:
        extra = [m2m("stage_ids", "helpdesk.ticket.stage", "Stages")]
    else:
        extra = [
            m2o("company_id", "res.company", "Company"),
            m2m("ignore_stage_ids", "helpdesk.ticket.stage", "Ignore stages"),
            m2o("stage_id", "helpdesk.ticket.stage", "Expected stage", required=True),
            F("domain", "char", "Filter", default="[]"),
        ]
    return model("helpdesk.sla", "Helpdesk SLA", common + extra, order="name")


def _ticket_sla():
    return model(
        "helpdesk.ticket.sla",
        "Helpdesk Ticket SLA",
        [
            m2o("ticket_id", "helpdesk.ticket", "Ticket", required=True, index=True),
            m2o("sla_id", "helpdesk.sla", "SLA", required=True),
            F("deadline", "datetime", "Deadline"),
            F("hours", "float", "Hours"),
            m2o("expected_stage_id", "helpdesk.ticket.stage", "Expected stage"),
            F("consumed_time", "float", "Consumed time"),
            F("last_state_date", "datetime", "Last state date"),
            sel(
                "state",
                [
                    ("accomplished", "Accomplished"),
                    ("in_progress", "In progress"),
                    ("expired", "Expired"),
                    ("on_hold", "On hold"),
                ],
                "State",
                default="in_progress",
            ),
            F(
                "expired",
                "boolean",
                "Expired",
                store=False,
                compute="oca_sla_line_expired",
                search="oca_sla_line_expired",
            ),
            F("color", "integer", "Color", store=False, compute="oca_sla_line_color"),
        ],
        order="deadline, id",
        rec_name="sla_id",
    )


def _ticket(version):
    fields = [
        F("number", "char", "Ticket number", readonly=True),
        F("name", "char", "Title", required=True),
        F("description", "html", "Description", required=True),
        m2o("user_id", "res.users", "Assigned user"),
        m2m("user_ids", "res.users", "Users", related="team_id.user_ids", store=False),
        m2o("stage_id", "helpdesk.ticket.stage", "Stage"),
        m2o("partner_id", "res.partner", "Contact"),
        m2o("commercial_partner_id", "res.partner", "Commercial Partner", readonly=True),
        F("partner_name", "char", "Partner Name"),
        F("partner_email", "char", "Email"),
        F("last_stage_update", "datetime", "Last Stage Update"),
        F("assigned_date", "datetime", "Assigned Date"),
        F("closed_date", "datetime", "Closed Date"),
        F("closed", "boolean", "Closed", related="stage_id.closed", store=False),
        F("unattended", "boolean", "Unattended", readonly=True),
        m2m("tag_ids", "helpdesk.ticket.tag", "Tags"),
        m2o("company_id", "res.company", "Company", required=True),
        m2o("channel_id", "helpdesk.ticket.channel", "Channel"),
        m2o("category_id", "helpdesk.ticket.category", "Category"),
        m2o("team_id", "helpdesk.ticket.team", "Team", index=True),
        sel("priority", PRIORITIES_OCA, "Priority", default="1"),
        F("color", "integer", "Color Index", default=0),
        # No default in any helpdesk_mgmt (16.0.2.14, 17.0.1.11, 18.0.1.19): a new ticket has none.
        sel("kanban_state", OCA_KANBAN_STATES, "Kanban State"),
        F("sequence", "integer", "Sequence", default=10),
        F("active", "boolean", "Active", default=True),
        o2m("message_ids", "mail.message", "res_id", "Messages"),
        F("team_sla", "boolean", "Team SLA", related="team_id.use_sla", store=False),
    ]
    if version <= 16:
        fields += [F("sla_deadline", "datetime", "SLA deadline"), F("sla_expired", "boolean", "SLA expired")]
    else:
        fields += [
            o2m("ticket_sla_ids", "helpdesk.ticket.sla", "ticket_id", "Ticket SLAs"),
            m2m("sla_ids", "helpdesk.sla", "SLAs", store=False, compute="oca_ticket_sla_ids"),
            F(
                "sla_expired",
                "boolean",
                "SLA expired",
                store=False,
                compute="oca_ticket_sla_expired",
                search="oca_ticket_sla_expired",
            ),
            F("sla_deadline", "datetime", "SLA deadline", store=False, compute="oca_ticket_sla_deadline"),
        ]
    # helpdesk_mgmt has it in 16.0 too (16.0.2.x: definition team_id.ticket_properties).
    fields.append(F("properties", "properties", "Properties"))
    if version >= 18:
        fields += [
            F("notes", "html", "Notes"),
            m2o("duplicate_id", "helpdesk.ticket", "Duplicate of", index=True),
            o2m("duplicate_ids", "helpdesk.ticket", "duplicate_id", "Duplicates"),
        ]
    return model(
        "helpdesk.ticket",
        "Helpdesk Ticket",
        fields,
        order="priority desc, sequence, number desc, id desc",
        rec_name="number",
        display_name=_ticket_display,
    )
