"""The one module that talks to Odoo, wrapped in typed calls, over the protocol the server offers.

Odoo 19 and later: JSON-2 (`json2.py`: `/json/2/<model>/<method>` with the API key as a bearer token),
since 19 deprecates XML-RPC and JSON-RPC and an installation may switch them off. Odoo 16 to 18:
odoorpc over JSON-RPC. `GET /web/version` (19+) tells them apart at login; an Odoo without it is older
and odoorpc asks its version the JSON-RPC way. `ODOO_PROTOCOL` (auto, jsonrpc, json2) overrides.

Every remote call goes through `OdooClient.call`, which gives it a timeout, retries transient failures
with a capped backoff, counts it, and turns whatever the transport raised into the app's few errors
(escalations.odoo.errors), the same for both protocols. Reads use `search_read`/`read` with an explicit
field list: odoorpc's `browse()` reads every field, which is slow and crashes on some Odoo versions.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
import urllib.error
from dataclasses import dataclass
from urllib.parse import urlsplit

import odoorpc
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import Counter

from escalations.backoff import capped_backoff

from . import json2, names
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
PROTOCOLS = ("auto", "jsonrpc", "json2")
JSON2_SINCE = 19  # the first Odoo with the JSON-2 API

# Counted here, where every request passes, in whichever process sends it (the worker, mostly); with
# PROMETHEUS_MULTIPROC_DIR set, the web process's /metrics adds up every process's counts.
RPC_CALLS = Counter("console_odoo_rpc_calls",
                    "Requests sent to Odoo, retries included (login: 3 over JSON-RPC, 1 over JSON-2; "
                    "version: the look for JSON-2)", ["method"])
RPC_ERRORS = Counter("console_odoo_rpc_errors", "Odoo requests that failed, by the app's error", ["kind"])

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
    protocol: str = "auto"  # PROTOCOLS: JSON-2 from Odoo 19 on (auto), or always the one named

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ImproperlyConfigured(f"ODOO_PROTOCOL must be one of {', '.join(PROTOCOLS)}, "
                                       f"not {self.protocol!r}")

    @classmethod
    def from_settings(cls) -> OdooConfig:
        return cls(
            url=settings.ODOO_URL,
            db=settings.ODOO_DB,
            user=settings.ODOO_USER,
            api_key=settings.ODOO_API_KEY,
            timeout=float(settings.ODOO_TIMEOUT),
            protocol=getattr(settings, "ODOO_PROTOCOL", "auto"),
        )

    def __repr__(self) -> str:  # never print the key
        return f"OdooConfig(url={self.url!r}, db={self.db!r}, user={self.user!r}, protocol={self.protocol!r})"


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
    if isinstance(reason, ssl.SSLCertVerificationError):
        return OdooUnavailable(f"Odoo's TLS certificate was refused ({reason.verify_message}): check "
                               "ODOO_URL, or make the certificate's authority trusted (SSL_CERT_FILE)")
    if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, http.client.HTTPException)):
        return OdooUnavailable("The connection to Odoo was cut before it answered")
    return OdooUnavailable("Odoo could not be reached over the network")


def _concurrent(name: str, message: str) -> OdooRejected:
    # Odoo's own retries of a PostgreSQL conflict ran out: another change to the same records was being
    # saved. PostgreSQL's wording is not for people; it goes to the log.
    logger.warning("Odoo reported a concurrent update (%s): %s", name, message)
    return OdooRejected("another change to the same ticket was being saved in Odoo at that moment; try again",
                        odoo_name=name)


def _json2_error(exc: json2.Json2Error) -> OdooError:
    """Odoo's JSON-2 error object: by the exception's name where Odoo's own, else by the HTTP status
    (401 key refused, 403 access, 404 missing, 409 lock, 422 refused values)."""
    name, message = exc.name, exc.message or f"HTTP {exc.status}"
    if _SERIALIZATION_FAILURE in message or name.endswith(_SERIALIZATION_NAMES) or exc.status == 409:
        return _concurrent(name, message)
    if name in _ERRORS_BY_NAME:
        return _ERRORS_BY_NAME[name](message, odoo_name=name)
    if exc.status == 401:
        return OdooAuthError(f"Odoo refused the API key ({message}): it is wrong, revoked or expired",
                             odoo_name=name)
    if exc.status == 403:
        return OdooAccessDenied(message, odoo_name=name)
    return OdooRejected(message, odoo_name=name)


def _translate(exc: Exception) -> OdooError:
    """Map whatever odoorpc, urllib or the JSON-2 transport raised to one of the app's errors."""
    if isinstance(exc, OdooError):
        return exc
    if isinstance(exc, json2.Json2Error):
        return _json2_error(exc)
    if isinstance(exc, json2.HttpError):
        # Not Odoo's own error object: a proxy's page, or no JSON-2 route here.
        if exc.status == 401:
            return OdooAuthError(f"Odoo answered HTTP 401 {exc.reason}: the API key was refused")
        if exc.status < 500 and exc.status != 429:
            return OdooRejected(f"Odoo answered HTTP {exc.status} {exc.reason}")
        return OdooUnavailable(f"Odoo answered HTTP {exc.status} {exc.reason}")
    if isinstance(exc, json2.NotJson):
        return OdooUnavailable("Odoo answered with something that is not JSON")
    if isinstance(exc, odoorpc.error.RPCError):
        info = exc.info if isinstance(exc.info, dict) else {}
        data = info.get("data") or {}
        name = data.get("name", "")
        message = data.get("message") or str(exc)
        if not info and "Wrong login" in str(exc):
            return OdooAuthError("Odoo refused the login or API key", odoo_name="")
        if info.get("code") == 100:
            return OdooAuthError(message, odoo_name=name)
        if info.get("code") == 404:
            # Odoo 19+ with its deprecated RPC services switched off, or no Odoo at all.
            return OdooRejected("Odoo does not answer JSON-RPC at this address: on Odoo 19 and later its "
                                "deprecated RPC services may be switched off; set ODOO_PROTOCOL to auto "
                                "(or json2) to use the JSON-2 API", odoo_name=name)
        if _SERIALIZATION_FAILURE in message or name.endswith(_SERIALIZATION_NAMES):
            return _concurrent(name, message)
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


