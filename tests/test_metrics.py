"""/metrics: who may read it, the gauges read from the database (in an exact number of queries), the
Odoo requests and request latencies the processes count, and a worker's counts read by the web process
(prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from escalations.models import Notice, OdooAction, SyncState
from escalations.odoo.errors import OdooUnavailable
from escalations.sync.run import sync_odoo
from tests import workers
from tests.conftest import API_KEY, T0
from tests.factories import TicketFactory
from tests.queue_helpers import escalated

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-0123456789"


def scrape(client=None, **headers) -> str:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def value(text: str, name: str, **labels) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


# -- who may read ------------------------------------------------------------------------------------


def test_loopback_reads_the_metrics_and_any_other_address_is_refused(client):
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 403
    assert b"console_" not in refused.content


def test_a_request_through_a_proxy_is_not_let_in_by_the_proxys_loopback_address(client):
    """nginx on the same machine connects from 127.0.0.1 for everyone on the internet."""
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 403
    assert client.get("/metrics", HTTP_FORWARDED="for=198.51.100.7").status_code == 403


def test_the_bearer_token_lets_in_any_address_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_TOKEN = TOKEN
    away = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **away).status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x", **away).status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}", **away).status_code == 403
    assert client.get("/metrics", **away).status_code == 403


def test_without_a_token_set_an_empty_bearer_is_refused(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR="203.0.113.5").status_code == 403


def test_the_allowed_networks_are_the_settings_and_may_be_none(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is no longer in the list
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 403


def test_a_network_that_is_not_one_stops_the_settings_from_loading(tmp_path):
    from tests.test_settings import load_settings

    result = load_settings(tmp_path, METRICS_ALLOWED_NETWORKS="10.0.0.0/8,intranet")
    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS: 'intranet' is not a network" in result.stderr


# -- the gauges read from the database -----------------------------------------------------------------


def outbox_row(ticket, state, *, age):
    return OdooAction.objects.create(ticket=ticket, kind=OdooAction.Kind.NOTE, state=state,
                                     created_at=T0 - age, payload={})


def test_the_database_gauges_in_five_queries(policy, django_assert_num_queries):
    level1, level2 = policy.levels.get(number=1), policy.levels.get(number=2)
    SyncState.objects.update_or_create(pk=1, defaults={
        "last_success_at": T0 - timedelta(seconds=42), "last_error": "Odoo could not be reached",
        "beat_heartbeat_at": T0 - timedelta(seconds=7)})
    breached = escalated(level1, left=timedelta(minutes=-10))
    escalated(level1, left=timedelta(hours=3))
    escalated(level2, left=timedelta(minutes=30))
    escalated(level2, left=None)
    ended = escalated(level2, left=timedelta(minutes=-5))
    ended.ended_at = T0
    ended.save()
    ticket = TicketFactory()
    for state, age in [("queued", 30), ("queued", 90), ("awaiting_retry", 60), ("sent", 900), ("stale", 999)]:
        outbox_row(ticket if state != "queued" else TicketFactory(), state, age=timedelta(seconds=age))
    for state in ["pending", "sent", "sent"]:
        Notice.objects.create(escalation=breached, level=level1, kind="escalated", email="l@example.com",
                              state=state, created_at=T0)

    with time_machine.travel(T0, tick=False), django_assert_num_queries(5):
        text = scrape()

    assert value(text, "console_sync_age_seconds") == 42
    assert value(text, "console_sync_failing") == 1
    assert value(text, "console_beat_heartbeat_age_seconds") == 7
    assert {s: value(text, "console_outbox_actions", state=s) for s in ["queued", "awaiting_retry", "sent",
                                                                          "stale", "failed"]} == {
        "queued": 2, "awaiting_retry": 1, "sent": 1, "stale": 1, "failed": None}
    assert value(text, "console_outbox_backlog") == 3
    assert value(text, "console_outbox_oldest_pending_age_seconds") == 90
    assert value(text, "console_notices", state="pending") == 1
    assert value(text, "console_notices", state="sent") == 2
    assert value(text, "console_open_escalations", level="1", sla="breached") == 1
    assert value(text, "console_open_escalations", level="1", sla="on_track") == 1
    assert value(text, "console_open_escalations", level="2", sla="at_risk") == 1
    assert value(text, "console_open_escalations", level="2", sla="none") == 1
    assert value(text, "console_open_escalations", level="2", sla="breached") is None  # ended


def test_an_empty_console_has_no_sync_age_and_nothing_pending(django_assert_num_queries):
    with django_assert_num_queries(5):
        text = scrape()
    assert "console_sync_age_seconds" in text and value(text, "console_sync_age_seconds") is None
    assert value(text, "console_outbox_oldest_pending_age_seconds") == 0
    assert value(text, "console_outbox_backlog") == 0


# -- what the processes count ----------------------------------------------------------------------


def test_each_odoo_request_is_counted_by_method_and_each_failure_by_kind(odoo):
    before = scrape()
    result = sync_odoo(full=True)
    after = scrape()

    def delta(name, **labels):
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    methods = {s.labels["method"] for f in text_string_to_metric_families(after) for s in f.samples
               if s.name == "console_odoo_rpc_calls_total"}
    assert {"login", "search_read"} <= methods
    assert sum(delta("console_odoo_rpc_calls_total", method=m) for m in methods) == result.rpc_calls
    assert delta("console_odoo_rpc_calls_total", method="login") == 3  # version, login, user context

    odoo.faults.set("refuse")
    with pytest.raises(OdooUnavailable):
        sync_odoo()
    odoo.faults.clear()
    failed = scrape()
    unavailable = [value(text, "console_odoo_rpc_errors_total", kind="OdooUnavailable") or 0
                   for text in (after, failed)]
    assert unavailable[1] - unavailable[0] == 4  # a try and 3 retries


def test_request_latency_is_labelled_by_the_view_never_by_the_path(client):
    def count(text, view, method="GET"):
        return value(text, "console_http_request_duration_seconds_count", view=view, method=method) or 0

    before = scrape()
    client.get("/healthz")
    client.get("/tickets/4711/")  # a login redirect, still that view's request
    client.get("/wall/not-a-token/")
    client.get("/no/such/page/")
    after = scrape()
    assert count(after, "healthz") - count(before, "healthz") == 1
    assert count(after, "ticket") - count(before, "ticket") == 1
    assert count(after, "unresolved") - count(before, "unresolved") == 1
    # No label holds a piece of the paths (a number may: a timestamp can hold the digits 4711).
    labels = {v for family in text_string_to_metric_families(after) for sample in family.samples
              for v in sample.labels.values()}
    assert not any(part in label for label in labels for part in ("4711", "not-a-token", "no/such"))
    assert {"healthz", "ticket", "unresolved"} <= labels


# -- a worker's counts, read by the web process -------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_workers_syncs_and_odoo_requests_show_in_the_web_processs_metrics_and_readyz_turns_green(
    odoo, tmp_path, settings, client
):
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        "CELERY_BROKER_URL": workers.worker_broker_url(), "ODOO_URL": odoo.url,
        "ODOO_DB": odoo.state.db_name, "ODOO_API_KEY": API_KEY, "VAR_DIR": str(tmp_path),
        "SYNC_INTERVAL_SECONDS": "2", "BEAT_HEARTBEAT_SECONDS": "1", "ENGINE_INTERVAL_SECONDS": "3600",
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
    }
    assert client.get("/readyz").status_code == 503  # nothing synced, no heartbeat yet
    with open(tmp_path / "worker.log", "w") as log:
        worker = workers.start_worker(env, beat_schedule=tmp_path / "beat-schedule", log=log)
        try:
            assert workers.wait_for(lambda: SyncState.objects.filter(
                last_success_at__isnull=False, beat_heartbeat_at__isnull=False).exists())
            settings.PROMETHEUS_MULTIPROC_DIR = str(shared)
            assert workers.wait_for(lambda: (value(scrape(), "console_sync_duration_seconds_count",
                                                   kind="incremental") or 0) >= 1)
        finally:
            workers.stop_worker(worker)
    text = scrape()
    assert value(text, "console_odoo_rpc_calls_total", method="search_read") > 0
    assert value(text, "console_odoo_rpc_calls_total", method="login") >= 3
    assert value(text, "console_sync_age_seconds") is not None  # the database's gauges are still there
    response = client.get("/readyz")
    assert response.status_code == 200, response.content


def test_an_empty_multiprocess_folder_stops_the_settings_from_loading(tmp_path):
    """prometheus-client would write its files into the working folder."""
    from tests.test_settings import load_settings

    result = load_settings(tmp_path, PROMETHEUS_MULTIPROC_DIR="")
    assert result.returncode != 0 and "PROMETHEUS_MULTIPROC_DIR is empty" in result.stderr
