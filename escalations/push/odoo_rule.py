"""The automation rule in Odoo that posts ticket changes to the console (odoo.md §4.6, §8.9).

One `base.automation` on helpdesk.ticket, triggered on save (`on_create_or_write`), holding one server
action with `state = 'webhook'`, its URL the console's hook address. Its `filter_domain` leaves out the
console's own writes (`write_uid != <the console's user>`): the console knows what it wrote, and a
webhook for each write-back would only cost a read. The webhook carries no field (`webhook_field_ids`
empty): the console trusts nothing but the ticket id, and no customer data need leave Odoo that way.

Creating, reading and removing rules needs an Odoo administrator (Administration / Settings): these
functions are called with a client logged in with an administrator's key, which is never stored.
The rule is found again by its name, so that installing twice leaves one rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from escalations.odoo import names
from escalations.odoo.client import OdooClient, major_version
from escalations.odoo.errors import OdooAccessDenied, OdooError, OdooRejected

RULE, ACTION, MODEL = "base.automation", "ir.actions.server", "ir.model"
RULE_NAME = "Escalation console: push ticket changes"
TRIGGER = "on_create_or_write"
WEBHOOKS_SINCE = 17  # Odoo 16 has no webhook action (OCA's webhook_outgoing is not released)


class WebhookRuleError(Exception):
    """A plain message for the person running the command."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class WebhookRule:
    rule_id: int
    active: bool
    trigger: str
    filter_domain: str
    action_ids: list[int]
    url: str  # the first webhook action's URL ("" when it has none)

    def matches(self, *, url: str, console_uid: int) -> bool:
        """Whether the rule already does what `install` would make it do."""
        return (self.active and self.trigger == TRIGGER and self.url == url and len(self.action_ids) == 1
                and self.filter_domain == console_filter(console_uid))


def console_filter(console_uid: int) -> str:
    return f"[('write_uid', '!=', {int(console_uid)})]"


def webhook_rules(client: OdooClient) -> list[WebhookRule]:
    """The console's rules in Odoo (normally one), oldest first."""
    _check_version(client)
    rows = _calling(client, lambda: client.search_read(
        RULE, [("name", "=", RULE_NAME), ("model_name", "=", names.TICKET)],
        ["active", "trigger", "filter_domain", "action_server_ids"], order="id", active_test=False))
    rules = []
    for row in rows:
        actions = _calling(client, lambda row=row: client.read(ACTION, row["action_server_ids"],
                                                               ["state", "webhook_url"]))
        hooks = [a for a in actions if a.get("state") == "webhook"]
        url = (hooks[0].get("webhook_url") or "") if hooks else ""
        rules.append(WebhookRule(row["id"], bool(row["active"]), row["trigger"], row["filter_domain"] or "",
                                 [a["id"] for a in hooks], url))
    return rules


def console_uid_of(client: OdooClient, login: str) -> int:
    """The Odoo user id of the console's own login (ODOO_USER), as an administrator sees it."""
    rows = _calling(client, lambda: client.search_read(names.USER, [("login", "=", login)], ["id"],
                                                       active_test=False))
    if not rows:
        raise WebhookRuleError(f"Odoo has no user with the login {login!r} (ODOO_USER): the rule must leave "
                               "out that user's writes, so it must exist first.")
    return rows[0]["id"]


def webhook_install(client: OdooClient, *, url: str, console_uid: int) -> WebhookRule:
    """Create the rule and its webhook action, or bring the existing rule to this URL and filter (and
    remove any duplicate). Returns the rule as it now is."""
    rules = webhook_rules(client)
    for extra in rules[1:]:
        _unlink(client, extra)
    if not rules:
        model_id = _ticket_model_id(client)
        action = {"state": "webhook", "model_id": model_id, "webhook_url": url,
                  "webhook_field_ids": [(6, 0, [])]}
        rule_id = _calling(client, lambda: client.create(RULE, {
            "name": RULE_NAME, "model_id": model_id, "trigger": TRIGGER,
            "filter_domain": console_filter(console_uid), "action_server_ids": [(0, 0, action)],
        }))
        return _rule(client, rule_id)
    rule = rules[0]
    if rule.matches(url=url, console_uid=console_uid):
        return rule
    if rule.action_ids:
        _calling(client, lambda: client.write(ACTION, rule.action_ids[:1], {"webhook_url": url}))
        if len(rule.action_ids) > 1:
            _calling(client, lambda: client.call(ACTION, "unlink", [rule.action_ids[1:]]))
        commands = []
    else:
        commands = [(0, 0, {"state": "webhook", "model_id": _ticket_model_id(client), "webhook_url": url})]
    values = {"active": True, "trigger": TRIGGER, "filter_domain": console_filter(console_uid)}
    if commands:
        values["action_server_ids"] = commands
    _calling(client, lambda: client.write(RULE, [rule.rule_id], values))
    return _rule(client, rule.rule_id)


def webhook_remove(client: OdooClient) -> list[WebhookRule]:
    """Remove the console's rules and their actions from Odoo; returns what was removed."""
    rules = webhook_rules(client)
    for rule in rules:
        _unlink(client, rule)
    return rules


def _unlink(client: OdooClient, rule: WebhookRule) -> None:
    if rule.action_ids:
        _calling(client, lambda: client.call(ACTION, "unlink", [rule.action_ids]))
    _calling(client, lambda: client.call(RULE, "unlink", [[rule.rule_id]]))


def _rule(client: OdooClient, rule_id: int) -> WebhookRule:
    return next(r for r in webhook_rules(client) if r.rule_id == rule_id)


def _ticket_model_id(client: OdooClient) -> int:
    ids = _calling(client, lambda: client.search(MODEL, [("model", "=", names.TICKET)]))
    if not ids:
        raise WebhookRuleError("Odoo has no helpdesk.ticket model: is the Helpdesk app installed?")
    return ids[0]


def _check_version(client: OdooClient) -> None:
    version = major_version(client.server_version)
    if version and version < WEBHOOKS_SINCE:
        raise WebhookRuleError(
            f"Odoo {client.server_version} has no webhook action (it came with Odoo 17): the console keeps "
            "up to date with its periodic sync alone."
        )


def _calling(client: OdooClient, call):
    """Run one Odoo call, turning what an administrator can fix into a plain message."""
    try:
        return call()
    except OdooAccessDenied as exc:
        raise WebhookRuleError(
            f"Odoo refused: the API key given is {_who(client)}'s, who may not manage automation rules. "
            "That needs an Odoo administrator (Settings > Users > Access Rights: Administration set to "
            "Settings): give an administrator's API key."
        ) from exc
    except OdooRejected as exc:
        if "base.automation" in exc.message and "doesn't exist" in exc.message:
            raise WebhookRuleError("Odoo's Automation Rules app (base_automation) is not installed: "
                                   "install it in Odoo's Apps, then run this again.") from exc
        raise WebhookRuleError(f"Odoo refused the change: {exc.message}") from exc
    except OdooError as exc:
        raise WebhookRuleError(f"Odoo could not be asked: {exc.message}") from exc


def _who(client: OdooClient) -> str:
    """The key's user, as it may see itself: its login, else its id."""
    try:
        rows = client.read(names.USER, [client.uid], ["login"])
    except OdooError:
        rows = []
    return repr(rows[0]["login"]) if rows else f"Odoo user #{client.uid}"
