"""Web-client routes: `/web/session/authenticate` (passwords only) and `/web/dataset/call_kw` (cookie)."""

import html
import http.cookiejar
import json
import urllib.request

import pytest

from .conftest import API_KEY


def post(opener, url, params):
    req = urllib.request.Request(
        url,
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "params": params}).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.load(opener.open(req))


@pytest.fixture
def web(make_server):
    server = make_server(tickets=10, admin_password="admin-pw")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    return server, opener


def test_password_login_sets_a_cookie_that_call_kw_accepts(web):
    server, opener = web
    result = post(
        opener,
        f"{server.url}/web/session/authenticate",
        {"db": "helpdesk", "login": "admin", "password": "admin-pw"},
    )["result"]
    assert result["uid"] == 2 and result["user_context"]["tz"] == "Europe/Brussels"
    out = post(
        opener,
        f"{server.url}/web/dataset/call_kw/helpdesk.ticket/search_count",
        {"model": "helpdesk.ticket", "method": "search_count", "args": [[]], "kwargs": {}},
    )
    assert out["result"] == 10 - len(
        server.state.call("helpdesk.ticket", "search", [[("active", "=", False)]])
    )


def test_api_keys_are_refused_for_the_session_login(web):
    server, opener = web
    out = post(
        opener,
        f"{server.url}/web/session/authenticate",
        {"db": "helpdesk", "login": "console@example.com", "password": API_KEY},
    )
    assert out["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


def test_call_kw_without_a_session_is_session_expired(web):
    server, opener = web
    out = post(
        opener,
        f"{server.url}/web/dataset/call_kw",
        {"model": "helpdesk.ticket", "method": "search", "args": [[]], "kwargs": {}},
    )
    assert out["error"]["code"] == 100 and out["error"]["message"] == "Odoo Session Expired"
    assert out["error"]["data"]["name"] == "odoo.http.SessionExpiredException"


def test_admin_without_password_cannot_log_in(make_server):
    server = make_server(tickets=1)  # admin_password=None
    opener = urllib.request.build_opener()
    out = post(
        opener, f"{server.url}/web/session/authenticate", {"db": "helpdesk", "login": "admin", "password": ""}
    )
    assert out["error"]["data"]["message"] == "Access Denied"


def test_web_client_links_answer(server):
    import urllib.error

    title = server.state.call("helpdesk.ticket", "read", [[3], ["display_name"]])[0]["display_name"]
    for path in (
        "/odoo/helpdesk.ticket/3",
        "/odoo/action-helpdesk.helpdesk_ticket_action_main_tree/3",
        "/my/ticket/3",
        "/mail/view?model=helpdesk.ticket&res_id=3",
    ):
        body = urllib.request.urlopen(f"{server.url}{path}").read().decode()
        assert html.escape(title.split(" (#")[0]) in body
    assert urllib.request.urlopen(f"{server.url}/web#id=3&model=helpdesk.ticket&view_type=form").status == 200
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{server.url}/odoo/helpdesk.ticket/99999")
    assert exc.value.code == 404
