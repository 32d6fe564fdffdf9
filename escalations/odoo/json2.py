"""JSON-2, Odoo 19's external API: a thin transport on the standard library's `http.client`.

`POST /json/2/<model>/<method>` with `Authorization: bearer <API key>` (Odoo takes no password there),
`X-Odoo-Database`, and a body of named arguments plus `ids` and `context`; the answer is the bare JSON
result (HTTP 200) or Odoo's error object `{name, message, arguments, context, debug}` with a 4xx/5xx
status. `GET /web/version` tells which Odoo answers (404 before 19).

Each thread keeps one connection alive between calls (the sync's page reader calls from two threads at
once); a connection the server closed while it sat idle is noticed before it is used again, and never
a request re-sent after it went out: whether Odoo ran it is for the caller to find out.
`on_request` is called once per request sent, with a short label, for the client's counts. Nothing
here logs a header or a body: they carry the API key.
"""

from __future__ import annotations

import http.client
import json
import platform
import select
import ssl
import threading
import weakref
from urllib.parse import quote, urlsplit

USER_AGENT = f"helpdesk-escalation-console/0.1 (Odoo JSON-2) Python/{platform.python_version()}"

# The console's calls as Odoo 19 names their arguments (odoo/models.py), in positional order, after
# the ids for the methods that work on records. JSON-2 takes named arguments only.
PARAMETERS = {
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("fields", "load"),
    "write": ("vals",),
    "create": ("vals_list",),
    "fields_get": ("allfields", "attributes"),
    "exists": (),
    "unlink": (),
    "message_post": (),
    "context_get": (),
}
RECORD_METHODS = {"read", "write", "exists", "unlink", "message_post"}


class Json2Error(Exception):
    """Odoo's JSON-2 error object, with the HTTP status it came with."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.name = str(body.get("name") or "")
        self.message = str(body.get("message") or "")
        super().__init__(f"HTTP {status} {self.name}: {self.message}")


class HttpError(Exception):
    """An HTTP error that is not Odoo's JSON-2 error object (a proxy's page, a missing route)."""

    def __init__(self, status: int, reason: str):
        self.status, self.reason = status, reason
        super().__init__(f"HTTP {status} {reason}")


class NotJson(ValueError):
    """A 200 answer whose body is not JSON (a proxy's or a login page)."""


def named(method: str, args: list, kwargs: dict) -> tuple[list, dict]:
    """The ids and named arguments of a call written with positional arguments (odoorpc's form)."""
    args = list(args or [])
    ids = []
    if method not in PARAMETERS and len(args) == 1 and _is_ids(args[0]):
        # Another method given nothing but a list of ids: a record method, as execute_kw reads it.
        return list(args[0]), dict(kwargs)
    if method in RECORD_METHODS:
        if not args:
            raise TypeError(f"{method} works on records: give their ids first")
        ids, args = args[0], args[1:]
        ids = list(ids) if isinstance(ids, (list, tuple)) else [ids]
    names = PARAMETERS.get(method)
    if args and (names is None or len(args) > len(names)):
        raise TypeError(f"JSON-2 takes named arguments only: give {method}'s arguments by name")
    params = dict(zip(names or (), args, strict=False))
    clash = params.keys() & kwargs.keys()
    if clash:
        raise TypeError(f"{method} got {sorted(clash)[0]!r} twice")
    return ids, {**params, **kwargs}


def _is_ids(value) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value)


class Transport:
    def __init__(self, url: str, *, api_key: str, database: str, timeout: float, on_request=None,
                 user_agent: str = USER_AGENT):
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._timeout = timeout
        self._on_request = on_request
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if database:
            # Needed where one server hosts several databases; harmless where it hosts one.
            self._headers["X-Odoo-Database"] = database
        self._auth = {"Authorization": f"bearer {api_key}"}
        self._local = threading.local()
        self._lock = threading.Lock()
        # Every thread's connection, so that `close` (or this transport's end) closes them all.
        self._connections: set[http.client.HTTPConnection] = set()
        weakref.finalize(self, _close_all, self._connections, self._lock)

    def version(self) -> dict | None:
        """`GET /web/version`: `{"version": "19.0+e", "version_info": [19, 0, ...]}`, or None when this
        Odoo has no such route (before 19) or answers it with something else than JSON."""
        status, reason, body = self._request("GET", "/web/version", None, {}, label="version")
        if status == 404:
            return None
        if status != 200:
            raise HttpError(status, reason)
        try:
            info = json.loads(body)
        except ValueError:
            return None
        return info if isinstance(info, dict) and info.get("version") else None

    def call(self, model: str, method: str, *, ids: list, params: dict, context: dict, label: str = ""):
        """One call; its result, or Json2Error / HttpError / NotJson, or the network's OSError."""
        payload = {**params, "context": context}
        if ids:
            payload["ids"] = ids
        path = f"/json/2/{quote(model, safe='.')}/{quote(method)}"
        headers = {**self._auth, "Content-Type": "application/json; charset=utf-8"}
        status, reason, body = self._request("POST", path, json.dumps(payload).encode(), headers,
                                             label=label or method)
        if status == 200:
            try:
                return json.loads(body)
            except ValueError:
                raise NotJson("Odoo answered with something that is not JSON") from None
        try:
            error = json.loads(body)
        except ValueError:
            error = None
        if isinstance(error, dict) and ("name" in error or "message" in error):
            raise Json2Error(status, error)
        raise HttpError(status, reason)

    def close(self) -> None:
        _close_all(self._connections, self._lock)

    # -- plumbing -----------------------------------------------------------------------------------

    def _request(self, verb: str, path: str, body: bytes | None, headers: dict, *, label: str):
        conn = self._connection()
        if self._on_request is not None:
            self._on_request(label)
        try:
            conn.request(verb, path, body=body, headers={**self._headers, **headers})
            response = conn.getresponse()
            data = response.read()
        except BaseException:
            conn.close()  # half a request or half an answer: this connection is done
            raise
        return response.status, response.reason, data

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn not in self._connections:
            conn = None  # closed by `close`
        if conn is not None and conn.sock is not None and _closed_by_server(conn.sock):
            conn.close()  # the server closed it while idle; `request` opens a new one
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.add(conn)
        return conn


def _close_all(connections: set, lock: threading.Lock) -> None:
    with lock:
        closing = list(connections)
        connections.clear()
    for conn in closing:
        conn.close()


def _closed_by_server(sock) -> bool:
    """An idle kept connection has nothing to read; readable means the server closed it (or sent
    something unasked), either way it must not carry the next request."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
