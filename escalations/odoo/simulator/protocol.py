"""Odoo's wire protocols on top of a SimulatorState: JSON-RPC routes, XML-RPC, sessions, Odoo 19's
JSON-2 API, error shapes.

Pure functions of (state, faults, request) -> Response, so tests can drive them without sockets and the
HTTP server stays a thin shell. Error envelopes follow odoo.md §1.6 (JSON), §2.1 (XML-RPC codes) and
§2.3 (JSON-2). On Odoo 19 the /xmlrpc, /xmlrpc/2 and /jsonrpc endpoints are deprecated: each call is
counted and logged, and they answer 404 once switched off (odoo.md §2.4).
"""

import json
import logging
import re
import traceback
import xmlrpc.client
from dataclasses import dataclass, field

from .errors import (
    AccessDenied,
    AccessError,
    BadRequest,
    HTTPException,
    MissingError,
    NotFound,
    SerializationFailure,
    SessionExpired,
    Unauthorized,
    UserError,
    message_of,
    qualified_name,
)
from .methods import json2_resolve

log = logging.getLogger("escalations.odoo.simulator")

JSON_TYPES = ("application/json", "application/json-rpc")
WRITE_METHODS = {"write", "create", "unlink", "message_post", "action_archive", "action_unarchive"}
COOKIE_AGE = 7 * 24 * 3600
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    content_type: str
    body: bytes
    cookies: dict
    # Lower-case names: authorization (a key: never logged), x-odoo-database, user-agent.
    headers: dict = field(default_factory=dict)


def handle(state, faults, req: Request) -> Response:
    path = req.path.rstrip("/") or "/"
    if state.version >= 19:
        if path in ("/web/version", "/json/version"):
            return Response(200, json.dumps(state.web_version()).encode())
        if path == "/json/2" or path.startswith("/json/2/"):
            return json2(state, faults, req, path)
    endpoint = _deprecated_endpoint(path)
    if endpoint and not _deprecated_answers(state, endpoint, req):
        return _switched_off(state, req, endpoint)
    if path.startswith("/xmlrpc/"):
        return _xmlrpc(state, faults, path, req.body)
    route = _json_route(path)
    if route is None:
        return not_found(state, req)
    if req.method != "POST":
        return Response(405, b"<h1>Method Not Allowed</h1>", "text/html; charset=utf-8")
    if req.content_type not in JSON_TYPES:
        return Response(
            400, b"<h1>Bad Request</h1><p>Expected a JSON-RPC request.</p>", "text/html; charset=utf-8"
        )
    try:
        payload = json.loads(req.body or b"{}")
        params = payload.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError("params must be an object")
    except (ValueError, AttributeError):
        return Response(400, b"Invalid JSON data", "text/plain; charset=utf-8")
    return route(state, faults, params, payload.get("id"), req)


def _deprecated_endpoint(path) -> str:
    if path == "/jsonrpc":
        return path
    if path.startswith("/xmlrpc/"):
        return "/xmlrpc/2" if path.startswith("/xmlrpc/2/") else "/xmlrpc"
    return ""


def _deprecated_answers(state, endpoint, req) -> bool:
    """Count the call (Odoo 19+) and log it as Odoo does: whether the endpoint still answers."""
    answers = state.deprecated_call(endpoint)
    if state.version >= 19:
        log.warning(
            "%s called by %r: the /xmlrpc, /xmlrpc/2 and /jsonrpc endpoints are deprecated since Odoo 19 "
            "and will be removed in Odoo 22; use the JSON-2 API (/json/2)%s",
            endpoint, req.headers.get("user-agent", ""), "" if answers else " (switched off: 404)",
        )
    return answers


def _switched_off(state, req, endpoint) -> Response:
    if endpoint == "/jsonrpc":
        # A JSON-RPC route raising NotFound: Odoo's JSON-RPC error envelope, coded 404 (odoo.md §2.4).
        try:
            req_id = json.loads(req.body or b"{}").get("id")
        except (ValueError, AttributeError):
            req_id = None
        return json_error(req_id, NotFound("The deprecated RPC services are disabled on this database."),
                          code=404, message="404: Not Found", status=200)
    return Response(
        404, b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>", "text/html; charset=utf-8"
    )


def _json_route(path):
    if path.startswith("/web/dataset/call_kw"):
        return _call_kw
    return {
        "/jsonrpc": _jsonrpc,
        "/web/webclient/version_info": _version_info,
        "/web/session/authenticate": _session_authenticate,
        "/web/session/get_session_info": _session_info_route,
        "/web/session/destroy": _session_destroy,
    }.get(path)


