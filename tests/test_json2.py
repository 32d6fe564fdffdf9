"""The connector on Odoo 19: JSON-2 chosen from the version (ODOO_PROTOCOL overrides), the same errors
as over JSON-RPC, never a call to the deprecated endpoints, and counts that hold with two threads."""

import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import REGISTRY

from escalations.actions import action_accept, action_escalate, action_note
from escalations.models import OdooAction, Ticket
from escalations.odoo import json2
from escalations.odoo.client import OdooClient, OdooConfig, _translate
from escalations.odoo.errors import (
    OdooAccessDenied,
    OdooAuthError,
    OdooRecordGone,
    OdooRejected,
    OdooUnavailable,
)
from escalations.odoo.simulator import rules
from escalations.sync.run import sync_odoo
from tests.conftest import API_KEY
from tests.outbox_helpers import drain, notes, odoo_ticket

ON_19 = pytest.mark.parametrize("simulator", [("enterprise", 19)], indirect=True, ids=["enterprise-19"])
LOGIN = "console@example.com"


def config_for(server, **overrides):
    values = dict(url=server.url, db=server.state.db_name, user=LOGIN, api_key=API_KEY, timeout=2.0,
                  retries=0, backoff=0.01)
    return OdooConfig(**{**values, **overrides})


def deprecated_calls(server) -> int:
    return server.status()["deprecated_rpc"]["calls"]


# -- which protocol ---------------------------------------------------------------------------------


@pytest.mark.parametrize("simulator, protocol, deprecated", [
    (("oca", 18), "jsonrpc", 0), (("oca", 19), "json2", 0),
], indirect=["simulator"], ids=["18-jsonrpc", "19-json2"])
def test_auto_picks_json2_from_odoo_19_on(simulator, protocol, deprecated):
    client = OdooClient.connect(config_for(simulator))
    assert client.protocol == protocol
    assert client.search("helpdesk.ticket", [])
    assert deprecated_calls(simulator) == deprecated


@ON_19
@pytest.mark.django_db
def test_odoo_protocol_jsonrpc_forces_odoorpc_even_on_19(odoo, settings):
    settings.ODOO_PROTOCOL = "jsonrpc"
    result = sync_odoo(full=True)
    assert result.created == Ticket.objects.count() > 0
    # It works while Odoo 19 still answers JSON-RPC, every call counted as deprecated ...
    assert deprecated_calls(odoo) >= result.rpc_calls - 1  # all but /web/webclient/version_info
    # ... and says what to do once the deprecated services are switched off.
    odoo.state.set_deprecated_rpc(False)
    with pytest.raises(OdooRejected, match="set ODOO_PROTOCOL to auto"):
        OdooClient.connect()
    settings.ODOO_PROTOCOL = "auto"
    assert OdooClient.connect().protocol == "json2"


@pytest.mark.parametrize("simulator", [("enterprise", 17)], indirect=True)
def test_odoo_protocol_json2_on_an_older_odoo_is_refused_in_plain_words(simulator):
    before = simulator.state.rpc_count
    with pytest.raises(OdooRejected) as refused:
        OdooClient.connect(config_for(simulator, protocol="json2", retries=2))
    assert "no JSON-2 API" in refused.value.message and "ODOO_PROTOCOL" in refused.value.message
    assert simulator.state.rpc_count - before == 1  # /web/version only: not retried, no JSON-RPC


def test_a_bad_odoo_protocol_is_improperly_configured(settings, tmp_path):
    settings.ODOO_PROTOCOL = "xmlrpc"
    with pytest.raises(ImproperlyConfigured, match="ODOO_PROTOCOL must be one of auto, jsonrpc, json2"):
        OdooConfig.from_settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODOO_")}
    loaded = subprocess.run(
        [sys.executable, "-c", "import dashboard.settings as s; print(s.ODOO_PROTOCOL)"],
        cwd=django_settings.BASE_DIR, capture_output=True, text=True,
        env={**env, "SECRET_KEY": "x", "VAR_DIR": str(tmp_path), "ODOO_PROTOCOL": "JSON2"},
    )
    assert loaded.stdout.strip() == "json2"  # case and spaces do not matter
    refused = subprocess.run(
        [sys.executable, "-c", "import dashboard.settings"], cwd=django_settings.BASE_DIR,
        capture_output=True, text=True,
        env={**env, "SECRET_KEY": "x", "VAR_DIR": str(tmp_path), "ODOO_PROTOCOL": "xml-rpc"},
    )
    assert refused.returncode != 0
    assert ("ImproperlyConfigured: ODOO_PROTOCOL must be auto, jsonrpc or json2, not 'xml-rpc'"
            in refused.stderr)


