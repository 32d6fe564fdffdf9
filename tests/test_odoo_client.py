"""The connector: Odoo's errors become the app's few errors, transient ones are retried, over JSON-RPC
(Odoo 16 to 18) and JSON-2 (19)."""

import pytest

from escalations.odoo.client import OdooClient, OdooConfig
from escalations.odoo.errors import (
    OdooAccessDenied,
    OdooAuthError,
    OdooRecordGone,
    OdooRejected,
    OdooUnavailable,
    OdooUserNotInternal,
)
from escalations.odoo.schema import ENTERPRISE, OCA, detect_schema
from tests.conftest import API_KEY, FLAVOURS

# The same behaviour over both protocols: odoorpc's JSON-RPC on 17, JSON-2 on 19.
BOTH_PROTOCOLS = pytest.mark.parametrize("simulator", [("enterprise", 17), ("enterprise", 19)], indirect=True,
                                         ids=["jsonrpc-17", "json2-19"])


def json2(simulator) -> bool:
    return simulator.state.version >= 19


def config_for(server, **overrides):
    values = dict(url=server.url, db=server.state.db_name, user="console@example.com", api_key=API_KEY,
                  timeout=2.0, retries=2, backoff=0.01)
    values.update(overrides)
    return OdooConfig(**values)


@BOTH_PROTOCOLS
def test_connects_with_an_api_key_and_reads(simulator):
    client = OdooClient.connect(config_for(simulator))
    rows = client.search_read("helpdesk.ticket", [], ["name"], limit=3)
    assert len(rows) == 3 and all(set(r) == {"id", "name"} for r in rows)
    assert client.uid == simulator.state.integration_uid and client.context["lang"] == "en_US"
    if json2(simulator):
        assert client.protocol == "json2" and client.server_version == "19.0+e"
        assert client.rpc_calls == 4  # /web/version, user context (the uid), internal user check, the read
    else:
        assert client.protocol == "jsonrpc" and client.server_version == "17.0+e"
        # the look for JSON-2 (404), then version, login, user context, internal user check, the read
        assert client.rpc_calls == 6


@BOTH_PROTOCOLS
def test_wrong_api_key_is_an_auth_error_and_not_retried(simulator):
    before = simulator.state.rpc_count
    with pytest.raises(OdooAuthError):
        OdooClient.connect(config_for(simulator, api_key="wrong"))
    # No hammering: JSON-2: /web/version and one refused call; JSON-RPC: the look for JSON-2, the
    # version and one refused login.
    assert simulator.state.rpc_count - before == (2 if json2(simulator) else 3)


@BOTH_PROTOCOLS
def test_revoked_api_key_is_reported_clearly(simulator):
    client = OdooClient.connect(config_for(simulator))
    simulator.state.revoke_api_key(API_KEY)
    with pytest.raises(OdooAuthError) as error:
        client.search_read("helpdesk.ticket", [], ["name"], limit=1)
    assert ("Invalid apikey" if json2(simulator) else "Access Denied") in error.value.message
    with pytest.raises(OdooAuthError):
        OdooClient.connect(config_for(simulator))


@BOTH_PROTOCOLS
def test_odoo_errors_map_to_app_errors(simulator):
    client = OdooClient.connect(config_for(simulator))
    ticket_id = client.search("helpdesk.ticket", [])[0]
    with pytest.raises(OdooAccessDenied):
        client.call("helpdesk.ticket", "_compute_display_name", [[ticket_id]])
    simulator.state.delete_ticket(ticket_id)
    with pytest.raises(OdooRecordGone):
        client.write("helpdesk.ticket", [ticket_id], {"priority": "3"})
    with pytest.raises(OdooRejected):
        client.search_read("helpdesk.ticket", [], ["no_such_field"], limit=1)


@BOTH_PROTOCOLS
def test_a_502_page_is_retried_with_backoff_then_reported(simulator):
    sleeps = []
    client = OdooClient(config_for(simulator), sleep=sleeps.append)
    client.login()
    simulator.faults.set("http_502")
    with pytest.raises(OdooUnavailable) as error:
        client.search("helpdesk.ticket", [])
    assert "502" in error.value.message
    assert sleeps == [0.01, 0.02]  # two retries, doubling