# -- JSON envelopes --------------------------------------------------------------------------------


def json_result(req_id, result, headers=None) -> Response:
    body = json.dumps({"jsonrpc": "2.0", "id": req_id, "result": result}, default=str)
    return Response(200, body.encode(), headers=headers or {})


def json_error(req_id, exc, *, code=200, message="Odoo Server Error", status=200) -> Response:
    error = {"code": code, "message": message, "data": serialize_exception(exc)}
    body = json.dumps({"jsonrpc": "2.0", "id": req_id, "error": error}, default=str)
    return Response(status, body.encode())


def serialize_exception(exc) -> dict:
    # Odoo hides AccessDenied's frames (it resets the traceback); everything else shows where it failed.
    frames = "" if isinstance(exc, AccessDenied) else "".join(traceback.format_tb(exc.__traceback__))
    debug = f"Traceback (most recent call last):\n{frames}{qualified_name(exc)}: {message_of(exc)}\n"
    args = [a if isinstance(a, (str, int, float, bool)) else str(a) for a in exc.args]
    return {
        "name": qualified_name(exc),
        "debug": debug,
        "message": message_of(exc),
        "arguments": args,
        "context": {},
    }


def not_found(state, req: Request) -> Response:
    if req.content_type in JSON_TYPES:
        try:
            req_id = json.loads(req.body or b"{}").get("id")
        except (ValueError, AttributeError):
            req_id = None
        exc = _NotFound(
            "404 Not Found: The requested URL was not found on the server. If you entered the URL "
            "manually please check your spelling and try again."
        )
        # Odoo 16 answered unknown JSON routes with HTTP 404 (odoorpc then raises HTTPError); 17+ say 200.
        return json_error(
            req_id, exc, code=404, message="404: Not Found", status=404 if state.version <= 16 else 200
        )
    return Response(
        404, b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>", "text/html; charset=utf-8"
    )


class _NotFound(Exception):
    odoo_module, odoo_name = "werkzeug.exceptions", "NotFound"


# -- JSON-2 (Odoo 19) --------------------------------------------------------------------------------

_JSON2_CALL = re.compile(r"^/json/2/([^/]+)/([^/]+)$")
_BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)
# What a call returns as a record set, which JSON-2 answers as its ids (JSON-RPC as an id).
_RETURNS_RECORDS = {"create", "message_post"}


def json2(state, faults, req: Request, path: str) -> Response:
    """`POST /json/2/<model>/<method>` (addons/rpc/controllers/json2.py): a bearer API key, never a
    password; named arguments plus `ids` and `context`; each call its own transaction; the bare result,
    or an error object with the exception's HTTP status. The same dispatch, record rules and faults as
    the deprecated endpoints."""
    context: dict = {}
    try:
        match = _JSON2_CALL.match(path)
        if match is None or req.method != "POST":
            raise NotFound("Did you mean POST /json/2/<model>/<method>?")
        model, method = match.groups()
        log.debug("JSON-2 %s.%s from %r", model, method, req.headers.get("user-agent", ""))
        uid = _bearer_uid(state, req)
        _json2_database(state, req)
        params = _json2_params(req)
        ids = params.pop("ids", None) or []
        context = params.pop("context", None) or {}
        if not isinstance(context, dict):
            raise BadRequest("context must be an object")
        with state.lock:
            on_records = json2_resolve(state.env(uid, context), model, method, ids, params)
        _maybe_fail_write(faults, method)
        args = [ids] if on_records else []
        result = state.execute(uid, model, method, args, {**params, "context": context})
        if faults is not None:
            faults.applied(method)
    except Exception as exc:  # noqa: BLE001 - every server error becomes an error object, as in Odoo
        return json2_error(exc, context)
    if method in _RETURNS_RECORDS and isinstance(result, int) and not isinstance(result, bool):
        result = [result]
    return Response(200, json.dumps(result, default=str).encode())


def _bearer_uid(state, req) -> int:
    match = _BEARER.match(req.headers.get("authorization", "").strip())
    if match is None:
        raise Unauthorized('User not authenticated, use the "Authorization" header')
    uid = state.bearer_uid(match.group(1).strip())
    if uid is None:  # a password, a wrong, revoked or expired key: all the same to the caller
        raise Unauthorized("Invalid apikey")
    return uid


