"""Models every flavour has: users, partners, companies, chatter, model registry, working calendars."""

import zoneinfo

from .schema import F, m2m, m2o, model, o2m, sel


def _partner_display(store, rec):
    # res.partner's display name is its `complete_name`: "Company, Person" for a contact of a company.
    parent = store.get("res.partner", rec.get("parent_id")) if rec.get("parent_id") else None
    name = rec.get("name") or ""
    return f"{parent['name']}, {name}" if parent and name else name


_TZS = sorted(zoneinfo.available_timezones())
_LANGS = [
    ("en_US", "English (US)"),
    ("fr_BE", "French (BE) / Français (BE)"),
    ("nl_BE", "Dutch (BE) / Nederlands (BE)"),
]


def base_models(version: int) -> list:
    tz = sel("tz", [(z, z) for z in _TZS], "Timezone")
    lang = sel("lang", _LANGS, "Language", default="en_US")
    return [
        model(
            "res.company",
            "Companies",
            [
                F("name", "char", "Company Name", required=True),
                m2o("partner_id", "res.partner", "Partner"),
                m2o("resource_calendar_id", "resource.calendar", "Default Working Hours"),
                F("email", "char", "Email"),
                F("active", "boolean", "Active", default=True),
                F("sequence", "integer", "Sequence", default=10),
            ],
            order="sequence, name",
        ),
        model(
            "res.partner.category",
            "Partner Tags",
            [
                F("name", "char", "Tag Name", required=True),
                F("color", "integer", "Color"),
                F("active", "boolean", "Active", default=True),
            ],
            order="name",
        ),
        model(
            "res.partner",
            "Contact",
            [
                F("name", "char", "Name"),
                F(
                    "complete_name",
                    "char",
                    "Complete Name",
                    readonly=True,
                    compute="display_name",
                    store=False,
                ),
                F("email", "char", "Email"),
                F("phone", "char", "Phone"),
                F("is_company", "boolean", "Is a Company", default=False),
                m2o("parent_id", "res.partner", "Related Company", index=True),
                o2m("child_ids", "res.partner", "parent_id", "Contact"),
                m2o("commercial_partner_id", "res.partner", "Commercial Entity", readonly=True),
                m2o("company_id", "res.company", "Company"),
                F("function", "char", "Job Position"),
                F("city", "char", "City"),
                F("active", "boolean", "Active", default=True),
                # The contact's tags (base's res.partner.category): "VIP", "Key account", ...
                m2m("category_id", "res.partner.category", "Tags"),
                tz,
                lang,
            ],
            order="complete_name ASC, id DESC",
            parent_name="parent_id",
            display_name=_partner_display,
        ),
        model(
            "res.users",
            "User",
            [
                F("name", "char", "Name", required=True),
                F("login", "char", "Login", required=True),
                F("email", "char", "Email"),
                m2o("partner_id", "res.partner", "Related Partner", required=True),
                m2o("company_id", "res.company", "Company"),
                F("active", "boolean", "Active", default=True),
                F("share", "boolean", "Share User", default=False),
                # Added by the `resource` module (res_users.py), which helpdesk depends on.
                o2m("resource_ids", "resource.resource", "user_id", "Resources"),
                tz,
                lang,
            ],
            order="name, login",
        ),
        model(
            "mail.message.subtype",
            "Message subtypes",
            [
                F("name", "char", "Message Type", required=True),
                F("internal", "boolean", "Internal Only"),
                F("sequence", "integer", "Sequence", default=1),
                F("default", "boolean", "Default", default=True),
            ],
            order="sequence, id",
        ),
        model(
            "mail.message",
            "Message",
            [
                F("subject", "char", "Subject"),
                F("body", "html", "Contents", default=""),
                F("model", "char", "Related Document Model"),
                F("res_id", "many2one_reference", "Related Document ID", index=True),
                F("record_name", "char", "Message Record Name", readonly=True),
                sel(
                    "message_type",
                    [
                        ("email", "Email"),
                        ("comment", "Comment"),
                        ("email_outgoing", "Outgoing Email"),
                        ("notification", "System notification"),
                        ("auto_comment", "Automated Targeted Notification"),
                        ("user_notification", "User Specific Notification"),
                    ],
                    "Type",
                    required=True,
                    default="comment",
                ),
                m2o("subtype_id", "mail.message.subtype", "Subtype"),
                m2o("author_id", "res.partner", "Author"),
                F("email_from", "char", "From"),
                F("date", "datetime", "Date"),
                F("is_internal", "boolean", "Employee Only"),
                m2m("partner_ids", "res.partner", "Recipients"),
            ],
            order="id desc",
            rec_name="record_name",
        ),
        model(
            "mail.followers",
            "Document Followers",
            [
                F("res_model", "char", "Related Document Model Name", required=True),
                F("res_id", "many2one_reference", "Related Document ID", index=True),
                m2o("partner_id", "res.partner", "Related Partner", required=True),
            ],
            rec_name="partner_id",
        ),
        model(
            "ir.model",
            "Models",
            [
                F("name", "char", "Model Description", required=True),
                F("model", "char", "Model", required=True),
                sel("state", [("manual", "Custom Object"), ("base", "Base Object")], "Type", default="base"),
                F("transient", "boolean", "Transient Model"),
                F("modules", "char", "In Apps", store=False, compute="ir_model_modules"),
            ],
            order="model",
        ),
        model(
            "ir.model.data",
            "Model Data",
            [
                F("name", "char", "External Identifier", required=True),
                F("module", "char", "Module", required=True),
                F("model", "char", "Model Name", required=True),
                F("res_id", "many2one_reference", "Record ID"),
                F("noupdate", "boolean", "Non Updatable", default=False),
            ],
            order="module, model, name",
        ),
        *calendar_models(),
    ]


