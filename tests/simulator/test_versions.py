"""Edition and version profiles: model names, field names, and what changed between 16, 17, 18 and 19."""

import json
import urllib.error
import urllib.request

import odoorpc
import pytest

from .conftest import connect, kw

PROFILES = [("enterprise", 16), ("enterprise", 17), ("enterprise", 18), ("enterprise", 19), ("oca", 16),
            ("oca", 17), ("oca", 18), ("oca", 19)]


@pytest.mark.parametrize("flavour,version", PROFILES)
def test_profile_version_and_models(make_server, flavour, version):
    server = make_server(flavour=flavour, version=version, tickets=20)
    odoo = connect(server)
    assert odoo.version == f"{version}.0" + ("+e" if flavour == "enterprise" else "")
    team_model = "helpdesk.team" if flavour == "enterprise" else "helpdesk.ticket.team"
    assert team_model in odoo.env
    fields = odoo.execute("helpdesk.ticket", "fields_get")
    assert fields["team_id"]["relation"] == team_model
    if flavour == "enterprise":
        assert {
            "ticket_ref",
            "sla_status_ids",
            "sla_deadline",
            "sla_fail",
            "assign_date",
            "close_date",
        } <= set(fields)
        assert ("ticket_type_id" in fields) == (version <= 17)
        assert ("properties" in fields) == (version >= 17)
    else:
        assert {
            "number",
            "assigned_date",
            "closed_date",
            "last_stage_update",
            "sla_deadline",
            "sla_expired",
        } <= set(fields)
        assert fields["sla_deadline"]["store"] == (version == 16)
        assert ("ticket_sla_ids" in fields) == (version >= 17)
        assert ("helpdesk.ticket.sla" in odoo.env) == (version >= 17)
    stage_model = "helpdesk.stage" if flavour == "enterprise" else "helpdesk.ticket.stage"
    stage_fields = odoo.execute(stage_model, "fields_get")
    # Enterprise 19 stages gain a colour and a rotting threshold.
    assert ("rotting_threshold_days" in stage_fields) == (flavour == "enterprise" and version >= 19)


@pytest.mark.parametrize("version", [16, 17, 18, 19])
def test_name_get_only_before_18(make_server, version):
    odoo = connect(make_server(version=version, tickets=5))
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    display = odoo.env["helpdesk.ticket"].read([tid], ["display_name"])[0]["display_name"]
    if version <= 17:
        assert kw(odoo, "helpdesk.ticket", "name_get", [[tid]]) == [[tid, display]]
    else:
        with pytest.raises(odoorpc.error.RPCError) as exc:
            kw(odoo, "helpdesk.ticket", "name_get", [[tid]])
        assert exc.value.info["data"]["name"] == "builtins.AttributeError"
        assert exc.value.info["data"]["message"] == "The method 'helpdesk.ticket.name_get' does not exist"


@pytest.mark.parametrize(
    "version,expected",
    [(16, "<b>bold</b>"), (17, "&lt;b&gt;bold&lt;/b&gt;"), (18, "&lt;b&gt;bold&lt;/b&gt;")],
)
def test_message_post_escapes_plain_bodies_from_17(make_server, version, expected):
    odoo = connect(make_server(version=version, tickets=5))
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    mid = kw(odoo, "helpdesk.ticket", "message_post", [[tid]], body="<b>bold</b>")
    assert odoo.env["mail.message"].read([mid], ["body"])[0]["body"] == expected
    if version >= 17:
        mid = kw(odoo, "helpdesk.ticket", "message_post", [[tid]], body="<b>bold</b>", body_is_html=True)
        assert odoo.env["mail.message"].read([mid], ["body"])[0]["body"] == "<b>bold</b>"
    else:
        with pytest.raises(odoorpc.error.RPCError, match="Invalid field 'body_is_html'"):
            kw(odoo, "helpdesk.ticket", "message_post", [[tid]], body="x", body_is_html=True)


@pytest.mark.parametrize("version", [17, 18])
def test_body_is_html_is_honoured_only_for_an_internal_author(make_server, version):
    # mail_thread.message_post: `if body_is_html and self.env.user._is_internal()`; a portal (share)
    # user's HTML arrives escaped whatever the flag says.
    server = make_server(version=version, tickets=5)
    server.state.set_user_share(server.state.integration_uid, True)
    odoo = connect(server)
    tid = odoo.env["helpdesk.ticket"].search([], limit=1)[0]
    mid = kw(odoo, "helpdesk.ticket", "message_post", [[tid]], body="<b>bold</b>", body_is_html=True)
    assert odoo.env["mail.message"].read([mid], ["body"])[0]["body"] == "&lt;b&gt;bold&lt;/b&gt;"
    assert odoo.env["res.users"].read([odoo.env.uid], ["share"])[0]["share"] is True


