"""The simulator's whole state: schema, records, users and credentials, sessions, clock, counters.

`SimulatorState.call()` is the in-process door (tests use it to play an agent editing in Odoo); the
protocol module uses `authenticate`/`check_credentials`/`execute` for RPC. One re-entrant lock covers
every read and mutation so the threaded HTTP server can serve concurrent calls safely.

Each call is a transaction (`transaction()`), which matters once automation rules send webhooks
(automation.py, webhooks.py). Odoo 19 sends them after the commit: the call's writes are in place, then
the request waits for each answer (at most a second). Odoo 17 and 18 send them before the commit: the
request waits for the answers, and then `webhook_commit_delay` more seconds (what else the transaction
does: other rules, a slow module), while its writes are NOT visible to anyone else. A receiver that
reads the record back at once sees it as it was, exactly as PostgreSQL would show it; a write by
another request waits for the commit, as it would on PostgreSQL's row locks (reads never wait).
"""

import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import automation, followers, methods, orm, rules
from .clock import Clock
from .errors import AccessDenied, unknown_database
from .helpdesk import TicketHooks
from .orm import SUPERUSER_ID, Env
from .schema_automation import automation_models, field_registry_model
from .schema_base import base_models
from .schema_enterprise import enterprise_models
from .schema_oca import oca_models
from .sla_enterprise import EnterpriseSla
from .sla_oca import Oca16Sla, OcaSla
from .store import Store
from .webhooks import Sender

DB_NAME = "helpdesk"
FLAVOURS = ("enterprise", "oca")
VERSIONS = (16, 17, 18, 19)
# Calls that never write: they run beside a transaction that has not committed yet, and see the
# records as they were before it. Every other call waits for that commit.
READ_METHODS = frozenset({
    "search", "search_count", "search_read", "read", "fields_get", "default_get", "name_search",
    "name_get", "exists", "context_get", "check_object_reference",
})


@dataclass
class ApiKey:
    """A row of `res.users.apikeys`: whose key it is, and (Odoo 18+) until when it works."""

    uid: int
    # Naive UTC on the simulator's clock; None = persistent. Odoo 18 added `expiration_date`
    # (PR #178558) and checks `expiration_date IS NULL OR expiration_date >= now()` at each use.
    expiration_date: datetime | None = None


def _naive_utc(dt: datetime | None) -> datetime | None:
    return dt.astimezone(UTC).replace(tzinfo=None) if dt is not None and dt.tzinfo else dt


def build_schema(flavour: str, version: int) -> dict:
    models = base_models(version) + [field_registry_model(), *automation_models(version)] + (
        enterprise_models(version) if flavour == "enterprise" else oca_models(version)
    )
    return {md.name: md for md in models}


