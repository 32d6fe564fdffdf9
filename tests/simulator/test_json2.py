"""Odoo 19 in the simulator: the JSON-2 API (odoo.md §2.3, external_api.rst) and the deprecated RPC
endpoints, counted, logged, and switched off on request (§2.4)."""

import base64
import json
import logging
import urllib.error
import urllib.request
import xmlrpc.client

import odoorpc
import pytest

from escalations.odoo.simulator import rules

from .conftest import API_KEY, LOGIN, connect


def request(server, path, body=None, *, key=API_KEY, headers=None, method="POST"):
    """(status, decoded JSON body, response headers) of one JSON-2 style request."""
    sent = {} if method == "GET" else {"Content-Type": "application/json"}
    if key is not None:
        sent["Authorization"] = f"bearer {key}"
    sent.update(headers or {})
    data = None if body is None and method == "GET" else json.dumps(body or {}).encode()
    req = urllib.request.Request(f"{server.url}{path}", data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp), resp.headers
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw), err.headers
        except ValueError:
            return err.code, raw.decode(), err.headers


def call(server, model, method, body=None, **kw):
    return request(server, f"/json/2/{model}/{method}", body, **kw)


def control(server, payload):
    req = urllib.request.Request(f"{server.url}/__simulator__/control", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=5))


@pytest.fixture
def odoo19(make_server):
    return make_server(version=19, tickets=20)


@pytest.mark.parametrize("flavour,version", [("enterprise", "19.0+e"), ("oca", "19.0")])
def test_web_version_replaces_common_version(make_server, flavour, version):
    server = make_server(flavour=flavour, version=19, tickets=5)
    status, body, _ = request(server, "/web/version", method="GET", key=None)
    last = "e" if flavour == "enterprise" else ""
    assert (status, body) == (200, {"version_info": [19, 0, 0, "final", 0, last], "version": version})
    assert request(server, "/json/version", method="GET", key=None)[1] == body
    # Before 19 there is no such route, nor any JSON-2.
    older = make_server(flavour=flavour, version=18, tickets=1)
    assert request(older, "/web/version", method="GET", key=None)[0] == 404
    status, body, _ = call(older, "res.users", "context_get")
    assert body["error"]["code"] == 404  # the JSON-RPC "not found" of an unknown route (HTTP 200 in 17+)


def test_named_arguments_ids_and_context_give_the_bare_result(odoo19):
    status, context, _ = call(odoo19, "res.users", "context_get")
    assert status == 200 and context["uid"] == odoo19.state.integration_uid  # your own uid, without a login
    status, rows = call(odoo19, "helpdesk.ticket", "search_read",
                        {"domain": [["priority", "=", "3"]], "fields": ["priority"], "limit": 2})[:2]
    assert status == 200 and len(rows) == 2 and {r["priority"] for r in rows} == {"3"}
    tid = rows[0]["id"]
    assert call(odoo19, "helpdesk.ticket", "read", {"ids": [tid], "fields": ["name"]})[1][0]["id"] == tid
    written = call(odoo19, "helpdesk.ticket", "write", {"ids": [tid], "vals": {"priority": "1"}})
    assert written[:2] == (200, True)
    # A record set comes back as its ids: create and message_post answer a list, not an id.
    status, created = call(odoo19, "helpdesk.tag", "create", {"vals_list": {"name": "From JSON-2"}})[:2]
    assert status == 200 and isinstance(created, list) and len(created) == 1
    status, posted = call(odoo19, "helpdesk.ticket", "message_post",
                          {"ids": [tid], "body": "<b>hi</b>", "body_is_html": True})[:2]
    assert status == 200 and isinstance(posted, list)
    assert odoo19.state.call("mail.message", "read", [posted, ["body"]])[0]["body"] == "<b>hi</b>"
    # The context applies: archived tickets only with active_test off.
    odoo19.state.call("helpdesk.ticket", "write", [[tid], {"active": False}])
    assert tid not in call(odoo19, "helpdesk.ticket", "search", {"domain": []})[1]
    everything = {"domain": [], "context": {"active_test": False}}
    assert tid in call(odoo19, "helpdesk.ticket", "search", everything)[1]


def test_passwords_are_refused_only_api_keys_work(odoo19):
    password = "a-real-password"
    odoo19.state.passwords[odoo19.state.integration_uid] = password
    assert odoo19.state.authenticate("helpdesk", LOGIN, password)  # the password itself is right
    for headers, message in [
        ({"Authorization": f"bearer {password}"}, "Invalid apikey"),
        ({"Authorization": "Basic " + base64.b64encode(f"{LOGIN}:{password}".encode()).decode()},
         'User not authenticated, use the "Authorization" header'),
        ({}, 'User not authenticated, use the "Authorization" header'),
    ]:
        status, body, resp_headers = call(odoo19, "res.users", "context_get", key=None, headers=headers)
        assert status == 401 and resp_headers["WWW-Authenticate"] == "Bearer"
        assert body["name"] == "werkzeug.exceptions.Unauthorized" and body["message"] == message
        assert body["arguments"] == [message, 401]
        assert set(body) == {"name", "message", "arguments", "context", "debug"}