@pytest.mark.parametrize("version", [16, 17])
def test_oca_ticket_numbering_and_defaults(make_server, version):
    odoo = connect(make_server(flavour="oca", version=version, tickets=5))
    team = odoo.env["helpdesk.ticket.team"].search([], limit=1)[0]
    tid = kw(
        odoo, "helpdesk.ticket", "create", [{"name": "VPN down", "description": "<p>x</p>", "team_id": team}]
    )
    row = odoo.env["helpdesk.ticket"].read([tid], ["number", "display_name", "priority", "stage_id"])[0]
    assert row["number"] == "HT00006" and row["display_name"] == "HT00006 - VPN down"
    assert row["priority"] == "1" and row["stage_id"][1] == "New"
    with pytest.raises(odoorpc.error.RPCError) as exc:  # description is required in OCA
        kw(odoo, "helpdesk.ticket", "create", [{"name": "No description", "team_id": team}])
    assert exc.value.info["data"]["name"] == "odoo.exceptions.ValidationError"


@pytest.mark.parametrize("version,status", [(16, 404), (17, 200)])
def test_unknown_json_route(make_server, version, status):
    server = make_server(version=version, tickets=1)
    req = urllib.request.Request(
        f"{server.url}/web/nothing",
        data=b'{"jsonrpc":"2.0","id":7,"params":{}}',
        headers={"Content-Type": "application/json"},
    )
    try:
        resp = urllib.request.urlopen(req)
        got_status, body = resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        got_status, body = err.code, json.load(err)
    assert got_status == status
    assert body["id"] == 7 and body["error"]["code"] == 404 and body["error"]["message"] == "404: Not Found"
    assert body["error"]["data"]["name"] == "werkzeug.exceptions.NotFound"


OCA_KANBAN = [["normal", "Default"], ["done", "Ready for next stage"], ["blocked", "Blocked"]]


@pytest.mark.parametrize("flavour,version", PROFILES)
def test_properties_and_kanban_state_as_each_package_has_them(make_server, flavour, version):
    """helpdesk_mgmt 16.0.2.14 / 17.0.1.11 / 18.0.1.19 all have `properties` and a kanban_state with no
    default; on a stage change 16 clears it, 17 leaves it, 18 sets "normal" even over a value written
    with the stage. Enterprise: required, default "normal", back to "normal" unless written with it."""
    odoo = connect(make_server(flavour=flavour, version=version, tickets=5))
    fields = odoo.execute("helpdesk.ticket", "fields_get")
    assert ("properties" in fields) == (flavour == "oca" or version >= 17)
    if "properties" in fields:
        assert fields["properties"]["type"] == "properties"
    kanban = fields["kanban_state"]
    assert kanban["required"] == (flavour == "enterprise")
    if flavour == "oca":
        assert kanban["selection"] == OCA_KANBAN
    assert {k for k, _ in kanban["selection"]} == {"normal", "done", "blocked"}

    team_model, stage_model = (
        ("helpdesk.team", "helpdesk.stage") if flavour == "enterprise"
        else ("helpdesk.ticket.team", "helpdesk.ticket.stage")
    )
    team = odoo.env[team_model].search([], limit=1)[0]
    vals = {"name": "Printer", "description": "<p>x</p>", "team_id": team}
    tid = kw(odoo, "helpdesk.ticket", "create", [vals])

    def kanban_state():
        return odoo.env["helpdesk.ticket"].read([tid], ["kanban_state"])[0]["kanban_state"]

    assert kanban_state() == ("normal" if flavour == "enterprise" else False)
    stages = odoo.env[stage_model].search([])
    current = odoo.env["helpdesk.ticket"].read([tid], ["stage_id"])[0]["stage_id"][0]
    others = [s for s in stages if s != current]
    kw(odoo, "helpdesk.ticket", "write", [[tid], {"kanban_state": "blocked"}])
    kw(odoo, "helpdesk.ticket", "write", [[tid], {"stage_id": others[0]}])
    after_stage = {"enterprise": "normal", 16: False, 17: "blocked", 18: "normal", 19: "normal"}
    assert kanban_state() == after_stage["enterprise" if flavour == "enterprise" else version]
    kw(odoo, "helpdesk.ticket", "write", [[tid], {"stage_id": others[1], "kanban_state": "done"}])
    assert kanban_state() == ("normal" if flavour == "oca" and version >= 18 else "done")
