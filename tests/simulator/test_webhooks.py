"""Automation rules with webhook actions in the simulator (odoo.md §4.6, §8.9): made through the API by
an administrator only, and sent as Odoo sends them: 17 and 18 before the commit, 19 after it."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import odoorpc
import pytest

from escalations.odoo.simulator import persist

from .conftest import API_KEY
from .test_json2 import call

ADMIN_KEY = "admin-key-42"


class Receiver:
    """An HTTP server that records what it is sent; `on_post(body)` runs before it answers."""

    def __init__(self, on_post=None, status=200):
        self.posts: list[dict] = []
        self.on_post, self.status = on_post, status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                post = {"path": self.path, "headers": dict(self.headers), "raw": body,
                        "body": json.loads(body), "at": time.monotonic()}
                if receiver.on_post:
                    post["seen"] = receiver.on_post(post["body"])
                receiver.posts.append(post)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/hooks/odoo/secret/"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(**kw):
        made.append(Receiver(**kw))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


def ticket_model(state):
    return state.call("ir.model", "search", [[("model", "=", "helpdesk.ticket")]])[0]


def add_rule(state, url, *, trigger="on_create_or_write", filter_domain=False, fields=(), uid=None):
    model_id = ticket_model(state)
    field_ids = state.call("ir.model.fields", "search", [[("model", "=", "helpdesk.ticket"),
                                                            ("name", "in", list(fields))]]) if fields else []
    action = {"state": "webhook", "model_id": model_id, "webhook_url": url,
              "webhook_field_ids": [(6, 0, field_ids)]}
    return state.call("base.automation", "create", [{
        "name": "Push to the console", "model_id": model_id, "trigger": trigger,
        "filter_domain": filter_domain, "action_server_ids": [(0, 0, action)],
    }], uid=uid or state.admin_uid)


def priority_of(state, ticket_id, uid=None):
    return state.call("helpdesk.ticket", "read", [[ticket_id], ["priority"]], uid=uid)[0]["priority"]


def other_priority(state, ticket_id):
    return "3" if priority_of(state, ticket_id) != "3" else "0"


@pytest.fixture
def make_state(make_server):
    def start(version=17, **kw):
        return make_server(version=version, tickets=20, admin_api_key=ADMIN_KEY, **kw).state

    return start


def test_only_an_administrator_may_create_or_read_automation_rules(make_server):
    server = make_server(version=17, tickets=5, admin_api_key=ADMIN_KEY)
    admin = odoorpc.ODOO("127.0.0.1", port=server.port, timeout=10)
    admin.login("helpdesk", "admin", ADMIN_KEY)
    model_id = admin.execute_kw("ir.model", "search", [[("model", "=", "helpdesk.ticket")]])[0]
    rule_id = admin.execute_kw("base.automation", "create", [{"name": "r", "model_id": model_id,
                                                               "trigger": "on_create_or_write"}])
    read = admin.execute_kw("base.automation", "read", [[rule_id], ["name"]])
    assert read == [{"id": rule_id, "name": "r"}]

    console = odoorpc.ODOO("127.0.0.1", port=server.port, timeout=10)
    console.login("helpdesk", "console@example.com", API_KEY)
    for method, args in (("search_read", [[]]), ("create", [{"name": "x", "model_id": model_id,
                                                              "trigger": "on_create"}])):
        with pytest.raises(odoorpc.error.RPCError) as refused:
            console.execute_kw("base.automation", method, args)
        assert refused.value.info["data"]["name"] == "odoo.exceptions.AccessError"
        assert "Administration/Settings" in refused.value.info["data"]["message"]
    # Reading the field registry is every internal user's right (the rule's filter needs field names).
    assert console.execute_kw("ir.model.fields", "search_count", [[("model", "=", "helpdesk.ticket")]]) > 10


def test_json2_refuses_the_integration_users_key_with_a_403(make_server):
    server = make_server(version=19, tickets=5, admin_api_key=ADMIN_KEY)
    status, body, _ = call(server, "base.automation", "search_read", {"domain": []})
    assert status == 403 and body["name"] == "odoo.exceptions.AccessError"
    status, body, _ = call(server, "base.automation", "search_read", {"domain": []}, key=ADMIN_KEY)
    assert (status, body) == (200, [])


def test_odoo_16_has_no_automation_rules_to_make(make_server):
    state = make_server(version=16, tickets=5).state
    with pytest.raises(Exception, match="Object base.automation doesn't exist"):
        state.call("base.automation", "search", [[]])


@pytest.mark.parametrize("version", [17, 18, 19])
def test_a_write_posts_odoos_payload_with_the_chosen_fields_and_only_a_content_type(make_state, receivers,
                                                                                  version):
    state, receiver = make_state(version), receivers()
    add_rule(state, receiver.url, fields=["priority", "team_id", "write_date"])
    action_id = state.call("ir.actions.server", "search", [[]])[0]
    state.call("helpdesk.ticket", "write", [[4], {"priority": other_priority(state, 4)}], uid=state.admin_uid)

    (post,) = receiver.posts
    fields = ["priority", "team_id", "write_date"]
    rec = state.call("helpdesk.ticket", "read", [[4], fields], {"load": None})[0]
    assert post["body"] == {"_action": f"Send Webhook Notification(#{action_id})", "_id": 4,
                            "_model": "helpdesk.ticket", **rec}
    assert isinstance(post["body"]["team_id"], int)  # read(load=None): a many2one is its id
    assert list(post["body"]) == sorted(post["body"])  # json.dumps(sort_keys=True)
    assert post["path"] == "/hooks/odoo/secret/"
    # Odoo adds no header of its own (no authentication): the rest is the HTTP client's plumbing.
    assert set(post["headers"]) <= {"Host", "Content-Length", "Content-Type", "Accept-Encoding"}
    assert post["headers"]["Content-Type"] == "application/json"
    assert state.status()["webhooks"] == {"rules": 1, "commit_delay": 0.0, "sent": 1, "failed": 0}


def test_the_filter_leaves_out_one_users_writes(make_state, receivers):
    state, receiver = make_state(), receivers()
    add_rule(state, receiver.url, filter_domain=f"[('write_uid', '!=', {state.integration_uid})]")
    state.call("helpdesk.ticket", "write", [[3], {"priority": other_priority(state, 3)}],
               uid=state.integration_uid)
    assert receiver.posts == []
    state.call("helpdesk.ticket", "write", [[3], {"priority": other_priority(state, 3)}], uid=state.admin_uid)
    assert [p["body"]["_id"] for p in receiver.posts] == [3]


def test_triggers_creation_and_update_apart(make_state, receivers):
    state, on_create, on_write = make_state(), receivers(), receivers()
    add_rule(state, on_create.url, trigger="on_create")
    add_rule(state, on_write.url, trigger="on_write")
    new_id = state.call("helpdesk.ticket", "create", [{"name": "Printer on fire"}], uid=state.admin_uid)
    state.call("helpdesk.ticket", "write", [[new_id], {"priority": "3"}], uid=state.admin_uid)
    assert [p["body"]["_id"] for p in on_create.posts] == [new_id]
    assert [p["body"]["_id"] for p in on_write.posts] == [new_id]


def test_an_archived_rule_sends_nothing_and_removing_a_rule_removes_its_actions(make_state, receivers):
    state, receiver = make_state(), receivers()
    rule_id = add_rule(state, receiver.url)
    state.call("base.automation", "write", [[rule_id], {"active": False}], uid=state.admin_uid)
    state.call("helpdesk.ticket", "write", [[2], {"priority": other_priority(state, 2)}], uid=state.admin_uid)
    assert receiver.posts == []
    state.call("base.automation", "unlink", [[rule_id]], uid=state.admin_uid)
    assert state.call("ir.actions.server", "search", [[]]) == []


@pytest.mark.parametrize("version,sees_new", [(17, False), (18, False), (19, True)])
def test_odoo_17_and_18_send_before_the_commit_and_19_after(make_state, receivers, version, sees_new):
    state = make_state(version)
    old = priority_of(state, 5)
    new = "3" if old != "3" else "0"
    # The receiver reads the ticket back at once, as the console's worker might, from another thread.
    receiver = receivers(on_post=lambda body: priority_of(state, body["_id"], uid=state.integration_uid))
    add_rule(state, receiver.url)
    state.call("helpdesk.ticket", "write", [[5], {"priority": new}], uid=state.admin_uid)
    assert receiver.posts[0]["seen"] == (new if sees_new else old)
    assert priority_of(state, 5) == new  # committed once the write returned


def test_a_ticket_created_on_17_is_not_there_yet_when_its_webhook_arrives(make_state, receivers):
    state = make_state(17)
    receiver = receivers(on_post=lambda body: state.call(
        "helpdesk.ticket", "search_count", [[("id", "=", body["_id"])]], uid=state.integration_uid))
    add_rule(state, receiver.url, trigger="on_create")
    new_id = state.call("helpdesk.ticket", "create", [{"name": "VPN down"}], uid=state.admin_uid)
    assert receiver.posts[0]["seen"] == 0
    assert state.call("helpdesk.ticket", "search_count", [[("id", "=", new_id)]]) == 1


def test_on_17_the_transaction_stays_open_for_the_commit_delay_and_writers_wait_for_it(make_state, receivers):
    state, receiver = make_state(17), receivers()
    add_rule(state, receiver.url, filter_domain=f"[('write_uid', '!=', {state.integration_uid})]")
    state.set_webhook_commit_delay(0.8)
    new = other_priority(state, 6)
    writer = threading.Thread(target=state.call, args=("helpdesk.ticket", "write", [[6], {"priority": new}]),
                              kwargs={"uid": state.admin_uid})
    writer.start()
    assert _wait(lambda: receiver.posts)
    # Sent, not committed: another request still reads the old value, without waiting.
    started = time.monotonic()
    assert priority_of(state, 6, uid=state.integration_uid) != new
    assert time.monotonic() - started < 0.3
    # A write by another request waits for the commit, then applies on top of it (a row lock).
    state.call("helpdesk.ticket", "write", [[6], {"name": "Renamed after"}], uid=state.integration_uid)
    assert time.monotonic() - receiver.posts[0]["at"] >= 0.7
    writer.join(5)
    row = state.call("helpdesk.ticket", "read", [[6], ["priority", "name"]])[0]
    assert (row["priority"], row["name"]) == (new, "Renamed after")
    with pytest.raises(ValueError, match="after the commit"):
        make_state(19).set_webhook_commit_delay(1)


def test_a_receiver_that_never_answers_holds_the_write_one_second_and_is_not_retried(make_state, receivers):
    state = make_state(17)
    receiver = receivers(on_post=lambda body: time.sleep(3))
    add_rule(state, receiver.url)
    started = time.monotonic()
    state.call("helpdesk.ticket", "write", [[7], {"priority": other_priority(state, 7)}], uid=state.admin_uid)
    assert 0.9 <= time.monotonic() - started < 1.8
    time.sleep(3.5)  # long enough for a retry to have come
    assert len(receiver.posts) == 1
    assert state.status()["webhooks"]["failed"] == 1  # no answer within the second: logged, forgotten


def test_a_refused_webhook_is_only_counted(make_state, receivers):
    state, receiver = make_state(19), receivers(status=404)
    add_rule(state, receiver.url)
    state.call("helpdesk.ticket", "write", [[8], {"priority": other_priority(state, 8)}], uid=state.admin_uid)
    assert len(receiver.posts) == 1
    assert state.status()["webhooks"]["failed"] == 1 and state.status()["webhooks"]["sent"] == 0


def test_rules_and_the_administrator_survive_a_restart(make_state, receivers, tmp_path):
    state, receiver = make_state(17), receivers()
    add_rule(state, receiver.url)
    path = str(tmp_path / "state.json")
    persist.save(state, path)
    again = persist.load(path)
    assert again.store.system_uids == {again.admin_uid}
    again.call("helpdesk.ticket", "write", [[9], {"priority": other_priority(again, 9)}], uid=again.admin_uid)
    assert [p["body"]["_id"] for p in receiver.posts] == [9]


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
