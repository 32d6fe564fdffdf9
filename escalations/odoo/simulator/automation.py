"""Automation rules that run on create and write, and the webhooks their actions send (odoo.md §4.6,
§8.9): what `base_automation` does when it patches a model's `create`/`write` (`_register_hook`).

For each active rule of the model whose trigger is `on_create`, `on_write` or `on_create_or_write`
(and, on write, whose `trigger_field_ids` are among the fields written, when it names any), the
records that match its `filter_domain` (evaluated as superuser, archived records included) run the
rule's actions, once per rule and record in a call (Odoo's `__action_done`). Of the actions, only
`state = 'webhook'` does anything here: it asks for a POST of
`{"_action": "<action name>(#<id>)", "_id": ..., "_model": ...}` plus the `webhook_field_ids` as
`read(load=None)` gives them, as JSON with sorted keys. The state (state.py) sends them, before the
call's writes are visible to anyone else on 17 and 18, after on 19 (webhooks.py).

Not simulated: `filter_pre_domain` (stored, not applied), the other triggers and action types
(stored, never run), and the `uid`/`user` names an Odoo domain may use: domains here are literals.
"""

import ast
import json
from dataclasses import dataclass, field

from . import query, values
from .errors import AccessError, UserError

RULE, ACTION, FIELD = "base.automation", "ir.actions.server", "ir.model.fields"
# Only Administration/Settings (base.group_system) may read or change these (base_automation's and
# base's ir.model.access.csv).
ADMIN_MODELS = {RULE: "Automation Rule", ACTION: "Server Action"}
ON_CREATE = ("on_create", "on_create_or_write")
ON_WRITE = ("on_write", "on_create_or_write")
SUPERUSER_ID = 1


@dataclass(frozen=True)
class Webhook:
    url: str
    body: bytes
    action_id: int
    model: str
    record_id: int


@dataclass
class Pending:
    """The webhooks one call's rules asked for, and which (rule, record) pairs already ran."""

    sends: list[Webhook] = field(default_factory=list)
    done: set[tuple[int, int]] = field(default_factory=set)


def is_system(store, uid) -> bool:
    return uid == SUPERUSER_ID or uid in store.system_uids


def check_admin(env, model: str) -> None:
    if model in ADMIN_MODELS and not env.su and not is_system(env.store, env.uid):
        raise AccessError(
            f"You are not allowed to access '{ADMIN_MODELS[model]}' ({model}) records.\n\n"
            "This operation is allowed for the following groups:\n\t- Administration/Settings\n\n"
            "Contact your administrator to request access if necessary."
        )


class ActionHooks:
    """ir.actions.server: a webhook action made without a name gets the one Odoo 17's form gives it."""

    def prepare_create(self, env, vals: dict) -> None:
        if not vals.get("name"):
            labels = dict(env.store.model(ACTION).fields["state"].selection)
            vals["name"] = labels.get(vals.get("state") or "object_write", "Server Action")
        if vals.get("base_automation_id") and vals.get("usage") in (None, "ir_actions_server"):
            vals["usage"] = "base_automation"


def register(store) -> None:
    if ACTION in store.schema:
        store.hooks[ACTION] = ActionHooks()


# -- running the rules --------------------------------------------------------------------------------


def after_create(env, model: str, ids: list[int]) -> None:
    if env.store.pending_webhooks is not None and ids:
        for rule in _rules(env, model, ON_CREATE):
            _run(env, rule, model, ids)


def after_write(env, model: str, ids: list[int], vals: dict) -> None:
    if env.store.pending_webhooks is None or not ids:
        return
    for rule in _rules(env, model, ON_WRITE):
        watched = _field_names(env.store, rule.get("trigger_field_ids"))
        if watched and not watched & set(vals):
            continue
        _run(env, rule, model, ids)


def _rules(env, model: str, triggers) -> list[dict]:
    store = env.store
    table = store.tables.get(RULE)
    if not table:
        return []
    return [
        rule for _, rule in sorted(table.items())
        if rule.get("active") and rule.get("trigger") in triggers
        and store.value(RULE, rule, "model_name") == model
    ]


def _run(env, rule: dict, model: str, ids: list[int]) -> None:
    pending = env.store.pending_webhooks
    todo = [i for i in _matching(env, rule, model, ids) if (rule["id"], i) not in pending.done]
    pending.done.update((rule["id"], i) for i in todo)
    action_ids = env.store.inverse_ids(ACTION, "base_automation_id", rule["id"])
    actions = [env.store.get(ACTION, a) for a in action_ids]
    actions = sorted((a for a in actions if a and a.get("state") == "webhook"),
                     key=lambda a: (a.get("sequence") or 0, a["id"]))
    for record_id in todo:
        for action in actions:
            pending.sends.append(_webhook(env, action, model, record_id))


def _matching(env, rule: dict, model: str, ids: list[int]) -> list[int]:
    text = (rule.get("filter_domain") or "").strip()
    if not text:
        return [i for i in ids if env.store.exists(model, i)]
    domain = parse_domain(text) + [("id", "in", list(ids))]
    return query.search(env.store, model, domain, order="id", active_test=False)


def parse_domain(text: str) -> list:
    try:
        domain = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"Invalid domain {text!r}: the simulator takes literal domains only") from exc
    if not isinstance(domain, (list, tuple)):
        raise ValueError(f"Invalid domain {text!r}")
    return list(domain)


def _webhook(env, action: dict, model: str, record_id: int) -> Webhook:
    store = env.store
    if not action.get("webhook_url"):
        raise UserError(
            "I'll be happy to send a webhook for you, but you really need to give me a URL to reach out to..."
        )
    payload = {"_model": model, "_id": record_id, "_action": f"{action['name']}(#{action['id']})"}
    names = sorted(_field_names(store, action.get("webhook_field_ids")))
    if names:
        rec = store.get(model, record_id)
        payload.update({n: values.formatter(store, model, n, None)(rec) for n in ["id", *names]})
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    return Webhook(action["webhook_url"], body, action["id"], model, record_id)


def _field_names(store, field_ids) -> set[str]:
    return {store.get(FIELD, i)["name"] for i in field_ids or () if store.get(FIELD, i)}
