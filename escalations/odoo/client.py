"""The one module that talks to Odoo: odoorpc over JSON-RPC, wrapped in typed calls.

Every remote call goes through `OdooClient.call`, which gives it a timeout, retries transient
failures with a capped backoff, counts it, and turns odoorpc's and urllib's exceptions into the app's
few errors (escalations.odoo.errors). Reads use `search_read`/`read` with an explicit field list:
odoorpc's `browse()` reads every field, which is slow and crashes on some Odoo versions.
"""

from __future__ import annotations

import http.client
import logging
import socket
import time
import urllib.error
from dataclasses import dataclass
from urllib.parse import urlsplit

import odoorpc
from django.conf import settings

from escalations.backoff import capped_backoff

from . import names
from .errors import (
    OdooAccessDenied,
    OdooAuthError,
    OdooError,
    OdooRecordGone,
    OdooRejected,
    OdooUnavailable,
    OdooUserNotInternal,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF = 8.0  # seconds between two tries of one call

# Odoo exception names mapped to the app's errors; anything else is a rejection of the call.
_ERRORS_BY_NAME = {
    "odoo.exceptions.AccessDenied": OdooAuthError,
    "odoo.exceptions.AccessError": OdooAccessDenied,
    "odoo.exceptions.MissingError": OdooRecordGone,
    "odoo.exceptions.ValidationError": OdooRejected,
    "odoo.exceptions.UserError": OdooRejected,
}


def _silence_odoorpc_debug() -> None:
    # odoorpc 0.10.1 logs each JSON-RPC body at DEBUG with the password/API key in clear text
    # (it masks only a top-level "password", and /jsonrpc sends it in args). Whatever the logging
    # configuration says, keep its loggers above DEBUG.
    for name in ("odoorpc", "odoorpc.rpc", "odoorpc.rpc.jsonrpclib"):
        log = logging.getLogger(name)
        if log.getEffectiveLevel() < logging.INFO:
            log.setLevel(logging.INFO)


@dataclass(frozen=True)
class OdooConfig:
    url: str
    db: str
    user: str
    api_key: str
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5  # seconds before the first retry; doubles each time, up to MAX_BACKOFF

    @classmethod
    def from_settings(cls) -> OdooConfig:
        return cls(
            url=settings.ODOO_URL,
            db=settings.ODOO_DB,
            user=settings.ODOO_USER,
            api_key=settings.ODOO_API_KEY,
            timeout=float(settings.ODOO_TIMEOUT),
        )

    def __repr__(self) -> str:  # never print the key
        return f"OdooConfig(url={self.url!r}, db={self.db!r}, user={self.user!r})"


def major_version(server_version: str) -> int:
    """17 for "17.0", "17.0+e" and "saas~17.2"; 0 when unknown."""
    head = server_version.split("~")[-1].split(".")[0]
    return int(head) if head.isdigit() else 0


_SERIALIZATION_FAILURE = "could not serialize access"
_SERIALIZATION_NAMES = ("SerializationFailure", "TransactionRollbackError")


def _unreachable(reason) -> OdooUnavailable:
    """Plain words for a network failure; the system's own text ("[Errno 111] ...") goes to the log."""
    logger.warning("Odoo unreachable: %r", reason)
    if isinstance(reason, ConnectionRefusedError):
        return OdooUnavailable("Odoo refused the connection: it may be stopped or restarting "
                               "(check ODOO_URL)")
    if isinstance(reason, socket.gaierror):
        return OdooUnavailable("Odoo's address could not be found (check ODOO_URL)")
    if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, http.client.HTTPException)):
        return OdooUnavailable("The connection to Odoo was cut before it answered")
    return OdooUnavailable("Odoo could not be reached over the network")


def _translate(exc: Exception) -> OdooError:
    """Map whatever odoorpc/urllib raised to one of the app's errors."""
    if isinstance(exc, OdooError):
        return exc
    if isinstance(exc, odoorpc.error.RPCError):
        info = exc.info if isinstance(exc.info, dict) else {}
        data = info.get("data") or {}
        name = data.get("name", "")
        message = data.get("message") or str(exc)
        if not info and "Wrong login" in str(exc):
            return OdooAuthError("Odoo refused the login or API key", odoo_name="")
        if info.get("code") == 100:
            return OdooAuthError(message, odoo_name=name)
        if _SERIALIZATION_FAILURE in message or name.endswith(_SERIALIZATION_NAMES):
            # Odoo's own retries of a PostgreSQL conflict ran out: another change to the same records
            # was being saved. PostgreSQL's wording is not for people; it goes to the log.
            logger.warning("Odoo reported a concurrent update (%s): %s", name, message)
            return OdooRejected("another change to the same ticket was being saved in Odoo at that moment; "
                                "try again", odoo_name=name)
        return _ERRORS_BY_NAME.get(name, OdooRejected)(message, odoo_name=name)
    if isinstance(exc, urllib.error.HTTPError):
        return OdooUnavailable(f"Odoo answered HTTP {exc.code} {exc.reason}")
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return OdooUnavailable("Odoo did not answer in time")
        return _unreachable(reason)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return OdooUnavailable("Odoo did not answer in time")
    if isinstance(exc, (ConnectionError, http.client.HTTPException, OSError)):
        return _unreachable(exc)
    if isinstance(exc, ValueError):
        # odoorpc parses the body with json.load: a non-JSON answer (a proxy's page) lands here.
        return OdooUnavailable("Odoo answered with something that is not JSON-RPC")
    raise exc