def test_an_expired_or_revoked_key_is_refused_like_a_wrong_one(odoo19):
    odoo19.state.expire_api_key(API_KEY)
    assert call(odoo19, "res.users", "context_get")[1]["message"] == "Invalid apikey"
    odoo19.state.set_api_key_expiry(API_KEY, None)
    assert call(odoo19, "res.users", "context_get")[0] == 200
    odoo19.state.revoke_api_key(API_KEY)
    assert call(odoo19, "res.users", "context_get")[0] == 401


def test_errors_carry_the_status_of_their_exception(odoo19):
    state = odoo19.state
    tid = state.call("helpdesk.ticket", "search", [[]])[0]

    def error(model, method, body=None, **kw):
        status, data, _ = call(odoo19, model, method, body, **kw)
        return status, data["name"], data["message"]

    assert error("helpdesk.nothing", "search", {"domain": []}) == (
        404, "werkzeug.exceptions.NotFound", "the model 'helpdesk.nothing' does not exist")
    assert error("helpdesk.ticket", "no_such_method") == (
        404, "werkzeug.exceptions.NotFound", "The method 'helpdesk.ticket.no_such_method' does not exist")
    assert error("helpdesk.ticket", "_sla_apply", {"ids": [tid]})[:2] == (403, "odoo.exceptions.AccessError")
    assert error("helpdesk.ticket", "search", {"ids": [tid], "domain": []}) == (
        422, "werkzeug.exceptions.UnprocessableEntity", "cannot call helpdesk.ticket.search with ids")
    # Named arguments only, and only those the method takes.
    assert error("helpdesk.ticket", "search_count", {"domian": []})[:2] == (
        422, "werkzeug.exceptions.UnprocessableEntity")
    assert error("helpdesk.ticket", "create", {"vals_list": {"name": False}})[:2] == (
        422, "odoo.exceptions.ValidationError")
    assert error("helpdesk.ticket", "read", {"ids": [tid], "fields": ["nope"]})[:2] == (
        500, "builtins.ValueError")
    state.forbid(LOGIN, "helpdesk.stage")
    assert error("helpdesk.stage", "search", {"domain": []})[:2] == (403, "odoo.exceptions.AccessError")
    state.delete_ticket(tid)
    assert error("helpdesk.ticket", "write", {"ids": [tid], "vals": {"priority": "3"}})[:2] == (
        404, "odoo.exceptions.MissingError")
    # Anything but POST /json/2/<model>/<method> is not found.
    assert request(odoo19, "/json/2/helpdesk.ticket/search", method="GET")[0] == 404
    as_text = {"Content-Type": "text/plain"}
    assert call(odoo19, "helpdesk.ticket", "search", {"domain": []}, headers=as_text)[0] == 400


def test_record_rules_and_faults_apply_to_json2_too(odoo19):
    state = odoo19.state
    state.set_helpdesk_group(rules.EE_USER)
    team = state.call("helpdesk.team", "search", [[]])[0]
    hidden = set(state.call("helpdesk.ticket", "search", [[("team_id", "=", team)]]))
    state.hide_team(team)
    assert not hidden & set(call(odoo19, "helpdesk.ticket", "search", {"domain": []})[1])
    status, body, _ = call(odoo19, "helpdesk.ticket", "read", {"ids": [min(hidden)], "fields": ["name"]})
    assert (status, body["name"]) == (403, "odoo.exceptions.AccessError")

    odoo19.faults.set("fail_writes")
    tid = call(odoo19, "helpdesk.ticket", "search", {"domain": [], "limit": 1})[1][0]
    status, body, _ = call(odoo19, "helpdesk.ticket", "write", {"ids": [tid], "vals": {"priority": "3"}})
    assert (status, body["name"]) == (500, "psycopg2.errors.SerializationFailure")
    odoo19.faults.set("http_502")
    status, body, _ = call(odoo19, "helpdesk.ticket", "search", {"domain": []})
    assert status == 502 and "Bad Gateway" in body
    # Odoo runs the write, and its answer is lost on the way.
    odoo19.faults.set("lose_answer", methods=["write"], times=1)
    with pytest.raises(ConnectionError):
        call(odoo19, "helpdesk.ticket", "write", {"ids": [tid], "vals": {"name": "Written, answer lost"}})
    assert state.call("helpdesk.ticket", "read", [[tid], ["name"]])[0]["name"] == "Written, answer lost"
    odoo19.faults.clear()