def _json2_database(state, req) -> None:
    named = req.headers.get("x-odoo-database", "").strip()
    if named and named != state.db_name:
        raise NotFound(f"The database {named!r} is not served here.")
    if not named and state.other_databases:
        # Several databases and no dbfilter: Odoo cannot tell which one is meant, so no route matches.
        raise NotFound("Several databases are served here: name one in the X-Odoo-Database header.")


def _json2_params(req) -> dict:
    if not req.body:
        return {}
    if req.content_type != "application/json":
        raise BadRequest("State-changing json2 requests must use the 'application/json' Content-Type.")
    try:
        params = json.loads(req.body)
    except ValueError as exc:
        raise BadRequest(f"could not parse the body as json: {exc}") from exc
    if not isinstance(params, dict):
        raise BadRequest("the body must be a JSON object of named arguments")
    return params


def json2_status(exc) -> int:
    """`exception.http_status` in Odoo 19: AccessError (before UserError, its parent) and AccessDenied
    403, MissingError 404, other UserErrors 422; werkzeug's own code; anything else 500."""
    if isinstance(exc, HTTPException):
        return exc.code
    if isinstance(exc, (AccessError, AccessDenied)):
        return 403
    if isinstance(exc, MissingError):
        return 404
    if isinstance(exc, UserError):
        return 422
    return 500


def json2_error(exc, context) -> Response:
    body = serialize_exception(exc)
    if isinstance(exc, HTTPException):
        body.update(message=exc.description, arguments=[exc.description, exc.code])
    body["context"] = context if isinstance(context, dict) else {}
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else {}
    return Response(json2_status(exc), json.dumps(body, default=str).encode(), headers=headers)


# -- /jsonrpc and XML-RPC services -----------------------------------------------------------------


def _jsonrpc(state, faults, params, req_id, req) -> Response:
    try:
        result = dispatch_rpc(
            state, faults, params.get("service"), params.get("method"), params.get("args") or []
        )
    except Exception as exc:  # noqa: BLE001 - every server error becomes an error envelope, as in Odoo
        return json_error(req_id, exc)
    return json_result(req_id, result)


def _version_info(state, faults, params, req_id, req) -> Response:
    return json_result(req_id, state.version_info())


def dispatch_rpc(state, faults, service, method, args):
    args = list(args)
    if service == "common":
        return _common(state, method, args)
    if service == "db":
        return _db(state, method, args)
    if service == "object":
        return _object(state, faults, method, args)
    raise KeyError(service)


def _common(state, method, args):
    if method == "version":
        return state.version_info()
    if method in ("login", "authenticate"):
        db, login, password = args[0], args[1], args[2]
        return state.authenticate(db, login, password) or False
    if method == "about":
        return "See http://openerp.com"
    raise Exception(f"Method not found: {method}")  # noqa: TRY002 - Odoo raises a bare Exception


def _db(state, method, args):
    if method == "list":
        return [state.db_name, *state.other_databases]
    if method == "db_exist":
        return args[0] == state.db_name
    if method == "server_version":
        return state.server_version
    if method == "list_lang":
        return [["en_US", "English (US)"]]
    if method in (
        "create_database",
        "duplicate_database",
        "drop",
        "dump",
        "restore",
        "rename",
        "change_admin_password",
        "migrate_databases",
    ):
        raise AccessDenied()  # the master password is never right here
    raise KeyError(f"Method not found: {method}")


def _object(state, faults, method, args):
    if method not in ("execute", "execute_kw"):
        raise NameError(f"Method not available {method}")
    db, uid, password, model, model_method = args[:5]
    state.check_credentials(db, uid, password)
    if method == "execute":
        call_args, kwargs = args[5:], {}
    else:
        call_args = args[5] if len(args) > 5 else []
        kwargs = args[6] if len(args) > 6 and args[6] else {}
    _maybe_fail_write(faults, model_method)
    result = state.execute(uid, model, model_method, call_args, kwargs)
    if faults is not None:
        faults.applied(model_method)  # a lose_answer fault drops the answer to a call Odoo ran
    return result


def _maybe_fail_write(faults, method) -> None:
    if faults is not None and faults.active() == "fail_writes" and method in WRITE_METHODS:
        raise SerializationFailure("could not serialize access due to concurrent update")


# -- session routes (web client style) ------------------------------------------------------------


