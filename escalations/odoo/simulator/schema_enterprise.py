"""Odoo Enterprise Helpdesk models (odoo.md §4), per version 16/17/18/19 (19: as 18, with the few
fields a 19-era copy adds where they are known)."""

from .schema import KANBAN_STATES, PRIORITIES_EE, F, m2m, m2o, model, o2m, sel


def _ticket_display(store, rec):
    # EE 17 `_compute_display_name`: "<name> (#<ticket_ref>)".
    ref = rec.get("ticket_ref")
    return f"{rec.get('name') or ''} (#{ref})" if ref else (rec.get("name") or "")


def _followers(model: str):
    # mail.thread's, computed from mail.followers (followers.py); the record rules read it.
    key = f"followers:{model}"
    return m2m(
        "message_partner_ids", "res.partner", "Followers (Partners)", store=False, compute=key, search=key
    )


def enterprise_models(version: int) -> list:
    return [
        _team(), _stage(version), _tag(version), _ticket_type(), _sla(version), _sla_status(),
        _ticket(version),
    ]


def _team():
    return model(
        "helpdesk.team",
        "Helpdesk Team",
        [
            F("name", "char", "Helpdesk Team", required=True),
            F("description", "html", "About Team"),
            F("active", "boolean", "Active", default=True),
            m2o("company_id", "res.company", "Company", required=True),
            F("sequence", "integer", "Sequence", default=10),
            F("color", "integer", "Color Index", default=0),
            m2m("stage_ids", "helpdesk.stage", "Stages"),
            m2m("member_ids", "res.users", "Team Members"),
            F("use_sla", "boolean", "SLA Policies", default=True),
            m2o(
                "resource_calendar_id",
                "resource.calendar",
                "Working Hours",
                help="Working hours used to determine the deadline of SLA Policies.",
            ),
            sel(
                "privacy_visibility",
                [
                    ("invited_internal", "Invited internal users (private)"),
                    ("internal", "All internal users (company)"),
                    ("portal", "Invited portal users and all internal users (public)"),
                ],
                "Visibility",
                required=True,
                default="portal",
            ),
            F("auto_assignment", "boolean", "Automatic Assignment", default=False),
            sel(
                "assign_method",
                [
                    ("randomly", "Each user is assigned an equal number of tickets"),
                    ("balanced", "Each user has an equal number of open tickets"),
                ],
                "Assignment Method",
                required=True,
                default="randomly",
            ),
            F("alias_name", "char", "Alias Name"),
            o2m("ticket_ids", "helpdesk.ticket", "team_id", "Tickets"),
            o2m("sla_ids", "helpdesk.sla", "team_id", "SLA Policies"),
            _followers("helpdesk.team"),
        ],
        order="sequence,name",
    )


def _stage(version: int):
    # 19-era copies add a stage colour and "rotting" (days in the stage before a ticket is flagged).
    since_19 = [
        F("color", "integer", "Color", default=0),
        F("rotting_threshold_days", "integer", "Days to rot", default=0),
    ] if version >= 19 else []
    return model(
        "helpdesk.stage",
        "Helpdesk Stage",
        [
            F("name", "char", "Stage Name", required=True),
            F("description", "text", "Description"),
            F("sequence", "integer", "Sequence", default=10),
            F("active", "boolean", "Active", default=True),
            F(
                "fold",
                "boolean",
                "Folded in Kanban",
                help="Tickets in a folded stage are considered as closed.",
            ),
            m2m("team_ids", "helpdesk.team", "Helpdesk Teams"),
            F("legend_blocked", "char", "Red Kanban Label", default="Blocked"),
            F("legend_done", "char", "Green Kanban Label", default="Ready"),
            F("legend_normal", "char", "Grey Kanban Label", default="In Progress"),
            *since_19,
        ],
        order="sequence, id",
    )


def _tag(version: int):
    message = "Tag name already exists !" if version <= 16 else "A tag with the same name already exists."
    return model(
        "helpdesk.tag",
        "Helpdesk Tags",
        [
            F("name", "char", "Name", required=True),
            F("color", "integer", "Color", default=0),
        ],
        order="name",
        unique=[(("name",), message)],  # name_uniq: a second tag of a name is refused
    )


def _ticket_type():
    return model(
        "helpdesk.ticket.type",
        "Helpdesk Ticket Type",
        [
            F("name", "char", "Type", required=True),
            F("sequence", "integer", "Sequence", default=10),
        ],
        order="sequence, name",
    )