def test_x_odoo_database_is_needed_when_the_server_has_several(odoo19):
    assert call(odoo19, "res.users", "context_get", headers={"X-Odoo-Database": "helpdesk"})[0] == 200
    assert call(odoo19, "res.users", "context_get", headers={"X-Odoo-Database": "other"})[0] == 404
    control(odoo19, {"other_databases": ["staging"]})
    status, body, _ = call(odoo19, "res.users", "context_get")
    assert status == 404 and "X-Odoo-Database" in body["message"]
    assert call(odoo19, "res.users", "context_get", headers={"X-Odoo-Database": "helpdesk"})[0] == 200
    assert xmlrpc.client.ServerProxy(f"{odoo19.url}/xmlrpc/2/db").list() == ["helpdesk", "staging"]


def test_the_deprecated_endpoints_answer_on_19_but_are_counted_and_logged(odoo19, caplog):
    caplog.set_level(logging.WARNING, logger="escalations.odoo.simulator")
    odoo = connect(odoo19)  # /web/webclient/version_info (not deprecated), then two /jsonrpc calls
    assert odoo.env["helpdesk.ticket"].search([], limit=1)  # two more: fields_get, then the search
    xmlrpc.client.ServerProxy(f"{odoo19.url}/xmlrpc/2/common").version()
    xmlrpc.client.ServerProxy(f"{odoo19.url}/xmlrpc/common").version()
    call(odoo19, "res.users", "context_get")  # JSON-2: not deprecated, not counted

    deprecated = odoo19.status()["deprecated_rpc"]
    assert deprecated == {"enabled": True, "calls": 6,
                          "by_endpoint": {"/jsonrpc": 4, "/xmlrpc/2": 1, "/xmlrpc": 1}}
    warnings = [r.getMessage() for r in caplog.records if "deprecated since Odoo 19" in r.getMessage()]
    assert len(warnings) == 6 and all(API_KEY not in w for w in warnings)


def test_the_deprecated_endpoints_can_be_switched_off(odoo19):
    odoo = connect(odoo19)
    assert control(odoo19, {"deprecated_rpc": False})["deprecated_rpc"]["enabled"] is False
    with pytest.raises(odoorpc.error.RPCError) as off:
        odoo.env["helpdesk.ticket"].search([])
    assert off.value.info["code"] == 404 and off.value.info["message"] == "404: Not Found"
    with pytest.raises(xmlrpc.client.ProtocolError) as xml_off:
        xmlrpc.client.ServerProxy(f"{odoo19.url}/xmlrpc/2/common").version()
    assert xml_off.value.errcode == 404
    assert call(odoo19, "helpdesk.ticket", "search", {"domain": []})[0] == 200  # JSON-2 is unaffected
    assert odoo19.status()["deprecated_rpc"]["calls"] == 4  # refused calls count too: someone still calls
    control(odoo19, {"deprecated_rpc": True})
    assert odoo.env["helpdesk.ticket"].search([])


def test_the_switch_is_a_seed_option_and_exists_from_19_only(make_server):
    server = make_server(version=19, tickets=2, deprecated_rpc=False)
    with pytest.raises(odoorpc.error.RPCError) as off:
        connect(server)
    assert off.value.info["code"] == 404
    older = make_server(version=18, tickets=1)
    with pytest.raises(urllib.error.HTTPError) as refused:
        control(older, {"deprecated_rpc": False})
    assert refused.value.code == 400
    connect(older).env["helpdesk.ticket"].search([])
    assert older.status()["deprecated_rpc"]["calls"] == 0  # nothing is deprecated before 19


def test_a_json2_caller_keeps_its_connection_and_a_refusal_closes_it(odoo19):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", odoo19.port, timeout=5)
    headers = {"Authorization": f"bearer {API_KEY}", "Content-Type": "application/json"}
    for _ in range(3):
        conn.request("POST", "/json/2/res.users/context_get", body=b"{}", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Connection") is None
        resp.read()
    sock = conn.sock
    assert sock is not None  # one connection served the three calls
    odoo19.faults.set("refuse")  # stops listening, and closes the idle kept connections
    assert sock.recv(1) == b""
    odoo19.faults.clear()


def test_the_switch_and_the_other_databases_survive_a_restart(make_server, tmp_path):
    from escalations.odoo.simulator.persist import load, save

    state = make_server(version=19, tickets=2, deprecated_rpc=False, other_databases=["staging"]).state
    path = str(tmp_path / "state.json")
    save(state, path)
    loaded = load(path)
    assert (loaded.version, loaded.deprecated_rpc, loaded.other_databases) == (19, False, ["staging"])