def _session_authenticate(state, faults, params, req_id, req) -> Response:
    try:
        # Interactive login: passwords only. API keys are refused here, as in Odoo.
        uid = state.authenticate(
            params.get("db"), params.get("login"), params.get("password"), allow_api_key=False
        )
        if not uid:
            raise AccessDenied()
    except Exception as exc:  # noqa: BLE001
        return json_error(req_id, exc)
    sid = state.new_session(uid)
    cookie = f"session_id={sid}; Max-Age={COOKIE_AGE}; HttpOnly; Path=/; SameSite=Lax"
    return json_result(req_id, session_info(state, uid), headers={"Set-Cookie": cookie})


def session_info(state, uid) -> dict:
    with state.lock:
        user = state.store.get("res.users", uid)
        context = state.call("res.users", "context_get", uid=uid)
    return {
        "uid": uid,
        "is_system": uid in (1, 2),
        "is_admin": uid in (1, 2),
        "db": state.db_name,
        "name": user["name"],
        "username": user["login"],
        "partner_id": user["partner_id"],
        "user_context": {**context, "uid": uid},
        "server_version": state.server_version,
        "server_version_info": state.version_info()["server_version_info"],
        "company_id": user.get("company_id") or False,
    }


def _session_uid(state, req):
    uid = state.session_uid(req.cookies.get("session_id"))
    if uid is None:
        raise SessionExpired("Session expired")
    return uid


def _session_info_route(state, faults, params, req_id, req) -> Response:
    try:
        return json_result(req_id, session_info(state, _session_uid(state, req)))
    except SessionExpired as exc:
        return json_error(req_id, exc, code=100, message="Odoo Session Expired")


def _session_destroy(state, faults, params, req_id, req) -> Response:
    with state.lock:
        state.sessions.pop(req.cookies.get("session_id"), None)
    return json_result(req_id, None)


def _call_kw(state, faults, params, req_id, req) -> Response:
    try:
        uid = _session_uid(state, req)
    except SessionExpired as exc:
        return json_error(req_id, exc, code=100, message="Odoo Session Expired")
    try:
        _maybe_fail_write(faults, params.get("method"))
        result = state.execute(
            uid,
            params.get("model"),
            params.get("method"),
            params.get("args") or [],
            params.get("kwargs") or {},
        )
        if faults is not None:
            faults.applied(params.get("method"))
    except Exception as exc:  # noqa: BLE001
        return json_error(req_id, exc)
    return json_result(req_id, result)


# -- XML-RPC ---------------------------------------------------------------------------------------


def _xmlrpc(state, faults, path, body) -> Response:
    parts = path.strip("/").split("/")
    legacy = len(parts) == 2  # /xmlrpc/<service> (string fault codes) vs /xmlrpc/2/<service>
    service = parts[-1]
    try:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        result = dispatch_rpc(state, faults, service, method, params)
        out = xmlrpc.client.dumps((clean_xml(result),), methodresponse=True, allow_none=False)
    except Exception as exc:  # noqa: BLE001
        fault = _fault_string(exc) if legacy else _fault_int(exc)
        out = xmlrpc.client.dumps(fault, methodresponse=True, allow_none=False)
    return Response(200, out.encode("utf-8"), "text/xml; charset=utf-8")


def _fault_int(exc) -> xmlrpc.client.Fault:
    # Order matters: AccessError is a UserError subclass in 16+, and must still get code 4.
    if isinstance(exc, AccessError):
        return xmlrpc.client.Fault(4, message_of(exc))
    if isinstance(exc, AccessDenied):
        return xmlrpc.client.Fault(3, message_of(exc))
    if isinstance(exc, UserError):
        return xmlrpc.client.Fault(2, message_of(exc))
    return xmlrpc.client.Fault(1, serialize_exception(exc)["debug"])


def _fault_string(exc) -> xmlrpc.client.Fault:
    if isinstance(exc, MissingError):
        return xmlrpc.client.Fault("warning -- MissingError\n\n" + message_of(exc), "")
    if isinstance(exc, AccessError):
        return xmlrpc.client.Fault("warning -- AccessError\n\n" + message_of(exc), "")
    if isinstance(exc, AccessDenied):
        return xmlrpc.client.Fault("AccessDenied", message_of(exc))
    if isinstance(exc, UserError):
        return xmlrpc.client.Fault("warning -- UserError\n\n" + message_of(exc), "")
    return xmlrpc.client.Fault(message_of(exc), serialize_exception(exc)["debug"])


def clean_xml(value):
    """Strings without XML-invalid control characters, recursively (Odoo's marshaller strips them)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [clean_xml(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_xml(v) for v in value)
    if isinstance(value, dict):
        return {str(k): clean_xml(v) for k, v in value.items()}
    return value