def calendar_models() -> list:
    days = [
        ("0", "Monday"),
        ("1", "Tuesday"),
        ("2", "Wednesday"),
        ("3", "Thursday"),
        ("4", "Friday"),
        ("5", "Saturday"),
        ("6", "Sunday"),
    ]
    return [
        model(
            "resource.calendar",
            "Resource Working Time",
            [
                F("name", "char", "Name", required=True),
                F("active", "boolean", "Active", default=True),
                m2o("company_id", "res.company", "Company"),
                o2m("attendance_ids", "resource.calendar.attendance", "calendar_id", "Working Time"),
                o2m("leave_ids", "resource.calendar.leaves", "calendar_id", "Time Off"),
                F("hours_per_day", "float", "Average Hour per Day", default=8.0),
                sel("tz", [(z, z) for z in _TZS], "Timezone", required=True, default="Europe/Brussels"),
                F("full_time_required_hours", "float", "Company Full Time", default=40.0),
                F("two_weeks_calendar", "boolean", "Calendar in 2 weeks mode", default=False),
            ],
            order="name",
        ),
        model(
            "resource.calendar.attendance",
            "Work Detail",
            [
                F("name", "char", "Name", required=True),
                sel("dayofweek", days, "Day of Week", required=True, default="0"),
                F("date_from", "date", "Starting Date"),
                F("date_to", "date", "End Date"),
                F("hour_from", "float", "Work from", required=True),
                F("hour_to", "float", "Work to", required=True),
                m2o("calendar_id", "resource.calendar", "Resource's Calendar", required=True, index=True),
                sel(
                    "day_period",
                    [("morning", "Morning"), ("lunch", "Break"), ("afternoon", "Afternoon")],
                    "Day Period",
                    required=True,
                    default="morning",
                ),
                F("sequence", "integer", "Sequence", default=10),
                # One person's own schedule line; calendar-level planning leaves it out.
                m2o("resource_id", "resource.resource", "Resource"),
                # Two-week calendars: '0' first week, '1' second week (of `get_week_type`); the two
                # "First week"/"Second week" title rows are display_type 'line_section', not working time.
                sel("week_type", [("1", "Second"), ("0", "First")], "Week Number"),
                F(
                    "two_weeks_calendar",
                    "boolean",
                    "Calendar in 2 weeks mode",
                    related="calendar_id.two_weeks_calendar",
                    store=False,
                ),
                sel("display_type", [("line_section", "Section")], "Display Type"),
            ],
            order="sequence, week_type, dayofweek, hour_from",
        ),
        model(
            "resource.calendar.leaves",
            "Resource Time Off Detail",
            [
                F("name", "char", "Reason"),
                m2o("company_id", "res.company", "Company"),
                m2o("calendar_id", "resource.calendar", "Working Hours", index=True),
                # Set: one person's time off (hr_holidays writes these); empty: everyone on the calendar.
                m2o("resource_id", "resource.resource", "Resource", index=True),
                F("date_from", "datetime", "Start Date", required=True),
                F("date_to", "datetime", "End Date", required=True),
                sel(
                    "time_type",
                    [("leave", "Time Off"), ("other", "Other")],
                    "Kind of Time Off",
                    default="leave",
                ),
            ],
            order="date_from",
        ),
        model(
            "resource.resource",
            "Resources",
            [
                F("name", "char", "Name", required=True),
                F("active", "boolean", "Active", default=True),
                m2o("company_id", "res.company", "Company"),
                sel("resource_type", [("user", "Human"), ("material", "Material")], "Type", default="user"),
                m2o("user_id", "res.users", "User"),
                m2o("calendar_id", "resource.calendar", "Working Time"),
                sel("tz", [(z, z) for z in _TZS], "Timezone", required=True, default="Europe/Brussels"),
                F("time_efficiency", "float", "Efficiency Factor", default=100.0),
            ],
            order="id",
        ),
    ]