@BOTH_PROTOCOLS
def test_odoo_coming_back_during_the_retries_succeeds(simulator):
    client = OdooClient(config_for(simulator), sleep=lambda s: simulator.faults.clear())
    client.login()
    simulator.faults.set("http_502")
    assert client.search("helpdesk.ticket", [])


@BOTH_PROTOCOLS
def test_refused_connection_and_timeout_are_unavailable(simulator):
    client = OdooClient(config_for(simulator, timeout=0.5, retries=0))
    client.login()
    simulator.faults.set("hang")
    with pytest.raises(OdooUnavailable, match="in time"):
        client.search("helpdesk.ticket", [])
    simulator.faults.set("refuse")
    with pytest.raises(OdooUnavailable):
        client.search("helpdesk.ticket", [])
    simulator.faults.clear()


@BOTH_PROTOCOLS
def test_message_post_is_not_retried_after_a_failure(simulator):
    sleeps = []
    client = OdooClient(config_for(simulator), sleep=sleeps.append)
    client.login()
    ticket_id = client.search("helpdesk.ticket", [])[0]
    simulator.faults.set("http_502")
    with pytest.raises(OdooUnavailable):
        client.message_post("helpdesk.ticket", ticket_id, body="<p>hello</p>")
    assert sleeps == []  # the outbox decides, after checking whether Odoo applied it


@pytest.mark.parametrize("simulator", [*FLAVOURS, ("enterprise", 19), ("oca", 19)], indirect=True,
                         ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_detects_flavour_version_and_sla_model(simulator):
    client = OdooClient.connect(config_for(simulator))
    schema = detect_schema(client)
    flavour, version = simulator.state.flavour, simulator.state.version
    assert schema.flavour == (ENTERPRISE if flavour == "enterprise" else OCA)
    assert schema.major_version == version
    if flavour == "enterprise":
        assert schema.sla_model == "helpdesk.sla.status" and schema.ticket_fields["reference"] == "ticket_ref"
    elif version == 16:
        assert schema.sla_model == "" and "sla_deadline" in schema.ticket_fields
    else:
        assert schema.sla_model == "helpdesk.ticket.sla" and schema.ticket_fields["reference"] == "number"
    # Every field the sync will ask for exists on this server.
    client.search_read("helpdesk.ticket", [], schema.ticket_read_fields(), limit=1)


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 18), ("oca", 19)], indirect=True,
                         ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_a_portal_integration_user_is_refused_at_login_in_plain_words(simulator):
    simulator.state.set_user_share(simulator.state.integration_uid, True)
    with pytest.raises(OdooUserNotInternal) as error:
        OdooClient.connect(config_for(simulator))
    assert error.value.message == (
        "Odoo's user console@example.com (ODOO_USER) is a portal user, not an internal user: Odoo would "
        "show the console's notes as escaped HTML and hide tickets from it. In Odoo, set that user's type "
        "to Internal User (Settings > Users), or use another user."
    )
    simulator.state.set_user_share(simulator.state.integration_uid, False)
    # JSON-2: /web/version, context, one read; JSON-RPC: the look for JSON-2, version, login, context, a read
    assert OdooClient.connect(config_for(simulator)).rpc_calls == (3 if json2(simulator) else 5)


@BOTH_PROTOCOLS
def test_network_failures_are_told_in_plain_words(simulator):
    """The system's "[Errno 111] Connection refused" is for the log; people read what it means."""
    client = OdooClient.connect(config_for(simulator, retries=0))
    simulator.faults.set("refuse")
    with pytest.raises(OdooUnavailable) as error:
        client.search_read("helpdesk.ticket", [], ["name"], limit=1)
    assert error.value.message.startswith("Odoo refused the connection")
    assert "Errno" not in error.value.message and "111" not in error.value.message


@BOTH_PROTOCOLS
def test_a_concurrent_update_in_odoo_is_told_in_plain_words(simulator):
    client = OdooClient.connect(config_for(simulator, retries=0))
    ticket_id = client.search("helpdesk.ticket", [])[0]
    simulator.faults.set("fail_writes")
    with pytest.raises(OdooRejected) as error:
        client.write("helpdesk.ticket", [ticket_id], {"priority": "3"})
    assert "another change to the same ticket" in error.value.message
    assert "serialize" not in error.value.message
