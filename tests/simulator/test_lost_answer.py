"""The lost-answer fault: Odoo runs `write` or `message_post` and commits, but the client never gets the
answer (the connection drops, or hangs past the client's timeout). Set in-process and over the control
endpoint."""

import http.client
import json
import socket
import urllib.error
import urllib.request

import pytest

from .conftest import connect, kw
from .test_faults import control, status

LOST = (http.client.HTTPException, ConnectionError, urllib.error.URLError, socket.timeout, TimeoutError)
TICKET = "helpdesk.ticket"


def a_ticket(odoo) -> int:
    return kw(odoo, TICKET, "search", [[]], order="id", limit=1)[0]


def priority(server, tid) -> str:
    return server.state.call(TICKET, "read", [[tid], ["priority"]])[0]["priority"]


def other_priority(server, tid) -> str:
    return "3" if priority(server, tid) != "3" else "0"


def messages(server, tid, marker) -> int:
    domain = [("res_id", "=", tid), ("body", "ilike", marker)]
    return server.state.call("mail.message", "search_count", [domain])


def test_a_write_is_applied_but_its_answer_never_arrives(server, odoo):
    tid = a_ticket(odoo)
    wanted = other_priority(server, tid)
    server.faults.set("lose_answer", methods=["write"], times=1)
    assert kw(odoo, TICKET, "read", [[tid], ["priority"]])  # reads are answered
    with pytest.raises(LOST):
        kw(odoo, TICKET, "write", [[tid], {"priority": wanted}])
    assert priority(server, tid) == wanted  # applied all the same
    assert server.faults.active() is None  # that was the one answer to lose
    assert kw(odoo, TICKET, "write", [[tid], {"priority": "1"}]) is True


def test_a_note_is_posted_but_its_answer_never_arrives(server, odoo):
    tid = a_ticket(odoo)
    server.faults.set("lose_answer", methods=["message_post"])
    kw(odoo, TICKET, "write", [[tid], {"priority": "2"}])  # not a method the fault names: answered
    for _ in range(2):  # until cleared, every answer to message_post is lost
        with pytest.raises(LOST):
            kw(odoo, TICKET, "message_post", [[tid]], body="lost answer probe", subtype_xmlid="mail.mt_note")
    assert messages(server, tid, "lost answer probe") == 2
    server.faults.clear()
    assert isinstance(kw(odoo, TICKET, "message_post", [[tid]], body="answered"), int)


def test_the_answer_can_hang_past_the_clients_timeout_instead(server):
    odoo = connect(server, timeout=0.5)
    tid = a_ticket(odoo)
    wanted = other_priority(server, tid)
    server.faults.set("lose_answer", hang_seconds=2, methods=["write"], times=1)
    with pytest.raises(LOST):
        kw(odoo, TICKET, "write", [[tid], {"priority": wanted}])
    assert priority(server, tid) == wanted


def test_over_the_control_endpoint(server, odoo):
    tid = a_ticket(odoo)
    wanted = other_priority(server, tid)
    answer = control(server, {"fault": "lose_answer", "methods": ["write"], "times": 2})
    assert answer["fault"] == {"mode": "lose_answer", "seconds_left": None, "methods": ["write"],
                               "times_left": 2}
    with pytest.raises(LOST):
        kw(odoo, TICKET, "write", [[tid], {"priority": wanted}])
    assert status(server)["fault"]["times_left"] == 1 and priority(server, tid) == wanted
    control(server, {"fault": None})
    assert status(server)["fault"] is None


@pytest.mark.parametrize("payload", [
    {"fault": "lose_answer", "times": 0},
    {"fault": "lose_answer", "times": "twice"},
    {"fault": "lose_answer", "methods": [3]},
])
def test_bad_control_input_is_a_400(server, payload):
    req = urllib.request.Request(f"{server.url}/__simulator__/control", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=5)
    assert exc.value.code == 400
    assert status(server)["fault"] is None
