"""Webhooks end to end: the rule installed in the simulator with `manage.py odoo_webhooks`, a ticket
edited in Odoo, the simulator's post to the console (served by a live server), a real Celery worker on
Redis reading the ticket, and the JSON feed showing the change, without any sync. Odoo 17 (sent before
the commit) and 19 (after)."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from escalations.engine import evaluate_escalations
from escalations.models import Escalation, OdooHook, SyncState, Team, Ticket
from escalations.odoo.client import OdooClient
from escalations.odoo.simulator.seed import build_state
from escalations.odoo.simulator.server import SimulatorServer
from escalations.push.odoo_rule import RULE_NAME
from escalations.sync.run import sync_odoo
from tests.conftest import API_KEY, T0
from tests.factories import EscalationPolicyFactory
from tests.wall_factories import wall_display
from tests.workers import start_worker, stop_worker, wait_for, worker_broker_url

ADMIN_KEY = "odoo-admin-key-for-the-tests"

pytestmark = pytest.mark.django_db(transaction=True)


def _start(version: int) -> SimulatorServer:
    state = build_state(version=version, seed=7, tickets=60, api_key=API_KEY, now=T0, admin_api_key=ADMIN_KEY)
    return SimulatorServer(state, host="127.0.0.1", port=0).start()


@pytest.fixture
def odoo_push(request, settings, live_server):
    """A simulator (version from the test's parameter) with an administrator's key, the app pointed at it
    and at the live server for DASHBOARD_BASE_URL, and the mirror synced once."""
    server = _start(getattr(request, "param", 17))
    settings.ODOO_URL = settings.ODOO_WEB_URL = server.url
    settings.ODOO_DB = server.state.db_name
    settings.ODOO_USER = "console@example.com"
    settings.ODOO_API_KEY = API_KEY
    settings.ODOO_TIMEOUT = 5
    settings.DASHBOARD_BASE_URL = live_server.url
    sync_odoo(full=True)
    yield server
    server.stop()


@pytest.fixture
def worker(odoo_push, tmp_path):
    env = {"CELERY_BROKER_URL": worker_broker_url(), "ODOO_URL": odoo_push.url, "ODOO_DB": "helpdesk",
           "ODOO_USER": "console@example.com", "ODOO_API_KEY": API_KEY, "ODOO_TIMEOUT": "5",
           "VAR_DIR": str(tmp_path)}
    with open(tmp_path / "worker.log", "w") as log:
        process = start_worker(env, log=log)  # no beat: nothing syncs but what the test does
        yield process
        stop_worker(process)


def escalate_everything() -> list[int]:
    """Every open ticket escalated (no update for a minute: the seed's are days old); their ids."""
    for team in Team.objects.all():
        EscalationPolicyFactory(team=team, no_update_after=timedelta(minutes=1))
    evaluate_escalations()
    return sorted(Escalation.objects.filter(ended_at__isnull=True).values_list("ticket_id", flat=True))


def feed_title(live_server, token: str, odoo_id: int) -> str | None:
    request = urllib.request.Request(f"{live_server.url}/api/queue/?limit=500",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        rows = json.load(response)["rows"]
    return next((row["title"] for row in rows if row["ticket_id"] == odoo_id), None)


def an_agent(state) -> int:
    """An agent's Odoo user: neither the console nor the administrator."""
    return next(uid for uid, user in sorted(state.store.tables["res.users"].items())
                if user["active"] and uid not in (state.integration_uid, state.admin_uid, 1))


@pytest.mark.celery_worker
@pytest.mark.parametrize("odoo_push", [17, 19], indirect=True)
def test_an_edit_in_odoo_reaches_the_json_feed_through_the_webhook_without_a_sync(odoo_push, worker,
                                                                                 live_server):
    state = odoo_push.state
    call_command("odoo_webhooks", "install", admin_key=ADMIN_KEY, stdout=open("/dev/null", "w"))
    odoo_id = escalate_everything()[0]
    _, token = wall_display()
    synced = SyncState.load()
    assert feed_title(live_server, token, odoo_id) == Ticket.objects.get(odoo_id=odoo_id).name

    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "Pushed by Odoo's webhook"}],
               uid=an_agent(state))

    assert wait_for(lambda: feed_title(live_server, token, odoo_id) == "Pushed by Odoo's webhook", 20), \
        "the change never reached the feed"
    now = SyncState.load()
    # No sync ran: the cursor and the sync's stamps are where the first sync left them.
    assert (now.cursor_write_date, now.cursor_odoo_id, now.last_success_at) == (
        synced.cursor_write_date, synced.cursor_odoo_id, synced.last_success_at)
    assert OdooHook.objects.get(revoked_at__isnull=True).last_used_at is not None
    sent = state.webhooks.describe()["sent"]
    assert sent == 1

    # The console's own write-back is left out by the rule's filter: no webhook, no read.
    console = OdooClient.connect()
    console.write("helpdesk.ticket", [odoo_id], {"name": "Written by the console"})
    state.call("helpdesk.ticket", "write", [[odoo_id + 1], {"priority": "2"}], uid=an_agent(state))
    assert wait_for(lambda: state.webhooks.describe()["sent"] == sent + 1, 10)
    assert [o.record_id for o in state.webhooks.outcomes] == [odoo_id, odoo_id + 1]


