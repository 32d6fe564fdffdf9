"""The HTTP shell: a threaded server that hands requests to `protocol.handle`, plus fault injection and
the `/__simulator__/` control and status endpoints used by tests and drills from another process.

Logs go to the `escalations.odoo.simulator` logger at DEBUG: method, path and status only, never a
body (bodies carry passwords and API keys).

Connections are kept alive for JSON-2 callers only (`/json/2/...`, `/web/version`), as a client of Odoo
19 keeps them; every other answer closes its connection, as before. When the server stops listening
(`stop`, the `refuse` fault) it also closes the kept connections that are idle, so a client sees the
refusal on its next call rather than an answer through an old connection.
"""

import json
import logging
import socket
import ssl
import threading
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .faults import Faults
from .pages import page
from .protocol import Request, Response, handle

log = logging.getLogger("escalations.odoo.simulator")

BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def server_tls(certfile: str, keyfile: str | None = None) -> ssl.SSLContext:
    """A server-side TLS context with this PEM certificate and key, for SimulatorServer(tls=...)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    return context


class SimulatorServer:
    def __init__(self, state, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
        """`tls`: serve HTTPS with this server-side context (its certificate loaded), as Odoo behind
        its proxy does in production."""
        self.state, self.host, self.port, self.tls = state, host, port, tls
        self.faults = Faults()
        self.faults.listeners.append(self._on_fault_change)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._listen_lock = threading.Lock()
        self._stopped = threading.Event()
        self._connections: dict = {}  # open connection -> whether a request is being served on it
        self._connections_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> "SimulatorServer":
        self._stopped.clear()
        self._listen()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.faults.calm.set()  # wake hanging handlers so threads end
        self._unlisten()

    def serve_forever(self) -> None:
        """Block until stop() (or Ctrl-C in the caller)."""
        while not self._stopped.wait(0.5):
            pass

    # -- listening socket ----------------------------------------------------------------------

    def _listen(self) -> None:
        with self._listen_lock:
            if self._httpd is not None:
                return
            httpd = _HTTPServer((self.host, self.port), _handler_for(self))
            self.port = httpd.server_address[1]  # keep the port: "refuse" reopens the same one
            if self.tls is not None:
                httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True)
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"odoo-simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()

    @property
    def listening(self) -> bool:
        return self._httpd is not None

    def _unlisten(self) -> None:
        with self._listen_lock:
            httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        with self._connections_lock:
            idle = [conn for conn, busy in self._connections.items() if not busy]
        for conn in idle:  # their handlers wake up from reading the next request, and end
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _track(self, conn, *, busy: bool | None) -> None:
        """Note a connection as busy or idle; None: it is closed."""
        with self._connections_lock:
            if busy is None:
                self._connections.pop(conn, None)
            else:
                self._connections[conn] = busy

    def _on_fault_change(self, previous, current) -> None:
        if current == "refuse":
            if threading.current_thread().name.startswith("odoo-simulator-request"):
                # Asked over HTTP: answer first, then stop listening.
                threading.Timer(0.05, self._unlisten).start()
            else:
                self._unlisten()
        elif previous == "refuse" and not self._stopped.is_set():
            self._listen()

    # -- control endpoint ----------------------------------------------------------------------

    def control(self, payload: dict) -> dict:
        state = self.state
        if "fault" in payload:
            self.faults.set(payload["fault"], payload.get("seconds"), payload.get("hang_seconds"),
                            methods=payload.get("methods"), times=payload.get("times"))
        if "clock_set" in payload:
            state.clock.set(datetime.fromisoformat(str(payload["clock_set"]).replace(" ", "T")))
        if "clock_advance_seconds" in payload:
            state.clock.advance(timedelta(seconds=float(payload["clock_advance_seconds"])))
        if "freeze" in payload:
            state.clock.freeze() if payload["freeze"] else state.clock.unfreeze()
        if "revoke_api_key" in payload:
            state.revoke_api_key(payload["revoke_api_key"])
        if "api_key_expiry" in payload:  # {"key": K, "at": "2026-12-01 10:00:00" or null}
            expiry = payload["api_key_expiry"]
            if not isinstance(expiry, dict):
                raise ValueError('api_key_expiry must be {"key": ..., "at": "YYYY-MM-DD HH:MM:SS" or null}')
            at = expiry.get("at")
            state.set_api_key_expiry(
                expiry["key"], datetime.fromisoformat(str(at).replace(" ", "T")) if at else None
            )
        if "expire_api_key" in payload:
            state.expire_api_key(payload["expire_api_key"])
        if payload.get("run_sla_cron"):
            state.run_sla_cron()
        # Record rules: {"hide_team": id} hides that team's tickets from the integration user,
        # {"invite_to_team": id} lets it see them again (SimulatorState.hide_team / invite_to_team).
        if "hide_team" in payload:
            state.hide_team(int(payload["hide_team"]))
        if "invite_to_team" in payload:
            state.invite_to_team(int(payload["invite_to_team"]))
        if "deprecated_rpc" in payload:  # Odoo 19+: false answers 404 on /xmlrpc, /xmlrpc/2, /jsonrpc
            state.set_deprecated_rpc(_flag(payload["deprecated_rpc"], "deprecated_rpc"))
        if "other_databases" in payload:  # names of other (empty) databases served beside ours
            names = payload["other_databases"]
            if not isinstance(names, list):
                raise ValueError("other_databases must be a list of database names")
            state.set_other_databases(names)
        # Odoo 17/18: how many seconds a transaction stays open after sending its webhooks
        if "webhook_commit_delay" in payload:
            state.set_webhook_commit_delay(payload["webhook_commit_delay"])
        if "rewrite_tickets" in payload:
            spec = payload["rewrite_tickets"] or {}
            state.rewrite_tickets(spec.get("count"), spec.get("values"))
        return self.status()

    def status(self) -> dict:
        return {**self.state.status(), "fault": self.faults.describe()}


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


# The request headers the protocol reads (JSON-2's key and database, and who calls).
_PASSED_HEADERS = ("authorization", "x-odoo-database", "user-agent")
# JSON-2 callers (Odoo 19) keep their connection open between calls.
_KEEP_ALIVE = ("/json/2/", "/web/version", "/json/version")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def _handler_for(sim: SimulatorServer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "Werkzeug/3.0.1"
        sys_version = "Python/3"
        # HTTP/1.1, so that a JSON-2 caller may keep its connection; each other answer closes its own.
        protocol_version = "HTTP/1.1"
        timeout = 60  # an idle kept connection is closed after this long, as a real server does

        def setup(self):
            super().setup()
            sim._track(self.connection, busy=False)

        def finish(self):
            sim._track(self.connection, busy=None)
            super().finish()

        def do_POST(self):
            self._serve("POST")

        def do_GET(self):
            self._serve("GET")

        def _serve(self, method):
            sim._track(self.connection, busy=True)
            try:
                self._serve_request(method)
            finally:
                if not sim.listening:
                    self.close_connection = True
                sim._track(self.connection, busy=False)

        def _serve_request(self, method):
            threading.current_thread().name = "odoo-simulator-request"
            path = urlsplit(self.path).path
            if not path.startswith(_KEEP_ALIVE):
                self.close_connection = True
            body = self._body()
            if path.startswith("/__simulator__/"):
                return self._control(method, path, body)
            fault = sim.faults.active()
            if fault == "hang":
                sim.faults.calm.wait(sim.faults.hang_seconds)
                self.close_connection = True
                return  # no response at all: the client sees a timeout or a dropped connection
            sim.state.count_rpc()
            if fault == "http_502":
                return self._send(Response(502, BAD_GATEWAY, "text/html"))
            if method == "GET":
                found = page(sim.state, path, urlsplit(self.path).query)
                if found is not None:
                    return self._send(found)
            cookies = {k: m.value for k, m in SimpleCookie(self.headers.get("Cookie", "")).items()}
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            headers = {name: self.headers.get(name, "") for name in _PASSED_HEADERS}
            response = handle(sim.state, sim.faults, Request(method, path, ctype, body, cookies, headers))
            lost = sim.faults.take_lost_answer()
            if lost is not None:  # lose_answer: Odoo ran the call; its answer never leaves the server
                sim._stopped.wait(lost)
                self.close_connection = True
                return
            self._send(response)

        def _control(self, method, path, body):
            try:
                if path == "/__simulator__/status":
                    result = sim.status()
                elif path == "/__simulator__/control" and method == "POST":
                    result = sim.control(json.loads(body or b"{}"))
                else:
                    return self._send(Response(404, b'{"error": "unknown control route"}'))
            except (ValueError, TypeError, KeyError) as exc:
                return self._send(Response(400, json.dumps({"error": str(exc)}).encode()))
            self._send(Response(200, json.dumps(result).encode()))

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, resp: Response):
            self.send_response(resp.status)
            self.send_header(
                "Content-Type",
                resp.content_type
                if "charset" in resp.content_type
                or not resp.content_type.startswith(("application/json", "text/html"))
                else f"{resp.content_type}; charset=utf-8",
            )
            self.send_header("Content-Length", str(len(resp.body)))
            for name, value in resp.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(resp.body)

        def log_message(self, fmt, *args):
            log.debug("%s %s", self.address_string(), fmt % args)

    return Handler
