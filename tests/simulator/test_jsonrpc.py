"""The simulator through the unmodified odoorpc 0.10.1 client over JSON-RPC (odoo.md §1, §3)."""

import time

import odoorpc
import pytest

from .conftest import API_KEY, LOGIN, connect, kw


def test_login_returns_uid_and_user_context(server, odoo):
    assert odoo.version == "17.0+e"
    assert odoo.env.uid == server.state.integration_uid
    assert odoo.env.context["lang"] == "en_US"
    assert odoo.env.context["tz"] == "Europe/Brussels"


def test_wrong_password_is_refused_by_odoorpc(server):
    odoo = odoorpc.ODOO("127.0.0.1", port=server.port)
    with pytest.raises(odoorpc.error.RPCError, match="Wrong login ID or password"):
        odoo.login("helpdesk", LOGIN, "not-the-key")


def test_revoked_api_key_no_longer_logs_in_nor_executes(server, odoo):
    server.state.revoke_api_key(API_KEY)
    with pytest.raises(odoorpc.error.RPCError) as exc:
        odoo.env["helpdesk.ticket"].search([])
    assert exc.value.info["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert exc.value.info["data"]["message"] == "Access Denied"
    assert exc.value.info["code"] == 200 and exc.value.info["message"] == "Odoo Server Error"
    with pytest.raises(odoorpc.error.RPCError, match="Wrong login"):
        connect(server)


def test_common_login_returns_false_for_bad_credentials(server, odoo):
    assert (
        odoo.json("/jsonrpc", {"service": "common", "method": "login", "args": ["helpdesk", LOGIN, "nope"]})[
            "result"
        ]
        is False
    )


def test_search_read_with_prefix_domains(odoo):
    tickets = odoo.env["helpdesk.ticket"]
    every = tickets.search_read([], ["priority", "user_id", "stage_id", "name", "partner_email"])
    urgent_or_unassigned = tickets.search_read(["|", ("priority", "=", "3"), ("user_id", "=", False)], ["id"])
    assert {r["id"] for r in urgent_or_unassigned} == {
        r["id"] for r in every if r["priority"] == "3" or r["user_id"] is False
    }
    not_urgent = tickets.search_read(["!", ("priority", "=", "3")], ["id"])
    assert {r["id"] for r in not_urgent} == {r["id"] for r in every if r["priority"] != "3"}
    login = tickets.search_read([("name", "ilike", "LOG IN")], ["name"])
    assert login and all("log in" in r["name"].lower() for r in login)
    some = tickets.search_read([("priority", "in", ["2", "3"])], ["priority"])
    assert {r["priority"] for r in some} == {"2", "3"}
    assert len(tickets.search([("user_id", "=?", False)])) == len(every)  # =? ignores an empty value
    open_ = tickets.search_read([("stage_id.fold", "=", False)], ["stage_id"])
    assert open_ and all(r["stage_id"][1] not in ("Solved", "Cancelled") for r in open_)


def test_order_limit_and_offset(odoo):
    tickets = odoo.env["helpdesk.ticket"]
    rows = tickets.search_read([], ["write_date"], order="write_date asc, id asc")
    keys = [(r["write_date"], r["id"]) for r in rows]
    assert keys == sorted(keys)
    page = tickets.search_read([], ["write_date"], order="write_date asc, id asc", offset=10, limit=5)
    assert [r["id"] for r in page] == [r["id"] for r in rows[10:15]]
    default = tickets.search([])  # default order: priority desc, id desc
    prio = {r["id"]: r["priority"] for r in tickets.search_read([], ["priority"])}
    assert [(prio[i], i) for i in default] == sorted(((prio[i], i) for i in default), reverse=True)


def test_write_then_read_back_moves_write_date(server, odoo):
    tid = odoo.env["helpdesk.ticket"].search([("priority", "!=", "3")], limit=1)[0]
    before = odoo.env["helpdesk.ticket"].read([tid], ["write_date"])[0]["write_date"]
    server.state.clock.advance(__import__("datetime").timedelta(minutes=5))
    assert kw(odoo, "helpdesk.ticket", "write", [[tid], {"priority": "3"}]) is True
    row = odoo.env["helpdesk.ticket"].read([tid], ["priority", "write_date", "write_uid"])[0]
    assert row["priority"] == "3" and row["write_date"] > before
    assert row["write_uid"][0] == odoo.env.uid


def test_message_post_creates_a_readable_message(odoo):
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    mid = kw(
        odoo,
        "helpdesk.ticket",
        "message_post",
        [[tid]],
        body="Escalated to level 2",
        message_type="comment",
        subtype_xmlid="mail.mt_note",
    )
    assert isinstance(mid, int)
    msg = odoo.env["mail.message"].read(
        [mid], ["body", "model", "res_id", "message_type", "subtype_id", "author_id"]
    )[0]
    assert msg["body"] == "Escalated to level 2" and (msg["model"], msg["res_id"]) == ("helpdesk.ticket", tid)
    assert msg["message_type"] == "comment" and msg["subtype_id"][1] == "Note"
    assert mid in odoo.env["helpdesk.ticket"].read([tid], ["message_ids"])[0]["message_ids"]


def test_message_post_needs_one_record_and_keywords(odoo):
    ids = odoo.env["helpdesk.ticket"].search([], limit=2)
    with pytest.raises(odoorpc.error.RPCError) as exc:
        kw(odoo, "helpdesk.ticket", "message_post", [ids], body="x")
    assert exc.value.info["data"]["name"] == "builtins.ValueError"
    assert "Expected singleton" in exc.value.info["data"]["message"]
    with pytest.raises(odoorpc.error.RPCError, match="positional"):
        kw(odoo, "helpdesk.ticket", "message_post", [ids[:1], "body as positional"])


def test_fields_get_describes_every_field(odoo):
    fields = odoo.execute("helpdesk.ticket", "fields_get")
    assert fields["stage_id"]["type"] == "many2one" and fields["stage_id"]["relation"] == "helpdesk.stage"
    assert ["3", "Urgent"] in fields["priority"]["selection"]
    assert fields["sla_fail"]["store"] is False and fields["sla_deadline"]["store"] is True
    assert {"id", "display_name", "write_date"} <= set(fields)  # Odoo lists its magic fields too
    for desc in fields.values():
        assert {"type", "string", "required", "readonly", "store"} <= set(desc)
    small = kw(odoo, "helpdesk.ticket", "fields_get", [], attributes=["type", "relation"])
    assert small["team_id"] == {"type": "many2one", "relation": "helpdesk.team"}
    assert small["name"] == {"type": "char"}


def test_private_method_is_an_access_error(odoo):
    with pytest.raises(odoorpc.error.RPCError) as exc:
        kw(odoo, "helpdesk.ticket", "_sla_apply", [[1]])
    assert exc.value.info["data"]["name"] == "odoo.exceptions.AccessError"


def test_unknown_model_and_method(odoo):
    with pytest.raises(odoorpc.error.RPCError) as exc:
        kw(odoo, "helpdesk.nothing", "search", [[]])
    assert exc.value.info["data"]["message"] == "Object helpdesk.nothing doesn't exist"
    assert exc.value.info["data"]["name"] == "odoo.exceptions.UserError"
    with pytest.raises(odoorpc.error.RPCError) as exc:
        kw(odoo, "helpdesk.ticket", "do_magic", [[]])
    assert exc.value.info["data"]["name"] == "builtins.AttributeError"


def test_deleted_record_is_dropped_by_read_and_missing_for_write(server, odoo):
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    server.state.delete_ticket(tid)
    assert odoo.env["helpdesk.ticket"].read([tid], ["name"]) == []
    with pytest.raises(odoorpc.error.RPCError) as exc:
        kw(odoo, "helpdesk.ticket", "write", [[tid], {"priority": "1"}])
    assert exc.value.info["data"]["name"] == "odoo.exceptions.MissingError"
    assert "Record does not exist or has been deleted" in exc.value.info["data"]["message"]


def test_value_formats(odoo):
    rows = odoo.env["helpdesk.ticket"].search_read(
        [("user_id", "=", False)],
        ["user_id", "stage_id", "tag_ids", "close_date", "create_date", "partner_phone"],
    )
    row = rows[0]
    assert row["user_id"] is False and row["close_date"] is False and row["partner_phone"] is False
    assert isinstance(row["stage_id"], list) and len(row["stage_id"]) == 2
    assert isinstance(row["tag_ids"], list)
    time.strptime(row["create_date"], "%Y-%m-%d %H:%M:%S")
    classic_write = kw(odoo, "helpdesk.ticket", "read", [[row["id"]], ["stage_id"]], load="_classic_write")
    assert isinstance(classic_write[0]["stage_id"], int)
    with pytest.raises(odoorpc.error.RPCError, match="Invalid field 'nope'"):
        odoo.env["helpdesk.ticket"].read([row["id"]], ["nope"])


def test_active_test_hides_archived_tickets_from_search_only(odoo):
    tickets = odoo.env["helpdesk.ticket"]
    archived = kw(odoo, "helpdesk.ticket", "search", [[("active", "=", False)]])
    assert archived
    everything = kw(odoo, "helpdesk.ticket", "search_count", [[]], context={"active_test": False})
    assert tickets.search_count([]) + len(archived) == everything
    assert tickets.read(archived[:1], ["active"])[0]["active"] is False  # read by id still works


def test_create_single_and_batch_and_unlink(odoo):
    team = odoo.env["helpdesk.team"].search([], limit=1)[0]
    one = kw(odoo, "helpdesk.ticket", "create", [{"name": "Printer on fire", "team_id": team}])
    many = kw(
        odoo, "helpdesk.ticket", "create", [[{"name": "A", "team_id": team}, {"name": "B", "team_id": team}]]
    )
    assert isinstance(one, int) and len(many) == 2
    row = odoo.env["helpdesk.ticket"].read([one], ["display_name", "ticket_ref", "stage_id", "priority"])[0]
    assert row["display_name"] == f"Printer on fire (#{row['ticket_ref']})"
    assert row["stage_id"][1] == "New" and row["priority"] == "0"
    assert kw(odoo, "helpdesk.ticket", "unlink", [many]) is True
    assert odoo.env["helpdesk.ticket"].read(many, ["name"]) == []


def test_x2many_commands(odoo):
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    tags = odoo.env["helpdesk.tag"].search([], limit=3)
    kw(odoo, "helpdesk.ticket", "write", [[tid], {"tag_ids": [[6, 0, tags[:2]]]}])
    kw(odoo, "helpdesk.ticket", "write", [[tid], {"tag_ids": [[4, tags[2]], [3, tags[0]]]}])
    assert set(odoo.env["helpdesk.ticket"].read([tid], ["tag_ids"])[0]["tag_ids"]) == set(tags[1:])
    kw(odoo, "helpdesk.ticket", "write", [[tid], {"tag_ids": [[0, 0, {"name": "Brand new"}]]}])
    names = odoo.env["helpdesk.tag"].read(
        odoo.env["helpdesk.ticket"].read([tid], ["tag_ids"])[0]["tag_ids"], ["name"]
    )
    assert "Brand new" in {n["name"] for n in names}
    kw(odoo, "helpdesk.ticket", "write", [[tid], {"tag_ids": [[5]]}])
    assert odoo.env["helpdesk.ticket"].read([tid], ["tag_ids"])[0]["tag_ids"] == []


def test_model_discovery_and_external_ids(odoo):
    assert "helpdesk.team" in odoo.env and "helpdesk.ticket.team" not in odoo.env
    assert odoo.env.ref("helpdesk.stage_solved").name == "Solved"
    assert odoo.env.ref("base.user_admin").login == "admin"
    with pytest.raises(odoorpc.error.RPCError, match="External ID not found"):
        odoo.env.ref("helpdesk.nope")


def test_name_search_default_get_and_archive(odoo):
    found = kw(odoo, "res.users", "name_search", [], name="marie")
    assert found and found[0][1] == "Marie Dubois"
    defaults = kw(odoo, "helpdesk.ticket", "default_get", [["priority", "kanban_state", "active", "team_id"]])
    assert defaults["priority"] == "0" and defaults["kanban_state"] == "normal" and defaults["active"] is True
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    assert kw(odoo, "helpdesk.ticket", "action_archive", [[tid]]) is None  # Odoo returns None here
    assert tid not in odoo.env["helpdesk.ticket"].search([])
    kw(odoo, "helpdesk.ticket", "action_unarchive", [[tid]])
    assert tid in odoo.env["helpdesk.ticket"].search([])


def test_db_list_and_version_info(server, odoo):
    assert odoo.db.list() == ["helpdesk"]
    info = odoo.json("/web/webclient/version_info", {})["result"]
    assert info["server_version"] == "17.0+e" and info["server_version_info"][0] == 17
    assert info["protocol_version"] == 1


def test_rpc_count_counts_every_request(server):
    before = server.state.rpc_count
    odoo = connect(server)  # version_info, login, context_get
    odoo.env["helpdesk.ticket"].search([])  # fields_get on first model access, then search
    assert server.state.rpc_count - before == 5


def test_forbidden_model_is_an_access_error_for_that_user_only(server, odoo):
    server.state.forbid(LOGIN, "res.partner")
    with pytest.raises(odoorpc.error.RPCError) as exc:
        kw(odoo, "res.partner", "search", [[]])
    assert exc.value.info["data"]["name"] == "odoo.exceptions.AccessError"
    assert server.state.call("res.partner", "search", [[]])  # the superuser still can


def test_concurrent_writers_are_serialized(server):
    import threading

    clients = [connect(server) for _ in range(4)]
    ids = clients[0].env["helpdesk.ticket"].search([], limit=4)
    errors = []

    def work(odoo, tid):
        try:
            for i in range(10):
                kw(odoo, "helpdesk.ticket", "write", [[tid], {"name": f"round {i}"}])
                kw(odoo, "helpdesk.ticket", "message_post", [[tid]], body=f"note {i}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c, t)) for c, t in zip(clients, ids, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {r["name"] for r in clients[0].env["helpdesk.ticket"].read(ids, ["name"])} == {"round 9"}