@pytest.mark.celery_worker
def test_odoo_17s_post_before_the_commit_still_ends_with_the_right_values(odoo_push, worker, live_server):
    """Odoo 17 posts while its transaction is still open: here it stays open 2.5 s more, so the read
    made at once sees the old name; the second read, a few seconds later, brings the new one."""
    state = odoo_push.state
    call_command("odoo_webhooks", "install", admin_key=ADMIN_KEY, stdout=open("/dev/null", "w"))
    odoo_id = escalate_everything()[0]
    old = Ticket.objects.get(odoo_id=odoo_id).name
    state.set_webhook_commit_delay(2.5)

    started = time.monotonic()
    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "Committed after the post"}],
               uid=an_agent(state))
    committed = time.monotonic()
    assert committed - started >= 2.5  # the write held its transaction open that long
    assert Ticket.objects.get(odoo_id=odoo_id).name == old  # the first read saw the ticket unchanged

    assert wait_for(lambda: Ticket.objects.get(odoo_id=odoo_id).name == "Committed after the post", 15)
    assert time.monotonic() - started < 8  # the re-read, not a sync (none runs here)


# -- the command ---------------------------------------------------------------------------------------


def run(*args, **options) -> str:
    from io import StringIO

    out = StringIO()
    call_command("odoo_webhooks", *args, stdout=out, **options)
    return out.getvalue()


def rules(state) -> list[dict]:
    return state.call("base.automation", "search_read", [[]], {"fields": ["name", "filter_domain", "active"]})


@pytest.mark.parametrize("odoo_push", [17, 19], indirect=True)
def test_install_is_idempotent_and_status_and_remove_show_and_undo_it(odoo_push, client):
    state = odoo_push.state
    first = run("install", admin_key=ADMIN_KEY)
    assert "Installed: Odoo rule #" in first and API_KEY not in first and ADMIN_KEY not in first
    hook = OdooHook.objects.get()
    again = run("install", admin_key=ADMIN_KEY)
    assert "Already installed" in again
    assert [r["name"] for r in rules(state)] == [RULE_NAME]
    assert OdooHook.objects.filter(revoked_at__isnull=True).get() == hook  # the same address
    (rule,) = rules(state)
    assert rule["filter_domain"] == f"[('write_uid', '!=', {state.integration_uid})]"
    (action,) = state.call("ir.actions.server", "search_read", [[]], {"fields": ["state", "webhook_url"]})
    assert action["state"] == "webhook" and action["webhook_url"].startswith(odoo_push_url(client))

    status = run("status", admin_key=ADMIN_KEY)
    assert f"rule #{rule['id']}" in status and "a live console address" in status
    assert hook.token_prefix in status and action["webhook_url"] not in status  # the token, masked
    assert "give an administrator's key" in run("status")  # without one: the console's side only

    removed = run("remove", admin_key=ADMIN_KEY)
    assert "Removed Odoo rule" in removed
    assert rules(state) == [] and state.call("ir.actions.server", "search", [[]]) == []
    path = urlsplit(action["webhook_url"]).path
    assert client.post(path, data=b"{}", content_type="application/json").status_code == 404


def odoo_push_url(client) -> str:
    from django.conf import settings

    return f"{settings.DASHBOARD_BASE_URL}/hooks/odoo/"


def test_install_repairs_a_rule_whose_address_is_no_longer_the_consoles(odoo_push):
    state = odoo_push.state
    run("install", admin_key=ADMIN_KEY)
    old = OdooHook.objects.get()
    state.call("base.automation", "write", [[rules(state)[0]["id"]], {"active": False}], uid=state.admin_uid)
    old.revoked_at = old.created_at
    old.save()

    assert "Installed" in run("install", admin_key=ADMIN_KEY)
    (rule,) = rules(state)
    new = OdooHook.objects.get(revoked_at__isnull=True)
    assert rule["active"] and new != old


def test_a_key_without_the_right_is_refused_clearly(odoo_push):
    with pytest.raises(CommandError) as refused:
        run("install", admin_key=API_KEY, admin_login="console@example.com")
    message = str(refused.value)
    assert "may not manage automation rules" in message and "administrator's API key" in message
    assert "console@example.com" in message and API_KEY not in message
    assert rules(odoo_push.state) == [] and not OdooHook.objects.filter(revoked_at__isnull=True).exists()
    with pytest.raises(CommandError, match="refused the administrator's key"):
        run("install", admin_key="not-a-key")
    with pytest.raises(CommandError, match="Give an Odoo administrator's API key"):
        run("install")


def test_odoo_16_is_told_it_has_no_webhooks(settings, live_server, db):
    state = build_state(version=16, tickets=5, api_key=API_KEY, admin_api_key=ADMIN_KEY)
    server = SimulatorServer(state, host="127.0.0.1", port=0).start()
    try:
        settings.ODOO_URL, settings.ODOO_API_KEY = server.url, API_KEY
        with pytest.raises(CommandError, match="has no webhook action"):
            run("install", admin_key=ADMIN_KEY)
    finally:
        server.stop()
