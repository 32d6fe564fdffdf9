"""Fault switches, in-process and over the control endpoint, as the app's retry paths meet them."""

import json
import time
import urllib.error
import urllib.request

import odoorpc
import pytest

from .conftest import connect, kw


def control(server, payload):
    req = urllib.request.Request(
        f"{server.url}/__simulator__/control",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(req, timeout=5))


def status(server):
    return json.load(urllib.request.urlopen(f"{server.url}/__simulator__/status", timeout=5))


def test_http_502_is_an_html_bad_gateway_page(server, odoo):
    server.faults.set("http_502")
    with pytest.raises(urllib.error.HTTPError) as exc:
        odoo.env["helpdesk.ticket"].search([])
    assert exc.value.code == 502 and b"502 Bad Gateway" in exc.value.read()
    server.faults.clear()
    assert odoo.env["helpdesk.ticket"].search([])


def test_hang_outlasts_the_client_timeout(server):
    odoo = connect(server, timeout=0.5)
    server.faults.set("hang", hang_seconds=5)
    with pytest.raises((TimeoutError, urllib.error.URLError)) as raised:
        odoo.env["helpdesk.ticket"].search([])
    # A timeout, not the connection the simulator drops once the hang is over: the client gave up first,
    # however fast or slow the machine.
    assert isinstance(raised.value, TimeoutError) or isinstance(raised.value.reason, TimeoutError)
    server.faults.clear()  # wakes the hanging handler


def test_refuse_closes_the_port_and_reopens_it(server, odoo):
    server.faults.set("refuse")
    with pytest.raises(urllib.error.URLError) as exc:
        odoo.env["helpdesk.ticket"].search([])
    assert isinstance(exc.value.reason, ConnectionRefusedError)
    server.faults.clear()
    assert odoo.env["helpdesk.ticket"].search([])


def test_timed_refuse_relistens_by_itself(server, odoo):
    control(server, {"fault": "refuse", "seconds": 0.4})
    time.sleep(0.15)
    with pytest.raises(urllib.error.URLError):
        status(server)
    time.sleep(0.5)
    assert status(server)["fault"] is None
    assert odoo.env["helpdesk.ticket"].search([])


def test_fail_writes_keeps_reads_working(server, odoo):
    server.faults.set("fail_writes")
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    assert odoo.env["helpdesk.ticket"].read([tid], ["name"])
    for method, args, kwargs in [
        ("write", [[tid], {"priority": "1"}], {}),
        ("message_post", [[tid]], {"body": "x"}),
        ("create", [{"name": "x"}], {}),
    ]:
        with pytest.raises(odoorpc.error.RPCError) as exc:
            kw(odoo, "helpdesk.ticket", method, args, **kwargs)
        assert exc.value.info["data"]["name"] == "psycopg2.errors.SerializationFailure"
    server.faults.clear()
    assert kw(odoo, "helpdesk.ticket", "write", [[tid], {"priority": "1"}]) is True


def test_control_endpoint_answers_during_a_fault_and_expires_it(server, odoo):
    out = control(server, {"fault": "http_502", "seconds": 0.3})
    assert out["fault"]["mode"] == "http_502"
    assert status(server)["fault"]["mode"] == "http_502"  # the control routes keep answering
    with pytest.raises(urllib.error.HTTPError):
        odoo.env["helpdesk.ticket"].search([])
    time.sleep(0.4)
    assert status(server)["fault"] is None
    assert odoo.env["helpdesk.ticket"].search([])
    control(server, {"fault": "http_502"})
    assert control(server, {"fault": None})["fault"] is None


def test_status_reports_the_simulation(server):
    data = status(server)
    assert data["flavour"] == "enterprise" and data["version"] == 17
    assert data["tickets"]["total"] == 60 and data["clock"].startswith("2026-11-27")
    assert isinstance(data["rpc_count"], int)


def test_clock_and_keys_over_http(server, odoo):
    control(server, {"clock_set": "2026-12-01 08:00:00"})
    assert status(server)["clock"].startswith("2026-12-01 08:00")
    control(server, {"freeze": True, "clock_advance_seconds": 3600})
    assert status(server)["clock"] == "2026-12-01 09:00:00" and status(server)["clock_frozen"]
    control(server, {"revoke_api_key": "k-123"})
    with pytest.raises(odoorpc.error.RPCError, match="Access Denied"):
        odoo.env["helpdesk.ticket"].search([])


def test_unknown_fault_is_rejected(server):
    with pytest.raises(ValueError):
        server.faults.set("meteor")
    with pytest.raises(urllib.error.HTTPError) as exc:
        control(server, {"fault": "meteor"})
    assert exc.value.code == 400