@ON_19
def test_a_password_is_refused_over_json2_though_json_rpc_takes_it(simulator):
    password = "the-users-own-password"
    simulator.state.passwords[simulator.state.integration_uid] = password
    assert OdooClient.connect(config_for(simulator, api_key=password, protocol="jsonrpc")).uid
    with pytest.raises(OdooAuthError, match="Invalid apikey"):
        OdooClient.connect(config_for(simulator, api_key=password))


# -- the same errors --------------------------------------------------------------------------------


@ON_19
def test_json2_errors_map_to_the_apps_errors(simulator):
    state = simulator.state
    client = OdooClient.connect(config_for(simulator))
    tid = client.search("helpdesk.ticket", [])[0]
    with pytest.raises(OdooAccessDenied):  # 403, a private method
        client.call("helpdesk.ticket", "_sla_apply", [[tid]])
    with pytest.raises(OdooRejected, match="does not exist"):  # 404, no such method
        client.call("helpdesk.ticket", "no_such_method", [[tid]])
    with pytest.raises(OdooRejected) as invalid:  # 422, Odoo's validation
        client.create("helpdesk.ticket", {"name": False})
    assert invalid.value.odoo_name == "odoo.exceptions.ValidationError"
    with pytest.raises(OdooRejected, match="Invalid field"):  # 500, Odoo's ValueError
        client.read("helpdesk.ticket", [tid], ["no_such_field"])

    state.set_helpdesk_group(rules.EE_USER)
    team = client.read("helpdesk.ticket", [tid], ["team_id"])[0]["team_id"][0]
    state.hide_team(team)  # record rules: 403 on a hidden ticket
    with pytest.raises(OdooAccessDenied):
        client.write("helpdesk.ticket", [tid], {"priority": "3"})
    state.invite_to_team(team)
    state.delete_ticket(tid)
    with pytest.raises(OdooRecordGone):  # 404, MissingError
        client.write("helpdesk.ticket", [tid], {"priority": "3"})
    simulator.faults.set("fail_writes")
    other = client.search("helpdesk.ticket", [])[0]
    with pytest.raises(OdooRejected, match="another change to the same ticket"):  # 500, serialization
        client.write("helpdesk.ticket", [other], {"priority": "3"})
    simulator.faults.clear()
    state.expire_api_key(API_KEY)
    with pytest.raises(OdooAuthError, match="wrong, revoked or expired"):  # 401
        client.search("helpdesk.ticket", [])


def odoo_error(status, name):
    return json2.Json2Error(status, {"name": name, "message": "what Odoo said"})


@pytest.mark.parametrize("error, expected, transient", [
    (odoo_error(401, "werkzeug.exceptions.Unauthorized"), OdooAuthError, False),
    (odoo_error(403, "odoo.exceptions.AccessDenied"), OdooAuthError, False),
    (odoo_error(403, "odoo.exceptions.AccessError"), OdooAccessDenied, False),
    (odoo_error(404, "odoo.exceptions.MissingError"), OdooRecordGone, False),
    (odoo_error(404, "werkzeug.exceptions.NotFound"), OdooRejected, False),
    (odoo_error(409, "odoo.exceptions.LockError"), OdooRejected, False),
    (odoo_error(422, "odoo.exceptions.UserError"), OdooRejected, False),
    (odoo_error(422, "werkzeug.exceptions.UnprocessableEntity"), OdooRejected, False),
    (odoo_error(500, "builtins.KeyError"), OdooRejected, False),
    (json2.HttpError(502, "Bad Gateway"), OdooUnavailable, True),
    (json2.HttpError(503, "Service Unavailable"), OdooUnavailable, True),
    (json2.HttpError(401, "Unauthorized"), OdooAuthError, False),
    (json2.HttpError(404, "Not Found"), OdooRejected, False),
    (json2.NotJson("x"), OdooUnavailable, True),
], ids=lambda v: f"{type(v).__name__}-{getattr(v, 'status', '')}-{getattr(v, 'name', '')}")
def test_json2_statuses_and_names_become_the_apps_errors(error, expected, transient):
    translated = _translate(error)
    assert type(translated) is expected and translated.transient == transient
    assert translated.message  # always something to show