class _CountedODOO(odoorpc.ODOO):
    """odoorpc, telling the client of each request it sends (all of them go through `json`)."""

    def __init__(self, *args, on_request, **kwargs):
        self._on_request = on_request
        self.label = ""  # while set, the label of every request (the login's)
        super().__init__(*args, **kwargs)

    def json(self, url, params):
        self._on_request(self.label or _method_of(params))
        return super().json(url, params)


def _method_of(params: dict) -> str:
    args = params.get("args") or []
    if params.get("service") == "object" and len(args) > 4:
        return str(args[4])  # execute / execute_kw: db, uid, password, model, method, ...
    return str(params.get("method") or "")


class OdooClient:
    """A logged-in connection to one Odoo database.

    Create it with `OdooClient.connect()`; it logs in at once: over JSON-RPC four requests (version,
    login, user context, and whether the user is internal), five when it first looked for JSON-2; over
    JSON-2 three (version, user context with the uid, the internal-user check). `rpc_calls` counts every
    request sent, retries included, from whichever thread sends it.
    """

    def __init__(self, config: OdooConfig, *, sleep=time.sleep):
        self.config = config
        self.rpc_calls = 0
        self.protocol = ""  # "jsonrpc" or "json2", once logged in
        self._sleep = sleep
        self._count_lock = threading.Lock()
        self._odoo: odoorpc.ODOO | None = None
        self._json2: json2.Transport | None = None
        self._server_version = ""
        self._uid = 0
        self._context: dict = {}

    @classmethod
    def connect(cls, config: OdooConfig | None = None, **kwargs) -> OdooClient:
        client = cls(config or OdooConfig.from_settings(), **kwargs)
        client.login()
        return client

    def count_request(self, method: str) -> None:
        """One request sent (called just before it goes out): the client's count and the process's
        metric together, under one lock, since two threads may call at once."""
        with self._count_lock:
            self.rpc_calls += 1
            RPC_CALLS.labels(method=method).inc()

    # -- connection -------------------------------------------------------------------------------

    def login(self) -> None:
        _silence_odoorpc_debug()
        if not self.config.api_key:
            raise OdooAuthError("No Odoo API key is configured (set ODOO_API_KEY)")
        self.close()
        self._with_retries(self._login, what="login")
        self._check_internal_user()

    def _login(self) -> None:
        self._odoo, self._json2 = None, None
        version = None
        if self.config.protocol != "jsonrpc":
            transport = json2.Transport(self.config.url, api_key=self.config.api_key, database=self.config.db,
                                        timeout=self.config.timeout, on_request=self.count_request)
            try:
                info = transport.version()
                if info is None and self.config.protocol == "json2":
                    raise OdooRejected("ODOO_PROTOCOL is json2, but this Odoo has no JSON-2 API (it came "
                                       "with Odoo 19): set ODOO_PROTOCOL to auto")
                if info is not None:
                    version = str(info["version"])
                    if self.config.protocol == "json2" or major_version(version) >= JSON2_SINCE:
                        return self._login_json2(transport, version)
            except BaseException:
                transport.close()
                raise
            transport.close()
        self._login_jsonrpc(version)

    def _login_json2(self, transport: json2.Transport, version: str) -> None:
        # No login over JSON-2: each request carries the key. The user's own context gives its uid.
        context = transport.call(names.USER, "context_get", ids=[], params={}, context={}, label="login")
        uid = context.get("uid") if isinstance(context, dict) else None
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise OdooRejected("Odoo's res.users context_get gave no uid over JSON-2")
        self._json2, self._server_version, self._uid = transport, version, uid
        self._context = dict(context)
        self.protocol = "json2"

    def _login_jsonrpc(self, version: str | None) -> None:
        parts = urlsplit(self.config.url)
        protocol = "jsonrpc+ssl" if parts.scheme == "https" else "jsonrpc"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if version is None:
            self.count_request("login")  # odoorpc asks /web/webclient/version_info, Odoo's common.version
        odoo = _CountedODOO(parts.hostname, protocol=protocol, port=port, timeout=self.config.timeout,
                            version=version, on_request=self.count_request)
        odoo.label = "login"  # common.login, then res.users.context_get
        try:
            odoo.login(self.config.db, self.config.user, self.config.api_key)
        finally:
            odoo.label = ""
        self._odoo, self._server_version = odoo, odoo.version
        self._uid, self._context = odoo.env.uid, dict(odoo.env.context)
        self.protocol = "jsonrpc"

    def close(self) -> None:
        """Close the JSON-2 connections kept alive (odoorpc keeps none)."""
        if self._json2 is not None:
            self._json2.close()

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
        return self._server_version

    @property
    def uid(self) -> int:
        return self._uid

    @property
    def context(self) -> dict:
        return dict(self._context)

    # -- calls --------------------------------------------------------------------------------------

    def call(self, model: str, method: str, args: list, kwargs: dict | None = None, *, retry: bool = True):
        """Call any public method of a model with the user's context (one request).

        `args` are positional, as for odoorpc: over JSON-2 they are named after Odoo's own parameters
        (`json2.PARAMETERS`), the ids first for record methods. `retry=False` for calls that are not safe
        to repeat (create, message_post): after a timeout we cannot know whether Odoo applied them, so
        the caller decides (the outbox checks first).
        """
        kw = dict(kwargs or {})
        context = {**self.context, **kw.pop("context", {})}
        if self._json2 is not None:
            ids, params = json2.named(method, args, kw)
            transport = self._json2

            def send():
                return transport.call(model, method, ids=ids, params=params, context=context)
        else:
            odoo = self._odoo

            def send():
                return odoo.execute_kw(model, method, args, {**kw, "context": context})

        return self._with_retries(send, what=f"{model}.{method}", retries=None if retry else 0)

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
        return _one_id(self.call(model, "create", [values], retry=False))

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
        return _one_id(self.call(model, "message_post", [[record_id]], kwargs, retry=False))

    # -- plumbing -----------------------------------------------------------------------------------

    def _with_retries(self, fn, *, what: str, retries: int | None = None):
        retries = self.config.retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                return fn()
            except Exception as exc:
                error = _translate(exc)
                RPC_ERRORS.labels(kind=type(error).__name__).inc()
                if not error.transient or attempt == retries:
                    raise error from exc
                delay = capped_backoff(attempt + 1, base=self.config.backoff, cap=MAX_BACKOFF)
                logger.warning("Odoo %s failed (%s); retrying in %.1fs", what, error.message, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")


def _one_id(result) -> int:
    """JSON-2 answers a record set (a created record, a posted message) as its ids; JSON-RPC as an id."""
    if isinstance(result, list):
        return result[0]
    return result
