"""/healthz and /readyz: what a probe and an operator's monitoring read, with no login and no secret.

The broker check connects to the real broker of the run (Redis in CI, CELERY_BROKER_URL), and to a
closed port for the broker that is down."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from escalations.models import OdooAction, SyncState
from escalations.tasks import beat_heartbeat
from tests.factories import TicketFactory
from tests.ports import free_port

pytestmark = pytest.mark.django_db


def fresh_state(*, synced=timedelta(seconds=10), heartbeat=timedelta(seconds=5)):
    now = timezone.now()
    SyncState.objects.update_or_create(pk=1, defaults={
        "last_success_at": now - synced if synced is not None else None,
        "beat_heartbeat_at": now - heartbeat if heartbeat is not None else None,
    })


def action(ticket, state=OdooAction.State.QUEUED, *, age=timedelta(minutes=1)):
    return OdooAction.objects.create(ticket=ticket, kind=OdooAction.Kind.NOTE, state=state,
                                     created_at=timezone.now() - age, payload={"note": "n"})


def readyz(client):
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response, json.loads(response.content)



def test_healthz_answers_ok_without_a_login_or_a_single_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert client.post("/healthz").status_code == 405


def test_readyz_is_ready_in_two_queries_when_the_sync_beat_and_outbox_are_fresh(
    client, django_assert_num_queries
):
    fresh_state()
    action(TicketFactory(), age=timedelta(minutes=2))
    with django_assert_num_queries(2):
        response, body = readyz(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "sync", "beat", "outbox"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["outbox"] == {"ok": True, "backlog": 1, "oldest_age_seconds": 120,
                                        "max_age_seconds": 600}
    assert body["checks"]["sync"]["age_seconds"] == 10 and body["checks"]["sync"]["max_age_seconds"] == 180


def test_a_fresh_install_is_not_ready_until_it_has_synced_and_beat_has_ticked(client):
    response, body = readyz(client)
    assert response.status_code == 503
    assert body["status"] == "failing"
    checks = body["checks"]
    assert checks["sync"] == {"ok": False, "age_seconds": None, "max_age_seconds": 180, "last_failed": False}
    assert checks["beat"]["ok"] is False and checks["beat"]["age_seconds"] is None
    assert checks["database"] == {"ok": True} and checks["outbox"]["ok"] is True

    beat_heartbeat()  # what beat sends every BEAT_HEARTBEAT_SECONDS, run as a worker runs it
    assert readyz(client)[1]["checks"]["beat"]["ok"] is True
    SyncState.objects.filter(pk=1).update(last_success_at=timezone.now())
    assert readyz(client)[0].status_code == 200


@pytest.mark.parametrize("stale", ["sync", "beat", "outbox"])
def test_readyz_fails_on_the_one_check_past_its_threshold(client, settings, stale):
    settings.READYZ_SYNC_MAX_AGE_SECONDS = 60
    settings.READYZ_BEAT_MAX_AGE_SECONDS = 30
    settings.READYZ_OUTBOX_MAX_AGE_SECONDS = 300
    fresh_state(synced=timedelta(seconds=61 if stale == "sync" else 59),
                heartbeat=timedelta(seconds=31 if stale == "beat" else 29))
    action(TicketFactory(), OdooAction.State.AWAITING_RETRY,
           age=timedelta(seconds=301 if stale == "outbox" else 299))
    response, body = readyz(client)
    assert response.status_code == 503
    assert [name for name, check in body["checks"].items() if not check["ok"]] == [stale]


def test_an_action_held_behind_one_waiting_for_a_lead_does_not_make_the_console_unready(client):
    """A stale action waits for a person to confirm it; the action after it on its ticket waits with it.
    Neither says anything about the worker or Odoo."""
    fresh_state()
    ticket = TicketFactory()
    action(ticket, OdooAction.State.STALE, age=timedelta(hours=3))
    action(ticket, OdooAction.State.QUEUED, age=timedelta(hours=2))
    response, body = readyz(client)
    assert response.status_code == 200
    assert body["checks"]["outbox"]["backlog"] == 0

    action(TicketFactory(), OdooAction.State.QUEUED, age=timedelta(hours=1))  # another ticket: stuck
    response, body = readyz(client)
    assert response.status_code == 503
    assert body["checks"]["outbox"]["backlog"] == 1 and body["checks"]["outbox"]["oldest_age_seconds"] == 3600


def test_a_broker_that_refuses_connections_fails_readyz_and_the_answer_names_no_address(client, settings):
    fresh_state()
    port = free_port()
    settings.CELERY_BROKER_URL = f"redis{'://'}:broker-password-123@127.0.0.1:{port}/10"
    response, body = readyz(client)
    assert response.status_code == 503
    assert body["checks"]["broker"] == {"ok": False}
    text = response.content.decode()
    assert "broker-password-123" not in text and str(port) not in text and "127.0.0.1" not in text


def test_readyz_shows_no_secret_of_the_settings(client, settings):
    settings.ODOO_API_KEY = "odoo-key-never-shown-1234"
    settings.SECRET_KEY = "django-secret-never-shown-1234"
    fresh_state()
    SyncState.objects.filter(pk=1).update(last_error="Odoo refused the login or API key")
    response, body = readyz(client)
    text = response.content.decode()
    assert body["checks"]["sync"]["last_failed"] is True
    assert "never-shown" not in text and "Odoo refused" not in text
