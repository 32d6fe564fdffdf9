"""The simulator through Python's own `xmlrpc.client` (odoo.md §2.1): values and integer fault codes."""

import xmlrpc.client

import pytest

from .conftest import API_KEY, LOGIN


@pytest.fixture
def rpc(server):
    common = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common")
    models = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object")
    uid = common.login("helpdesk", LOGIN, API_KEY)

    def call(model, method, args, kwargs=None, password=API_KEY):
        return models.execute_kw("helpdesk", uid, password, model, method, args, kwargs or {})

    call.uid, call.common, call.models = uid, common, models
    return call


def test_common_version_login_and_authenticate(server, rpc):
    assert rpc.common.version()["server_version"] == "17.0+e"
    assert rpc.uid == server.state.integration_uid
    assert rpc.common.authenticate("helpdesk", LOGIN, API_KEY, {}) == rpc.uid
    assert rpc.common.login("helpdesk", LOGIN, "wrong") is False


def test_execute_kw_reads_and_writes(rpc):
    rows = rpc(
        "helpdesk.ticket",
        "search_read",
        [[("stage_id.fold", "=", False)]],
        {"fields": ["name", "user_id", "create_date"], "limit": 3},
    )
    assert len(rows) == 3 and isinstance(rows[0]["create_date"], str)
    assert rpc("helpdesk.ticket", "write", [[rows[0]["id"]], {"priority": "2"}]) is True
    # execute: positional only, no context
    assert rpc.models.execute("helpdesk", rpc.uid, API_KEY, "helpdesk.ticket", "search_count", [])


def test_fault_codes(server, rpc):
    def code(*args, **kw):
        with pytest.raises(xmlrpc.client.Fault) as exc:
            rpc(*args, **kw)
        return exc.value.faultCode, exc.value.faultString

    assert code("helpdesk.ticket", "_sla_apply", [[1]])[0] == 4  # AccessError
    assert code("helpdesk.ticket", "search", [[]], password="bad") == (3, "Access Denied")
    server.state.delete_ticket(1)
    fault = code("helpdesk.ticket", "write", [[1], {"priority": "1"}])
    assert fault[0] == 2 and "does not exist" in fault[1]  # MissingError is a UserError
    assert code("helpdesk.nothing", "search", [[]])[0] == 2  # UserError
    fault = code("helpdesk.ticket", "read", [[2], ["nope"]])
    assert fault[0] == 1 and "Traceback" in fault[1] and "Invalid field" in fault[1]


def test_none_cannot_be_marshalled(rpc):
    # action_archive returns None in Odoo; XML-RPC refuses to marshal it (allow_none=False): fault 1.
    tid = rpc("helpdesk.ticket", "search", [[]], {"limit": 1})[0]
    with pytest.raises(xmlrpc.client.Fault) as exc:
        rpc("helpdesk.ticket", "action_archive", [[tid]])
    assert exc.value.faultCode == 1 and "cannot marshal None" in exc.value.faultString


def test_db_service_and_legacy_string_faults(server):
    assert xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/db").list() == ["helpdesk"]
    legacy = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/object")
    with pytest.raises(xmlrpc.client.Fault) as exc:
        legacy.execute_kw("helpdesk", 2, "bad", "helpdesk.ticket", "search", [[]])
    assert exc.value.faultCode == "AccessDenied"
    uid = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/common").login("helpdesk", LOGIN, API_KEY)
    with pytest.raises(xmlrpc.client.Fault) as exc:
        legacy.execute_kw("helpdesk", uid, API_KEY, "helpdesk.ticket", "_x", [[]])
    assert exc.value.faultCode.startswith("warning -- AccessError\n\n")


def test_control_characters_are_stripped(server, rpc):
    # An email subject with a stray control character, as Odoo can hold; XML cannot carry it.
    tid = server.state.call("helpdesk.ticket", "create", [{"name": "Bell\x07 in subject"}])
    assert rpc("helpdesk.ticket", "read", [[tid], ["name"]])[0]["name"] == "Bell in subject"