def _sla(version):
    fields = [
        F("name", "char", "SLA Policy Name", required=True),
        F("description", "html", "SLA Policy Description"),
        F("active", "boolean", "Active", default=True),
        m2o("team_id", "helpdesk.team", "Helpdesk Team", required=True),
        m2m("tag_ids", "helpdesk.tag", "Tags"),
        m2o("stage_id", "helpdesk.stage", "Target Stage", required=True),
        m2m("exclude_stage_ids", "helpdesk.stage", "Excluding Stages"),
        sel("priority", PRIORITIES_EE, "Priority", required=True, default="0"),
        m2m("partner_ids", "res.partner", "Customers"),
        m2o("company_id", "res.company", "Company", related="team_id.company_id", store=False),
        F(
            "time",
            "float",
            "Within",
            required=True,
            default=0.0,
            help="Maximum number of working hours a ticket should take to reach the target stage.",
        ),
    ]
    if version <= 17:
        fields.append(m2m("ticket_type_ids", "helpdesk.ticket.type", "Ticket Types"))
    return model("helpdesk.sla", "Helpdesk SLA Policies", fields, order="name")


def _sla_status():
    return model(
        "helpdesk.sla.status",
        "Ticket SLA Status",
        [
            m2o("ticket_id", "helpdesk.ticket", "Ticket", required=True, index=True),
            m2o("sla_id", "helpdesk.sla", "SLA", required=True),
            m2o("sla_stage_id", "helpdesk.stage", "Target Stage", readonly=True),
            F("deadline", "datetime", "Deadline", readonly=True),
            F("reached_datetime", "datetime", "Reached Date"),
            sel(
                "status",
                [("failed", "Failed"), ("reached", "Reached"), ("ongoing", "Ongoing")],
                "Status",
                store=False,
                compute="sla_status_status",
                search="sla_status_status",
                readonly=True,
            ),
            F("color", "integer", "Color Index", store=False, compute="sla_status_color"),
            F("exceeded_hours", "float", "Exceeded Working Hours", readonly=True),
        ],
        order="deadline ASC, sla_stage_id",
        rec_name="sla_id",
    )


def _ticket(version):
    fields = [
        F("name", "char", "Subject", required=True),
        F("description", "html", "Description"),
        F("active", "boolean", "Active", default=True),
        m2o("team_id", "helpdesk.team", "Helpdesk Team", index=True),
        m2o("user_id", "res.users", "Assigned to"),
        m2o("stage_id", "helpdesk.stage", "Stage"),
        sel("priority", PRIORITIES_EE, "Priority", default="0"),
        m2o("partner_id", "res.partner", "Customer"),
        F("partner_name", "char", "Customer Name"),
        F("partner_email", "char", "Customer Email"),
        F("partner_phone", "char", "Customer Phone"),
        m2o("commercial_partner_id", "res.partner", "Commercial Partner", readonly=True),
        m2m("tag_ids", "helpdesk.tag", "Tags"),
        sel("kanban_state", KANBAN_STATES, "Status", required=True, default="normal"),
        m2o("company_id", "res.company", "Company", readonly=True),
        F("ticket_ref", "char", "Ticket IDs Sequence", readonly=True),
        F("date_last_stage_update", "datetime", "Last Stage Update", readonly=True),
        F("assign_date", "datetime", "First assignment date", readonly=True),
        F("assign_hours", "integer", "Time to first assignment (hours)", readonly=True),
        F("close_date", "datetime", "Close date", readonly=True),
        F("close_hours", "integer", "Time to close (hours)", readonly=True),
        F("open_hours", "integer", "Open Time (hours)", store=False, compute="ticket_open_hours"),
        F("closed_by_partner", "boolean", "Closed by Partner", readonly=True),
        F("fold", "boolean", "Folded in Kanban", related="stage_id.fold", store=False, readonly=True),
        F("use_sla", "boolean", "Use SLA Policies", related="team_id.use_sla", store=False, readonly=True),
        m2m("sla_ids", "helpdesk.sla", "SLAs", readonly=True),
        o2m("sla_status_ids", "helpdesk.sla.status", "ticket_id", "SLA Status"),
        F("sla_reached_late", "boolean", "Has SLA reached late", readonly=True),
        F("sla_reached", "boolean", "Has SLA reached", readonly=True),
        F(
            "sla_deadline",
            "datetime",
            "SLA Deadline",
            readonly=True,
            help="The closest deadline of all SLA applied on this ticket",
        ),
        F("sla_deadline_hours", "float", "Hours to SLA Deadline", readonly=True),
        F(
            "sla_fail",
            "boolean",
            "Failed SLA Policy",
            store=False,
            compute="ee_sla_fail",
            search="ee_sla_fail",
        ),
        F(
            "sla_success",
            "boolean",
            "Success SLA Policy",
            store=False,
            compute="ee_sla_success",
            search="ee_sla_success",
        ),
        o2m("message_ids", "mail.message", "res_id", "Messages"),
        _followers("helpdesk.ticket"),
    ]
    if version <= 17:
        fields.append(m2o("ticket_type_id", "helpdesk.ticket.type", "Type"))
    if version >= 17:
        fields.append(F("properties", "properties", "Properties"))
    return model(
        "helpdesk.ticket",
        "Helpdesk Ticket",
        fields,
        order="priority desc, id desc",
        display_name=_ticket_display,
    )
