"""`python manage.py odoo_webhooks install|status|remove`: the automation rule that makes Odoo (17+)
post each ticket change to the console, set up through Odoo's API.

Needs an Odoo administrator's API key (automation rules are theirs alone), given once with
--admin-key or ODOO_ADMIN_API_KEY; over JSON-RPC (Odoo 17, 18) with the administrator's login too
(--admin-login or ODOO_ADMIN_USER, default "admin"). The key is used for this run only: never stored,
never printed. The address Odoo posts to is DASHBOARD_BASE_URL + /hooks/odoo/<token>/, so Odoo must
reach DASHBOARD_BASE_URL.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from escalations.models import OdooHook
from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.errors import OdooAuthError, OdooError
from escalations.push.odoo_rule import (
    RULE_NAME,
    WebhookRule,
    WebhookRuleError,
    console_filter,
    console_uid_of,
    webhook_install,
    webhook_remove,
    webhook_rules,
)
from escalations.push.tokens import (
    odoo_hook_check,
    odoo_hook_create,
    odoo_hook_mask,
    odoo_hook_revoke,
    odoo_hook_token_of,
    odoo_hook_url,
)

HOOK_NAME = "Odoo automation rule (helpdesk.ticket)"


class Command(BaseCommand):
    help = "Install, show or remove the Odoo automation rule that pushes ticket changes to the console."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["install", "status", "remove"])
        parser.add_argument("--admin-key", default=None,
                            help="an Odoo administrator's API key (default: $ODOO_ADMIN_API_KEY); used for "
                                 "this run only")
        parser.add_argument("--admin-login", default=None,
                            help="that administrator's login, for JSON-RPC (Odoo 17, 18) (default: "
                                 "$ODOO_ADMIN_USER, else admin)")

    def handle(self, *args, action, admin_key, admin_login, **options):
        key = admin_key or os.environ.get("ODOO_ADMIN_API_KEY", "")
        login = admin_login or os.environ.get("ODOO_ADMIN_USER", "") or "admin"
        try:
            if action == "status":
                return self._status(key, login)
            client = self._admin_client(key, login)
            if action == "install":
                self._install(client)
            else:
                self._remove(client)
        except WebhookRuleError as exc:
            raise CommandError(exc.message) from None

    # -- the three actions -------------------------------------------------------------------------

    def _install(self, client: OdooClient) -> None:
        console_uid = console_uid_of(client, settings.ODOO_USER)
        rules = webhook_rules(client)
        kept = self._hook_of(rules[0]) if rules else None
        url, made = (rules[0].url, None) if kept else self._new_address()
        try:
            rule = webhook_install(client, url=url, console_uid=console_uid)
        except BaseException:
            if made is not None:
                made.delete()  # Odoo was not told this address
            raise
        self._keep_only(made or kept)
        if rules and rules[0].matches(url=url, console_uid=console_uid) and len(rules) == 1:
            self.stdout.write(self.style.SUCCESS(f"Already installed: Odoo rule #{rule.rule_id} posts ticket "
                                                 f"changes to {odoo_hook_mask(rule.url)}"))
            return
        self.stdout.write(self.style.SUCCESS(
            f"Installed: Odoo rule #{rule.rule_id} \"{RULE_NAME}\" posts every ticket change to "
            f"{odoo_hook_mask(rule.url)}, except the console's own (Odoo user #{console_uid})."))
        self.stdout.write("Odoo must reach that address (DASHBOARD_BASE_URL); the periodic sync still "
                          "reconciles whatever a webhook misses.")

    def _remove(self, client: OdooClient) -> None:
        removed = webhook_remove(client)
        revoked = 0
        for hook in OdooHook.objects.filter(revoked_at__isnull=True):
            revoked += odoo_hook_revoke(hook=hook)
        if not removed:
            self.stdout.write(f"No rule \"{RULE_NAME}\" in Odoo; {revoked} console address(es) revoked.")
            return
        ids = ", ".join(f"#{r.rule_id}" for r in removed)
        self.stdout.write(self.style.SUCCESS(f"Removed Odoo rule {ids} and its webhook action; {revoked} "
                                             "console address(es) revoked (they answer 404)."))

    def _status(self, key: str, login: str) -> None:
        if key:
            client = self._admin_client(key, login)
            rules = webhook_rules(client)
            console_uid = console_uid_of(client, settings.ODOO_USER)
            self._print_rules(client, rules, console_uid)
        else:
            self.stdout.write("Odoo: give an administrator's key (--admin-key or ODOO_ADMIN_API_KEY) "
                              "to see the rule in Odoo.")
        hooks = OdooHook.objects.filter(revoked_at__isnull=True)
        if not hooks:
            self.stdout.write("Console: no active hook address; the periodic sync alone keeps the mirror.")
        for hook in hooks:
            seen = hook.last_used_at.isoformat(timespec="seconds") if hook.last_used_at else "never"
            self.stdout.write(f"Console: hook {hook.token_prefix}… active since "
                              f"{hook.created_at.isoformat(timespec='seconds')}, last post {seen}.")

    def _print_rules(self, client: OdooClient, rules: list[WebhookRule], console_uid: int) -> None:
        if not rules:
            self.stdout.write(f"Odoo ({client.server_version}): no rule \"{RULE_NAME}\"; run install.")
            return
        for rule in rules:
            known = bool(odoo_hook_check(token=odoo_hook_token_of(rule.url)))
            self.stdout.write(
                f"Odoo ({client.server_version}): rule #{rule.rule_id} \"{RULE_NAME}\", "
                f"{'active' if rule.active else 'ARCHIVED'}, trigger {rule.trigger}, "
                f"filter {rule.filter_domain or '(none)'}, webhook action(s) "
                f"{', '.join(f'#{i}' for i in rule.action_ids) or '(none)'} -> {odoo_hook_mask(rule.url)} "
                f"({'a live console address' if known else 'NOT a live console address: run install'})")
            if rule.filter_domain != console_filter(console_uid):
                self.stdout.write(f"  the filter should be {console_filter(console_uid)}: run install.")

    # -- helpers ---------------------------------------------------------------------------------------

    def _admin_client(self, key: str, login: str) -> OdooClient:
        if not key:
            raise CommandError("Give an Odoo administrator's API key: --admin-key KEY or ODOO_ADMIN_API_KEY "
                               "(used for this run only, never stored).")
        config = OdooConfig(url=settings.ODOO_URL, db=settings.ODOO_DB, user=login, api_key=key,
                            timeout=float(settings.ODOO_TIMEOUT), protocol=settings.ODOO_PROTOCOL)
        try:
            return OdooClient.connect(config)
        except OdooAuthError:
            raise CommandError(f"Odoo refused the administrator's key (login {login!r}): it is wrong, "
                               "revoked or expired, or over JSON-RPC belongs to another login "
                               "(--admin-login).") from None
        except OdooError as exc:
            raise CommandError(f"Odoo could not be reached at {settings.ODOO_URL}: {exc.message}") from None

    @staticmethod
    def _hook_of(rule: WebhookRule) -> OdooHook | None:
        """The live console hook the rule posts to, if its address is still this console's."""
        token = odoo_hook_token_of(rule.url)
        hook = odoo_hook_check(token=token) if token else None
        return hook if hook is not None and rule.url == odoo_hook_url(token) else None

    @staticmethod
    def _new_address() -> tuple[str, OdooHook]:
        hook, token = odoo_hook_create(name=HOOK_NAME)
        return odoo_hook_url(token), hook

    @staticmethod
    @transaction.atomic
    def _keep_only(hook: OdooHook) -> None:
        """One address answers: the rule's. Any other (an earlier install's) answers 404 from now on."""
        for other in OdooHook.objects.filter(revoked_at__isnull=True).exclude(pk=hook.pk):
            odoo_hook_revoke(hook=other)
