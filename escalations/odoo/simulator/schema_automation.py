"""Automation rules and their server actions (`base_automation`, Odoo 17+), and the field registry
(`ir.model.fields`) that a webhook action's `webhook_field_ids` point at (odoo.md §4.6, §8.9).

In Odoo 17 a rule (`base.automation`) holds its actions (`action_server_ids`, whose
`base_automation_id` points back); before 17 a rule *was* a server action (`_inherits`) and there was
no webhook action at all, so the simulator offers these two models from 17 on. Only base.group_system
may read or change them (`access.ADMIN_MODELS`).
"""

from .schema import F, m2m, m2o, model, o2m, sel

# base_automation 17's triggers. The simulator runs the create/write ones (automation.py); the others
# are stored, as a rule an administrator set up, and never fire.
TRIGGERS = [
    ("on_create_or_write", "On save"),
    ("on_create", "On creation"),
    ("on_write", "On update"),
    ("on_stage_set", "Stage is set to"),
    ("on_user_set", "User is set"),
    ("on_tag_set", "Tag is added"),
    ("on_state_set", "State is set to"),
    ("on_priority_set", "Priority is set to"),
    ("on_archive", "On archived"),
    ("on_unarchive", "On unarchived"),
    ("on_unlink", "On deletion"),
    ("on_change", "On UI change"),
    ("on_time", "Based on date field"),
    ("on_time_created", "After creation"),
    ("on_time_updated", "After last update"),
    ("on_message_received", "On incoming message"),
    ("on_message_sent", "On outgoing message"),
    ("on_webhook", "On webhook"),
]

ACTION_STATES = [
    ("object_write", "Update Record"),
    ("object_create", "Create Record"),
    ("code", "Execute Code"),
    ("webhook", "Send Webhook Notification"),
    ("multi", "Execute Existing Actions"),
    ("mail_post", "Send Email"),
    ("followers", "Add Followers"),
    ("next_activity", "Create Activity"),
]


def field_registry_model():
    return model(
        "ir.model.fields",
        "Fields",
        [
            F("name", "char", "Field Name", required=True),
            F("model", "char", "Model Name", required=True),
            m2o("model_id", "ir.model", "Model", required=True, index=True),
            F("field_description", "char", "Field Label"),
            F("ttype", "char", "Field Type", required=True),
            F("relation", "char", "Related Model"),
            F("required", "boolean", "Required"),
            F("readonly", "boolean", "Readonly"),
            F("store", "boolean", "Stored", default=True),
        ],
        order="name",
        rec_name="field_description",
    )


def automation_models(version: int) -> list:
    if version < 17:
        return []
    return [
        model(
            "base.automation",
            "Automation Rule",
            [
                F("name", "char", "Automation Rule Name", required=True),
                F("description", "html", "Description"),
                m2o("model_id", "ir.model", "Model", required=True),
                F("model_name", "char", "Model Name", related="model_id.model", store=False, readonly=True),
                F("active", "boolean", "Active", default=True),
                sel("trigger", TRIGGERS, "Trigger", required=True),
                o2m("action_server_ids", "ir.actions.server", "base_automation_id", "Actions"),
                m2m("trigger_field_ids", "ir.model.fields", "Trigger Fields"),
                # Python-literal domains, as Odoo keeps them: "[('write_uid', '!=', 7)]".
                F("filter_pre_domain", "char", "Before Update Domain"),
                F("filter_domain", "char", "Apply on"),
                F("last_run", "datetime", "Last Run", readonly=True),
            ],
            order="id",
        ),
        model(
            "ir.actions.server",
            "Server Action",
            [
                F("name", "char", "Action Name", required=True),
                F("type", "char", "Action Type", default="ir.actions.server"),
                sel(
                    "usage",
                    [("ir_actions_server", "Server Action"), ("ir_cron", "Scheduled Action"),
                     ("base_automation", "Automation Rule")],
                    "Usage",
                    default="ir_actions_server",
                    required=True,
                ),
                sel("state", ACTION_STATES, "Type", default="object_write", required=True),
                F("sequence", "integer", "Sequence", default=5),
                m2o("model_id", "ir.model", "Model", required=True),
                F("model_name", "char", "Model Name", related="model_id.model", store=False, readonly=True),
                F("code", "text", "Python Code"),
                F("webhook_url", "char", "Webhook URL"),
                m2m("webhook_field_ids", "ir.model.fields", "Webhook Fields"),
                m2o("base_automation_id", "base.automation", "Automation Rule", index=True,
                    ondelete="cascade"),
            ],
            order="sequence,name",
        ),
    ]
