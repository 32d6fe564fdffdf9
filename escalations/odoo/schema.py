"""Which helpdesk this Odoo runs, and under which field names.

Odoo Enterprise Helpdesk and the community OCA `helpdesk_mgmt` (+ `helpdesk_mgmt_sla`) keep the same
facts under different model and field names, and the field set moves between versions 16 and 18.
`detect_schema` asks Odoo (`fields_get`) instead of guessing from the version, and keeps only the
fields that exist, so a missing optional field never breaks a read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from . import names
from .client import OdooClient, major_version
from .errors import OdooAccessDenied, OdooRejected
from .names import ENTERPRISE, OCA

# Our name for a ticket fact -> the Odoo field, per flavour. Absent fields are dropped at detection.
_TICKET_FIELDS = {
    ENTERPRISE: {
        "reference": "ticket_ref",
        "assigned_at": "assign_date",
        "closed_at": "close_date",
        "stage_changed_at": "date_last_stage_update",
    },
    OCA: {
        "reference": "number",
        "assigned_at": "assigned_date",
        "closed_at": "closed_date",
        "stage_changed_at": "last_stage_update",
    },
}
_COMMON_TICKET_FIELDS = {
    "name": "name",
    "team": "team_id",
    "stage": "stage_id",
    "assignee": "user_id",
    "priority": "priority",
    "customer": "partner_id",
    "customer_name": "partner_name",
    "customer_email": "partner_email",
    "tags": "tag_ids",
    "active": "active",
    "created_at": "create_date",
    "write_date": "write_date",
    # Who last wrote the ticket: a person, the console's own user or OdooBot (crons). Left out of the
    # ticket's digest; routine automation (escalations.automation) keeps off what a person just changed.
    "write_uid": "write_uid",
    # Enterprise: stored earliest unreached deadline. OCA 16: stored, refreshed by a cron.
    "sla_deadline": "sla_deadline",
}

# Fields the console reads of the small models; intersected with what fields_get reports.
# Members: Enterprise `member_ids`, OCA `user_ids`. Odoo's own assignment: Enterprise 16+
# `auto_assignment` with `assign_method` (randomly / balanced); OCA helpdesk_mgmt_assign_method's
# `assign_method` (manual / randomly / balanced / sequential).
_TEAM_FIELDS = [
    "name", "active", "use_sla", "resource_calendar_id", "member_ids", "user_ids", "auto_assignment",
    "assign_method", "write_date",
]
_STAGE_FIELDS = ["name", "sequence", "fold", "closed", "active", "write_date"]
_TAG_FIELDS = ["name", "write_date"]
# resource_ids (the `resource` module's): the person's resource, whose own time off Odoo keeps as
# leaves with that resource_id.
_USER_FIELDS = ["name", "login", "email", "active", "share", "resource_ids", "write_date"]
# Working calendars (resource.calendar), for the deadlines the console computes itself. Attendances
# gained date_from/date_to and day_period (lunch breaks are attendances too) over the versions;
# two-week calendars give each attendance a week_type, and display_type marks their section lines;
# an attendance with a resource_id is one person's.
_CALENDAR_FIELDS = ["name", "tz", "hours_per_day", "two_weeks_calendar"]
_ATTENDANCE_FIELDS = [
    "calendar_id", "dayofweek", "hour_from", "hour_to", "date_from", "date_to", "day_period", "display_type",
    "week_type", "resource_id",
]
# resource_id set: one person's time off, not the team's; time_type "other" is not time off.
_LEAVE_FIELDS = ["calendar_id", "name", "date_from", "date_to", "resource_id", "time_type"]
_SLA_FIELDS = {
    # Enterprise helpdesk.sla.status / OCA 17-18 helpdesk.ticket.sla
    names.HELPDESK[ENTERPRISE]["sla"]: ["ticket_id", "sla_id", "deadline", "reached_datetime", "status"],
    names.HELPDESK[OCA]["sla"]: ["ticket_id", "sla_id", "deadline", "state"],
}


@dataclass(frozen=True)
class HelpdeskSchema:
    flavour: str
    server_version: str
    ticket_fields: dict[str, str]  # our name -> Odoo field name
    team_model: str
    stage_model: str
    tag_model: str
    team_fields: list[str]
    stage_fields: list[str]
    tag_fields: list[str]
    user_fields: list[str]
    # Per-ticket SLA records: "helpdesk.sla.status" (Enterprise), "helpdesk.ticket.sla" (OCA 17/18),
    # or "" when the deadline sits on the ticket itself (OCA 16).
    sla_model: str = ""
    sla_fields: list[str] = field(default_factory=list)
    # Empty when the user may not read working calendars (or the schema predates them): the sync
    # then mirrors none, and computed deadlines fall back to round-the-clock hours.
    calendar_fields: list[str] = field(default_factory=list)
    attendance_fields: list[str] = field(default_factory=list)
    leave_fields: list[str] = field(default_factory=list)

    @property
    def major_version(self) -> int:
        return major_version(self.server_version)

    def ticket_read_fields(self) -> list[str]:
        return sorted(set(self.ticket_fields.values()))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> HelpdeskSchema:
        return cls(**data)


def _present(wanted: list[str], available: dict) -> list[str]:
    return [name for name in wanted if name in available]


def detect_schema(client: OdooClient) -> HelpdeskSchema:
    """Ask Odoo which helpdesk it runs (one `fields_get` per model the sync reads)."""
    ticket = client.fields_get(names.TICKET)
    team_relation = ticket.get("team_id", {}).get("relation", "")
    flavour = OCA if team_relation == names.HELPDESK[OCA]["team"] else ENTERPRISE
    models = names.HELPDESK[flavour]

    wanted = {**_COMMON_TICKET_FIELDS, **_TICKET_FIELDS[flavour]}
    ticket_fields = {ours: theirs for ours, theirs in wanted.items() if theirs in ticket}

    sla_model = ""
    if "sla_status_ids" in ticket:
        sla_model = names.HELPDESK[ENTERPRISE]["sla"]
    elif "ticket_sla_ids" in ticket:
        sla_model = names.HELPDESK[OCA]["sla"]  # 17/18; 16 has none
    sla_fields = []
    if sla_model:
        sla_fields = _present(_SLA_FIELDS[sla_model], client.fields_get(sla_model))
    # With per-ticket SLA records, the nearest deadline is worked out from them (Odoo's computed
    # sla_deadline is non-stored on OCA 17/18, so reading it would cost a computation per row).
    if sla_model:
        ticket_fields.pop("sla_deadline", None)

    return HelpdeskSchema(
        flavour=flavour,
        server_version=client.server_version,
        ticket_fields=ticket_fields,
        team_model=models["team"],
        stage_model=models["stage"],
        tag_model=models["tag"],
        team_fields=_present(_TEAM_FIELDS, client.fields_get(models["team"])),
        stage_fields=_present(_STAGE_FIELDS, client.fields_get(models["stage"])),
        tag_fields=_present(_TAG_FIELDS, client.fields_get(models["tag"])),
        user_fields=_present(_USER_FIELDS, client.fields_get(names.USER)),
        sla_model=sla_model,
        sla_fields=sla_fields,
        **_calendar_fields(client),
    )


def _calendar_fields(client: OdooClient) -> dict[str, list[str]]:
    """The calendar models' fields (three `fields_get`), or none if this user may not read them."""
    try:
        calendar = _present(_CALENDAR_FIELDS, client.fields_get(names.CALENDAR))
        attendance = _present(_ATTENDANCE_FIELDS, client.fields_get(names.ATTENDANCE))
        leave = _present(_LEAVE_FIELDS, client.fields_get(names.LEAVE))
    except (OdooAccessDenied, OdooRejected):
        return {}
    return {"calendar_fields": calendar, "attendance_fields": attendance, "leave_fields": leave}