class SimulatorState:
    def __init__(self, *, flavour="enterprise", version=17, now=None, admin_password=None,
                 deprecated_rpc=True):
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}, not {flavour!r}")
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {VERSIONS}, not {version!r}")
        self.flavour, self.version, self.db_name = flavour, version, DB_NAME
        self.lock = threading.RLock()
        self.clock = Clock(now)
        self.store = Store(build_schema(flavour, version), self.clock)
        self.sla = (
            EnterpriseSla(version)
            if flavour == "enterprise"
            else Oca16Sla(version)
            if version == 16
            else OcaSla(version)
        )
        self.sla.register(self.store)
        self.store.hooks["helpdesk.ticket"] = TicketHooks(flavour, version, self.sla)
        self.store.computes["ir_model_modules"] = lambda s, rec: (
            "helpdesk" if "helpdesk" in rec["model"] else "base"
        )
        followers.register(self.store)
        automation.register(self.store)
        self.passwords: dict[int, str] = {}  # uid -> password (interactive and RPC login)
        self.api_keys: dict[str, ApiKey] = {}  # RPC only, never the web session login
        self.sessions: dict[str, int] = {}  # session_id cookie -> uid
        self.admin_password = admin_password
        self.integration_uid: int | None = None
        self.rpc_count = 0
        # Odoo 19+: whether /xmlrpc, /xmlrpc/2 and /jsonrpc still answer, and how often each was called.
        self.deprecated_rpc = True
        self.deprecated_calls: dict[str, int] = {}
        # Other databases on the same server: with any, a JSON-2 call must name ours (X-Odoo-Database).
        self.other_databases: list[str] = []
        if not deprecated_rpc:
            self.set_deprecated_rpc(False)
        # Webhooks of automation rules (Odoo 17+): who sends them, and how long a 17/18 transaction
        # stays open after sending them.
        self.webhooks = Sender()
        self.webhook_commit_delay = 0.0
        self._committed = threading.Condition(self.lock)
        self._open: set[int] = set()  # threads whose transaction sent its webhooks and has not committed
        self._local = threading.local()

    # -- versions ------------------------------------------------------------------------------

    @property
    def server_version(self) -> str:
        return f"{self.version}.0" + ("+e" if self.flavour == "enterprise" else "")

    def version_info(self) -> dict:
        info = {
            "server_version": self.server_version,
            "server_version_info": self._version_list(),
            "server_serie": f"{self.version}.0",
        }
        if self.version < 19:  # a 19 copy of `exp_version` no longer sends it
            info["protocol_version"] = 1
        return info

    def web_version(self) -> dict:
        """`GET /web/version` (19+), which replaces `common.version` for JSON-2 clients."""
        return {"version_info": self._version_list(), "version": self.server_version}

    def _version_list(self) -> list:
        return [self.version, 0, 0, "final", 0] + (["e"] if self.flavour == "enterprise" else [""])

    # -- the deprecated RPC services (Odoo 19) ---------------------------------------------------

    def set_deprecated_rpc(self, enabled: bool) -> None:
        """Switch /xmlrpc, /xmlrpc/2 and /jsonrpc off (404) or on again, as an Odoo 19 administrator can."""
        if self.version < 19:
            raise ValueError(f"The RPC services are deprecated from Odoo 19 only (this is {self.version}); "
                             "they cannot be switched off here")
        with self.lock:
            self.deprecated_rpc = bool(enabled)

    def deprecated_call(self, endpoint: str) -> bool:
        """Count a call to a deprecated endpoint (Odoo 19+); whether the endpoint still answers."""
        if self.version < 19:
            return True
        with self.lock:
            self.deprecated_calls[endpoint] = self.deprecated_calls.get(endpoint, 0) + 1
            return self.deprecated_rpc

    def set_other_databases(self, names) -> None:
        """Serve other databases beside ours (empty ones): JSON-2 callers must then say which they mean."""
        names = [str(name) for name in names or ()]
        if self.db_name in names:
            raise ValueError(f"{self.db_name!r} is this simulator's own database")
        with self.lock:
            self.other_databases = names

    # -- credentials ---------------------------------------------------------------------------

    def check_db(self, db) -> None:
        if db != self.db_name:
            raise unknown_database(db)

    def authenticate(self, db, login, password, *, allow_api_key=True) -> int | None:
        """uid for valid credentials, else None. API keys only where Odoo takes them (RPC)."""
        self.check_db(db)
        with self.lock:
            uid = next(
                (
                    u["id"]
                    for u in self.store.tables["res.users"].values()
                    if u.get("login") == login and u.get("active")
                ),
                None,
            )
            if uid is None or not isinstance(password, str) or not password:
                return None
            if self.passwords.get(uid) == password:
                return uid
            if allow_api_key and self._api_key_uid(password) == uid:
                return uid
            return None

    def check_credentials(self, db, uid, password) -> None:
        """`odoo.service.security.check`: every object call re-checks uid + password/key."""
        self.check_db(db)
        with self.lock:
            user = self.store.get("res.users", uid) if isinstance(uid, int) else None
            ok = bool(
                user
                and user.get("active")
                and isinstance(password, str)
                and password
                and (self.passwords.get(uid) == password or self._api_key_uid(password) == uid)
            )
        if not ok:
            raise AccessDenied()

    def bearer_uid(self, key) -> int | None:
        """The user of a JSON-2 bearer token: an API key only (never a password), unexpired, of an
        active user."""
        with self.lock:
            uid = self._api_key_uid(key)
            user = self.store.get("res.users", uid) if uid else None
            return uid if user and user.get("active") else None

    def _api_key_uid(self, key) -> int | None:
        """The key's user, unless the key is unknown or expired: an expired key is refused exactly
        like a wrong one (same AccessDenied, same `false` from common.login)."""
        entry = self.api_keys.get(key) if isinstance(key, str) else None
        if entry is None:
            return None
        if entry.expiration_date is not None and entry.expiration_date < self.clock.db_now():
            return None
        return entry.uid

    def add_api_key(self, uid: int, key: str | None = None, *, expires_at: datetime | None = None) -> str:
        """A new key for `uid`; `expires_at` (naive UTC, simulator clock) exists from Odoo 18 only."""
        if expires_at is not None:
            self._check_expiry_supported()
        key = key or secrets.token_hex(20)
        with self.lock:
            self.api_keys[key] = ApiKey(uid, _naive_utc(expires_at))
        return key

    @property
    def admin_uid(self) -> int | None:
        """The seeded administrator (base.user_admin): a member of Administration/Settings."""
        with self.lock:
            return next((r["res_id"] for r in self.store.tables["ir.model.data"].values()
                         if (r["module"], r["name"]) == ("base", "user_admin")), None)

    def set_settings_admin(self, login: str, admin: bool = True) -> None:
        """Put a user in Administration/Settings (base.group_system), or take it out."""
        with self.lock:
            uid = self._uid(login)
            (self.store.system_uids.add if admin else self.store.system_uids.discard)(uid)

    def set_api_key_expiry(self, key: str, expires_at: datetime | None) -> None:
        """Give a key an expiration date (or none); it stops working once the clock passes it."""
        self._check_expiry_supported()
        with self.lock:
            if key not in self.api_keys:
                raise ValueError("unknown API key")
            self.api_keys[key].expiration_date = _naive_utc(expires_at)

    def expire_api_key(self, key: str) -> None:
        """Make a key's expiration date the past second: the next call with it is refused."""
        self.set_api_key_expiry(key, self.clock.db_now() - timedelta(seconds=1))

    def _check_expiry_supported(self) -> None:
        if self.version < 18:
            raise ValueError(f"API keys have no expiration date before Odoo 18 (this is {self.version}); "
                             "revoke the key instead")

    def revoke_api_key(self, key: str) -> None:
        with self.lock:
            self.api_keys.pop(key, None)

    def new_session(self, uid: int) -> str:
        sid = secrets.token_hex(20)
        with self.lock:
            self.sessions[sid] = uid
        return sid

    def session_uid(self, sid) -> int | None:
        with self.lock:
            uid = self.sessions.get(sid)
            user = self.store.get("res.users", uid) if uid else None
            return uid if user and user.get("active") else None

    def set_user_share(self, uid: int, share: bool = True) -> None:
        """Make a user a portal/share user (not in base.group_user), or internal again. In Odoo
        `share` is computed from the user's groups; the simulator has no groups, so it is set here."""
        self.call("res.users", "write", [[uid], {"share": bool(share)}])

    def hide_team(self, team_id: int, login: str | None = None) -> None:
        """Hide a team's tickets from a user (the integration user by default) with Odoo's own record
        rules, as an administrator would: see `rules.team_hide`. Nothing is deleted."""
        with self.lock:
            rules.team_hide(self.env(), team_id, self._uid(login))

    def invite_to_team(self, team_id: int, login: str | None = None) -> None:
        """Let the user see the team's tickets again (`rules.team_invite`); no ticket is written."""
        with self.lock:
            rules.team_invite(self.env(), team_id, self._uid(login))

    def set_helpdesk_group(self, group: str, login: str | None = None) -> None:
        """The helpdesk group that limits what the user sees (rules.GROUPS); the default is the widest."""
        with self.lock:
            rules.set_access(self.env(), self._uid(login), group)

    def _uid(self, login: str | None) -> int:
        if login is None:
            return self.integration_uid
        return next(u["id"] for u in self.store.tables["res.users"].values() if u["login"] == login)

    def forbid(self, login: str, model: str) -> None:
        """Make `model` raise AccessError for that user (Odoo ACLs, coarsely)."""
        with self.lock:
            uid = next(u["id"] for u in self.store.tables["res.users"].values() if u["login"] == login)
            self.store.forbidden.setdefault(uid, set()).add(model)

    # -- calls ---------------------------------------------------------------------------------

    def env(self, uid=None, context=None, now=None) -> Env:
        return Env(
            self.store,
            uid or SUPERUSER_ID,
            dict(context or {}),
            self.version,
            self.flavour,
            now,
            su=uid is None or uid == SUPERUSER_ID,
        )

    def execute(self, uid, model, method, args, kwargs):
        kwargs = dict(kwargs or {})
        context = kwargs.pop("context", None) or {}
        with self.transaction(writes=method not in READ_METHODS):
            return methods.dispatch(self.env(uid, context), model, method, list(args or []), kwargs)

    # -- transactions and the webhooks they send -------------------------------------------------

    @contextmanager
    def transaction(self, *, writes: bool = True):
        """One call's transaction (a call made inside another is part of it). See the module's doc."""
        if getattr(self._local, "depth", 0):
            with self.lock:
                yield
            return
        with self.lock:
            if writes:
                while self._open - {threading.get_ident()}:
                    self._committed.wait()
            watched = bool(self.store.tables.get(automation.RULE))
            store = self.store
            store.journal = {} if watched else None
            store.pending_webhooks = automation.Pending() if watched else None
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                journal, pending = store.journal, store.pending_webhooks
                store.journal = store.pending_webhooks = None
            sends = pending.sends if pending else []
            before_commit = bool(sends) and self.version < 19
            if before_commit:
                written = self._hide(journal)
                self._open.add(threading.get_ident())
        if not sends:
            return
        if not before_commit:
            self.webhooks.send_all(sends)  # Odoo 19: a post-commit hook of the request
            return
        try:
            self.webhooks.send_all(sends)
            if self.webhook_commit_delay:
                time.sleep(self.webhook_commit_delay)
        finally:
            with self.lock:
                self._show(written)
                self._open.discard(threading.get_ident())
                self._committed.notify_all()

    def _hide(self, journal: dict) -> dict:
        """Put back the records as they were before the call; returns them as the call left them."""
        store = self.store
        written = {key: store.tables[key[0]].get(key[1]) for key in journal}
        for (model, rec_id), before in journal.items():
            store.put(model, rec_id, before)
        return written

    def _show(self, written: dict) -> None:
        for (model, rec_id), rec in written.items():
            self.store.put(model, rec_id, rec)

    def set_webhook_commit_delay(self, seconds: float) -> None:
        """How long an Odoo 17/18 transaction stays open after sending its webhooks (other automation
        rules, a slow module): a receiver reading the record back meanwhile sees it unchanged."""
        if self.version >= 19:
            raise ValueError("Odoo 19 sends webhooks after the commit: there is no open transaction to delay")
        seconds = float(seconds)
        if not 0 <= seconds <= 30:
            raise ValueError("webhook_commit_delay must be between 0 and 30 seconds")
        self.webhook_commit_delay = seconds

    def call(self, model, method, args=None, kwargs=None, uid=None):
        """In-process call with RPC semantics; as superuser when uid is None."""
        return self.execute(uid, model, method, args, kwargs)

    def delete_ticket(self, ticket_id: int) -> None:
        self.call("helpdesk.ticket", "unlink", [[ticket_id]])

    def rewrite_tickets(self, count: int | None = None, values: dict | None = None) -> list[int]:
        """Write `count` tickets (all by default, lowest ids first) in ONE transaction, as a mass edit,
        an import or a recompute does: all of them get the same write_date, to the microsecond. With
        no `values` each ticket is written its own priority: Odoo writes, and stamps, unchanged values."""
        with self.transaction():
            env = self.env()
            ids = sorted(self.store.tables["helpdesk.ticket"])[:count]
            for tid in ids:
                own = {"priority": self.store.get("helpdesk.ticket", tid)["priority"]}
                orm.write(env, "helpdesk.ticket", [tid], own if values is None else dict(values))
            return ids

    def run_sla_cron(self) -> int:
        """OCA 16's periodic `check_sla` (a no-op for designs that compute on write)."""
        with self.transaction():
            run = getattr(self.sla, "run_cron", None)
            return run(self.env()) if run else 0

    def count_rpc(self) -> None:
        with self.lock:
            self.rpc_count += 1

    def status(self) -> dict:
        with self.lock:
            tickets = self.store.tables["helpdesk.ticket"].values()
            return {
                "flavour": self.flavour,
                "version": self.version,
                "server_version": self.server_version,
                "db": self.db_name,
                "clock": self.clock.db_now().strftime("%Y-%m-%d %H:%M:%S"),
                "clock_frozen": self.clock.frozen,
                "rpc_count": self.rpc_count,
                "deprecated_rpc": {
                    "enabled": self.deprecated_rpc,
                    "calls": sum(self.deprecated_calls.values()),
                    "by_endpoint": dict(self.deprecated_calls),
                },
                "databases": [self.db_name, *self.other_databases],
                "tickets": {"total": len(tickets), "active": sum(1 for t in tickets if t.get("active"))},
                # Never the keys themselves: whose they are and when they expire.
                "api_keys": [
                    {"uid": k.uid, "expires": k.expiration_date.strftime("%Y-%m-%d %H:%M:%S")
                     if k.expiration_date else None}
                    for k in self.api_keys.values()
                ],
                # Never the URLs: their path is the receiver's secret.
                "webhooks": {
                    "rules": len(self.store.tables.get(automation.RULE, ())),
                    "commit_delay": self.webhook_commit_delay,
                    **self.webhooks.describe(),
                },
            }