# -- never the deprecated endpoints -------------------------------------------------------------------


@pytest.mark.parametrize("simulator", [("oca", 19)], indirect=True, ids=["oca-19"])
def test_a_sync_an_outbox_action_and_a_marker_never_use_the_deprecated_endpoints(odoo, lead, policy):
    from tests.outbox_helpers import a_ticket, free_agent, make_lead

    sync_odoo(full=True)
    ticket = a_ticket()
    team_lead = make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))
    policy.team = ticket.team
    policy.save()
    level = policy.levels.get(number=1)
    level.odoo_tag_name, level.odoo_priority = "Escalated L1", "3"
    level.save()

    action_note(ticket=ticket, user=team_lead, body="Looking into it")
    action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    action_escalate(ticket=ticket, user=team_lead, level=level, reason="Key account")  # and its marker
    assert OdooAction.objects.filter(kind=OdooAction.Kind.MARK).exists()
    assert set(drain()) == {OdooAction.State.SENT}
    odoo.state.clock.advance(timedelta(minutes=1))
    sync_odoo()

    remote = odoo_ticket(odoo.state, ticket.odoo_id, ["user_id", "priority", "tag_ids"])
    assert remote["user_id"][0] == team_lead.profile.agent.pk and remote["priority"] == "3"
    assert len(notes(odoo.state, ticket.odoo_id)) == 3  # the lead's note, the accept's, the escalation's
    assert odoo.state.rpc_count > 20
    assert deprecated_calls(odoo) == 0


@ON_19
@pytest.mark.django_db
def test_the_console_works_with_the_deprecated_services_switched_off(odoo):
    odoo.state.set_deprecated_rpc(False)
    assert sync_odoo(full=True).created == Ticket.objects.count() > 0


# -- transport ---------------------------------------------------------------------------------------


@ON_19
def test_the_database_header_and_user_agent_are_sent(simulator, caplog):
    simulator.state.set_other_databases(["staging"])  # Odoo cannot guess: the header must name ours
    caplog.set_level(logging.DEBUG, logger="escalations.odoo.simulator")
    client = OdooClient.connect(config_for(simulator))
    assert client.search("helpdesk.ticket", [])
    callers = {r.args[2] for r in caplog.records if r.getMessage().startswith("JSON-2 ")}
    assert callers and all(ua.startswith("helpdesk-escalation-console/") for ua in callers)
    with pytest.raises(OdooRejected, match="X-Odoo-Database"):
        OdooClient.connect(config_for(simulator, db=""))


@ON_19
def test_one_connection_per_thread_is_kept_and_a_closed_one_replaced(simulator):
    client = OdooClient.connect(config_for(simulator))
    for _ in range(10):
        client.search_read("helpdesk.ticket", [], ["name"], limit=1)
    assert len(client._json2._connections) == 1
    assert len(simulator._connections) == 1  # the server holds that one connection, idle

    simulator.faults.set("refuse")  # closes the idle connection; Odoo comes back at once
    simulator.faults.clear()
    assert client.search("helpdesk.ticket", [])  # a new connection, no error
    client.close()
    assert not client._json2._connections


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("enterprise", 19)], indirect=True,
                         ids=["jsonrpc", "json2"])
def test_counts_stay_exact_when_two_threads_share_the_client(simulator):
    """The sync's page reader calls one client from two threads: every request counted once, in the
    client and in the process's metric, whichever thread sent it."""
    client = OdooClient.connect(config_for(simulator))
    calls = 40

    def metric() -> float:
        return REGISTRY.get_sample_value("console_odoo_rpc_calls_total", {"method": "search_count"}) or 0

    before, metric_before, sent_before = client.rpc_calls, metric(), simulator.state.rpc_count
    start = threading.Barrier(2)

    def work():
        start.wait()
        for _ in range(calls):
            client.call("helpdesk.ticket", "search_count", [[]])

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.rpc_calls - before == 2 * calls == simulator.state.rpc_count - sent_before
    assert metric() - metric_before == 2 * calls
