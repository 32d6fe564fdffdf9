"""API keys (res.users.apikeys): Odoo 18 gave them an expiration date; an expired key is a wrong key."""

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import odoorpc
import pytest

from escalations.odoo.simulator.persist import load, save

from .conftest import API_KEY, LOGIN, connect


def control(server, payload):
    req = urllib.request.Request(
        f"{server.url}/__simulator__/control",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(req, timeout=5))


def login_result(odoo, key):
    return odoo.json("/jsonrpc", {"service": "common", "method": "login", "args": ["helpdesk", LOGIN, key]})[
        "result"
    ]


def search_with(odoo, key):
    """`object.execute_kw` as odoorpc sends it, with the given key in place of the password."""
    args = ["helpdesk", odoo.env.uid, key, "helpdesk.ticket", "search", [[]], {}]
    return odoo.json("/jsonrpc", {"service": "object", "method": "execute_kw", "args": args})["result"]


def test_an_expired_key_is_refused_exactly_like_a_wrong_one(make_server):
    server = make_server(version=18, tickets=5)
    odoo = connect(server)
    with pytest.raises(odoorpc.error.RPCError) as wrong:
        search_with(odoo, "not-the-key")
    assert search_with(odoo, API_KEY)
    server.state.expire_api_key(API_KEY)
    with pytest.raises(odoorpc.error.RPCError) as expired:
        search_with(odoo, API_KEY)
    assert expired.value.info == wrong.value.info  # same AccessDenied envelope, nothing to tell them apart
    assert expired.value.info["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert login_result(odoo, API_KEY) is False  # common.login answers false, as for a wrong key
    with pytest.raises(odoorpc.error.RPCError, match="Wrong login ID or password"):
        connect(server)


def test_a_key_expires_when_the_simulator_clock_passes_its_date(make_server):
    server = make_server(version=18, tickets=5)
    state = server.state
    now = state.clock.db_now()
    state.set_api_key_expiry(API_KEY, now + timedelta(days=90))
    odoo = connect(server)
    state.clock.advance(timedelta(days=89, hours=23))
    assert odoo.env["helpdesk.ticket"].search([])  # still valid on its last day
    state.clock.advance(timedelta(hours=2))
    with pytest.raises(odoorpc.error.RPCError, match="Access Denied"):
        odoo.env["helpdesk.ticket"].search([])
    new_key = state.add_api_key(state.integration_uid, expires_at=state.clock.db_now() + timedelta(days=90))
    assert connect(server, api_key=new_key).env["helpdesk.ticket"].search([])


def test_keys_expire_over_the_control_endpoint_and_the_status_shows_when(make_server):
    server = make_server(version=18, tickets=5)
    odoo = connect(server)
    status = control(server, {"api_key_expiry": {"key": API_KEY, "at": "2027-02-25 09:00:00"}})
    assert status["api_keys"] == [{"uid": server.state.integration_uid, "expires": "2027-02-25 09:00:00"}]
    assert API_KEY not in json.dumps(status)
    assert odoo.env["helpdesk.ticket"].search([])
    control(server, {"expire_api_key": API_KEY})
    with pytest.raises(odoorpc.error.RPCError, match="Access Denied"):
        odoo.env["helpdesk.ticket"].search([])
    control(server, {"api_key_expiry": {"key": API_KEY, "at": None}})  # persistent again
    assert odoo.env["helpdesk.ticket"].search([])
    for bad in ({"api_key_expiry": "tomorrow"}, {"api_key_expiry": {"key": "nope", "at": None}},
                {"api_key_expiry": {"key": API_KEY, "at": "soon"}}):
        with pytest.raises(urllib.error.HTTPError) as error:
            control(server, bad)
        assert error.value.code == 400


@pytest.mark.parametrize("version", [16, 17])
def test_keys_have_no_expiry_before_18(make_server, version):
    server = make_server(version=version, tickets=1)
    with pytest.raises(ValueError, match="no expiration date before Odoo 18"):
        server.state.expire_api_key(API_KEY)
    with pytest.raises(urllib.error.HTTPError) as error:
        control(server, {"expire_api_key": API_KEY})
    assert error.value.code == 400 and "before Odoo 18" in json.load(error.value)["error"]
    assert connect(server).env["helpdesk.ticket"].search([])


def test_expiry_dates_survive_a_restart(make_server, tmp_path):
    state = make_server(version=18, tickets=3).state
    state.set_api_key_expiry(API_KEY, datetime(2027, 1, 1, 12, 0))
    path = str(tmp_path / "state.json")
    save(state, path)
    loaded = load(path)
    assert loaded.api_keys[API_KEY].expiration_date == datetime(2027, 1, 1, 12, 0)
    assert loaded.authenticate("helpdesk", LOGIN, API_KEY) == state.integration_uid
    loaded.clock.set(datetime(2027, 1, 2))
    assert loaded.authenticate("helpdesk", LOGIN, API_KEY) is None