class OdooClient:
    """A logged-in connection to one Odoo database.

    Create it with `OdooClient.connect()`; it logs in at once (four requests: version, login, user
    context, and whether the user is internal). `rpc_calls` counts every request sent, retries included.
    """

    def __init__(self, config: OdooConfig, *, sleep=time.sleep):
        self.config = config
        self.rpc_calls = 0
        self._sleep = sleep
        self._odoo: odoorpc.ODOO | None = None

    @classmethod
    def connect(cls, config: OdooConfig | None = None, **kwargs) -> OdooClient:
        client = cls(config or OdooConfig.from_settings(), **kwargs)
        client.login()
        return client

    # -- connection -------------------------------------------------------------------------------

    def login(self) -> None:
        _silence_odoorpc_debug()
        if not self.config.api_key:
            raise OdooAuthError("No Odoo API key is configured (set ODOO_API_KEY)")
        parts = urlsplit(self.config.url)
        protocol = "jsonrpc+ssl" if parts.scheme == "https" else "jsonrpc"
        port = parts.port or (443 if parts.scheme == "https" else 80)

        def do_login():
            self.rpc_calls += 1  # version_info
            odoo = odoorpc.ODOO(parts.hostname, protocol=protocol, port=port, timeout=self.config.timeout)
            self.rpc_calls += 2  # common.login, then res.users.context_get
            odoo.login(self.config.db, self.config.user, self.config.api_key)
            return odoo

        self._odoo = self._with_retries(do_login, what="login")
        self._check_internal_user()

    def _check_internal_user(self) -> None:
        """One read of the user's `share` flag: a portal user would see its notes escaped (Odoo 17+
        honours `body_is_html` only for internal users) and most tickets hidden by record rules."""
        rows = self.read(names.USER, [self.uid], ["share"])
        if rows and rows[0].get("share"):
            raise OdooUserNotInternal(
                f"Odoo's user {self.config.user} (ODOO_USER) is a portal user, not an internal user: Odoo "
                "would show the console's notes as escaped HTML and hide tickets from it. In Odoo, set "
                "that user's type to Internal User (Settings > Users), or use another user."
            )

    @property
    def server_version(self) -> str:
        return self._odoo.version if self._odoo else ""

    @property
    def uid(self) -> int:
        return self._odoo.env.uid

    @property
    def context(self) -> dict:
        return dict(self._odoo.env.context)

    # -- calls --------------------------------------------------------------------------------------

    def call(self, model: str, method: str, args: list, kwargs: dict | None = None, *, retry: bool = True):
        """Call any public method of a model with the user's context (one request).

        `retry=False` for calls that are not safe to repeat (create, message_post): after a timeout we
        cannot know whether Odoo applied them, so the caller decides (the outbox checks first).
        """
        kw = dict(kwargs or {})
        kw["context"] = {**self.context, **kw.get("context", {})}

        def do_call():
            self.rpc_calls += 1
            return self._odoo.execute_kw(model, method, args, kw)

        return self._with_retries(do_call, what=f"{model}.{method}", retries=None if retry else 0)

    def fields_get(self, model: str, attributes=("type", "relation", "store", "string")) -> dict:
        return self.call(model, "fields_get", [], {"attributes": list(attributes)})

    def search_read(
        self,
        model: str,
        domain: list,
        fields: list[str],
        *,
        order: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        active_test: bool = True,
    ) -> list[dict]:
        kwargs = {"fields": fields, "offset": offset}
        if order:
            kwargs["order"] = order
        if limit:
            kwargs["limit"] = limit
        if not active_test:
            kwargs["context"] = {"active_test": False}
        return self.call(model, "search_read", [domain], kwargs)

    def search(self, model: str, domain: list, *, active_test: bool = True) -> list[int]:
        kwargs = {} if active_test else {"context": {"active_test": False}}
        return self.call(model, "search", [domain], kwargs)

    def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict]:
        """Read records by id. Deleted ids are silently missing from the result, as Odoo does."""
        if not ids:
            return []
        return self.call(model, "read", [list(ids), fields], {"context": {"active_test": False}})

    def write(self, model: str, ids: list[int], values: dict) -> bool:
        return self.call(model, "write", [list(ids), values])

    def create(self, model: str, values: dict) -> int:
        return self.call(model, "create", [values], retry=False)

    def message_post(self, model: str, record_id: int, *, body: str, internal: bool = True) -> int:
        """Post a message in the record's chatter; an internal note unless `internal` is False."""
        kwargs = {
            "body": body,
            "message_type": "comment",
            "subtype_xmlid": "mail.mt_note" if internal else "mail.mt_comment",
        }
        # Odoo 17+ escapes a plain str body; the flag says the HTML is ours and meant.
        if major_version(self.server_version) >= 17:
            kwargs["body_is_html"] = True
        return self.call(model, "message_post", [[record_id]], kwargs, retry=False)

    # -- plumbing -----------------------------------------------------------------------------------

    def _with_retries(self, fn, *, what: str, retries: int | None = None):
        retries = self.config.retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                return fn()
            except Exception as exc:
                error = _translate(exc)
                if not error.transient or attempt == retries:
                    raise error from exc
                delay = capped_backoff(attempt + 1, base=self.config.backoff, cap=MAX_BACKOFF)
                logger.warning("Odoo %s failed (%s); retrying in %.1fs", what, error.message, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")
