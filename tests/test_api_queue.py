"""GET /api/queue/: the same queue as JSON, for a display token or a logged-in user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from escalations.engine.lifecycle import escalation_accept
from tests.factories import TeamFactory
from tests.stamp_helpers import raised, tables_read
from tests.wall_factories import escalated_ticket, sync_state, wall_display

pytestmark = pytest.mark.django_db

URL = reverse("api-queue")


@pytest.fixture
def synced(db):
    sync_state(last_success_at=timezone.now())


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- who may read it --------------------------------------------------------------------------------


def test_no_credentials_is_a_401_in_json(client):
    response = client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_a_401(client):
    response = client.get(URL, headers=bearer("nope"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_a_revoked_token_is_a_403_in_json(client):
    display, token = wall_display()
    display.revoke()

    response = client.get(URL, headers=bearer(token))

    assert response.status_code == 403
    assert response.json() == {"error": "revoked", "message": "This display token was revoked."}


def test_a_token_works_in_the_header_and_in_the_query(client, synced):
    _, token = wall_display()
    assert client.get(URL, headers=bearer(token)).status_code == 200
    assert client.get(URL, {"token": token}).status_code == 200


def test_a_logged_in_user_reads_it_without_a_token(client, lead, synced):
    client.force_login(lead)
    assert client.get(URL).status_code == 200


# -- what it says ----------------------------------------------------------------------------------


def test_the_json_has_the_counts_and_a_row_per_escalation(client, synced, lead):
    escalation = escalated_ticket(left=-timedelta(minutes=5), customer="Acme Corp",
                                  accepted_by=lead, accepted_at=timezone.now())
    escalated_ticket(left=timedelta(minutes=30))
    _, token = wall_display()

    data = client.get(URL, headers=bearer(token)).json()

    assert set(data) == {"version", "generated_at", "team", "counts", "total", "limit", "sync", "rows"}
    assert data["counts"]["total"] == 2 and data["counts"]["breached"] == 1 and data["counts"]["at_risk"] == 1
    assert data["team"] is None and data["total"] == 2
    assert data["sync"]["stale"] is False and data["sync"]["odoo_unreachable"] is False
    row = data["rows"][0]
    ticket = escalation.ticket
    assert row == {
        "ticket_id": ticket.pk, "reference": ticket.reference, "title": ticket.name, "customer": "Acme Corp",
        "team": {"id": ticket.team.pk, "name": ticket.team.name},
        "level": {"number": 1, "name": "Team lead"},
        "trigger": {"key": "sla_at_risk", "label": "SLA at risk"},
        "assignee": {"id": ticket.assignee.pk, "name": ticket.assignee.name},
        "priority": "1", "stage": ticket.stage.name, "sla": "breached",
        "deadline": row["deadline"], "seconds_left": row["seconds_left"],
        "waiting_since": None, "accepted_by": "Lena Lead",
        "odoo_url": f"http://127.0.0.1:8069/web#id={ticket.pk}&model=helpdesk.ticket&view_type=form",
    }
    assert row["deadline"].endswith("Z")
    assert datetime.fromisoformat(row["deadline"]) == ticket.clock.deadline.astimezone(UTC)
    assert -320 < row["seconds_left"] <= -298
    assert data["rows"][1]["waiting_since"].endswith("Z")
    assert "@" not in str(data)  # names only; the customer's email stays out


def test_a_display_token_sees_only_its_team(client, synced):
    billing, tech = TeamFactory(name="Billing"), TeamFactory(name="Technical support")
    ours = escalated_ticket(team=billing)
    escalated_ticket(team=tech)
    _, token = wall_display(team=billing)

    data = client.get(URL, headers=bearer(token)).json()

    assert [row["ticket_id"] for row in data["rows"]] == [ours.ticket.pk]
    assert data["counts"]["total"] == 1
    assert data["team"] == {"id": billing.pk, "name": "Billing"}


def test_a_display_token_cannot_widen_its_scope(client, synced):
    billing, tech = TeamFactory(), TeamFactory()
    escalated_ticket(team=tech)
    _, token = wall_display(team=billing)

    data = client.get(URL, {"team": tech.pk}, headers=bearer(token)).json()

    assert data["rows"] == [] and data["counts"]["total"] == 0


def test_a_user_sees_every_team_or_the_one_asked_for(client, lead, synced):
    billing, tech = TeamFactory(), TeamFactory()
    ours, theirs = escalated_ticket(team=billing), escalated_ticket(team=tech)
    client.force_login(lead)

    everything = client.get(URL).json()
    one = client.get(URL, {"team": billing.pk}).json()

    assert {row["ticket_id"] for row in everything["rows"]} == {ours.ticket.pk, theirs.ticket.pk}
    assert [row["ticket_id"] for row in one["rows"]] == [ours.ticket.pk]


@pytest.mark.parametrize("params, status", [
    ({"team": "999999"}, 404), ({"team": "x"}, 404), ({"team": "99999999999999999999"}, 404),
    ({"limit": "0"}, 400), ({"limit": "501"}, 400), ({"limit": "ten"}, 400),
])
def test_bad_parameters_are_clear_json_errors(client, lead, synced, params, status):
    client.force_login(lead)
    response = client.get(URL, params)
    assert response.status_code == status and "message" in response.json()


def test_limit_caps_the_rows_not_the_counts(client, lead, synced):
    for _ in range(3):
        escalated_ticket()
    client.force_login(lead)

    data = client.get(URL, {"limit": "2"}).json()

    assert len(data["rows"]) == 2 and data["counts"]["total"] == 3 and data["limit"] == 2


def test_a_stale_sync_is_said_in_the_json(client, lead, settings):
    settings.WALL_STALE_AFTER_SECONDS = 180
    sync_state(last_success_at=timezone.now() - timedelta(minutes=10), last_error="down")
    client.force_login(lead)

    sync = client.get(URL).json()["sync"]

    assert sync["stale"] is True and sync["odoo_unreachable"] is True


# -- conditional requests ------------------------------------------------------------------------------


def test_an_unchanged_queue_is_a_304_for_its_etag(client, synced):
    escalated_ticket()
    _, token = wall_display()
    first = client.get(URL, headers=bearer(token))
    etag = first["ETag"]
    assert etag == f'W/"{first.json()["version"]}"'
    assert first["Cache-Control"] == "private, no-cache"

    again = client.get(URL, headers={**bearer(token), "If-None-Match": etag})

    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag


def test_a_change_gives_a_new_etag_and_the_body(client, synced):
    escalated_ticket()
    _, token = wall_display()
    etag = client.get(URL, headers=bearer(token))["ETag"]
    raised(escalated_ticket(left=-timedelta(minutes=1)))

    response = client.get(URL, headers={**bearer(token), "If-None-Match": etag})

    assert response.status_code == 200 and response["ETag"] != etag
    assert response.json()["counts"]["total"] == 2


def start_of_a_minute():
    """A moment the next 59 seconds of which share its minute, which the change stamp holds."""
    return timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.mark.parametrize("escalations", [5, 60])
def test_the_feed_costs_the_queries_the_readme_quotes(client, synced, escalations, django_assert_num_queries):
    for minutes in range(escalations):
        escalated_ticket(left=timedelta(minutes=minutes - 10))
    _, token = wall_display()
    start = start_of_a_minute()

    # token, last seen (written at most once a minute), change stamp, sync health, the queue's counts, the
    # page's ids, its rows, write-backs
    with time_machine.travel(start, tick=False), django_assert_num_queries(8):
        response = client.get(URL, {"limit": "100"}, headers=bearer(token))
    assert len(response.json()["rows"]) == escalations
    with time_machine.travel(start + timedelta(seconds=10), tick=False), django_assert_num_queries(7):
        assert len(client.get(URL, {"limit": "100"}, headers=bearer(token)).json()["rows"]) == escalations
    # Unchanged, asked with its ETag: the token and the change stamp, and nothing of the queue.
    with (time_machine.travel(start + timedelta(seconds=20), tick=False),
          django_assert_num_queries(2) as polled):
        again = client.get(URL, {"limit": "100"},
                           headers={**bearer(token), "If-None-Match": response["ETag"]})
    assert again.status_code == 304 and again["ETag"] == response["ETag"]
    assert tables_read(polled.captured_queries) == {
        "escalations_walldisplay", "escalations_team",  # the token
        "escalations_escalationevent", "escalations_odooaction", "escalations_syncstate",  # the stamp
    }


def test_the_etag_moves_with_an_accept_the_request_and_the_minute(client, synced, lead):
    escalation = raised(escalated_ticket(left=-timedelta(minutes=5)))
    _, token = wall_display()
    start = start_of_a_minute()

    def get(etag, seconds, **params):
        with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
            return client.get(URL, params, headers={**bearer(token), "If-None-Match": etag})

    etag = get("", 0)["ETag"]
    assert get(etag, 5).status_code == 304
    assert get(etag, 5, limit="10").status_code == 200  # another question, another answer
    escalation_accept(escalation=escalation, user=lead)
    accepted = get(etag, 10)
    assert accepted.status_code == 200 and accepted.json()["rows"][0]["accepted_by"] == "Lena Lead"
    etag = accepted["ETag"]
    assert get(etag, 59).status_code == 304
    assert get(etag, 61).status_code == 200  # SLA states turn with time alone: once a minute, re-read


def test_a_logged_in_users_unchanged_feed_costs_the_user_and_the_stamp(client, lead, synced,
                                                                       django_assert_num_queries):
    """The session comes from the cache (cached_db): the user row and the stamp."""
    escalated_ticket()
    client.force_login(lead)
    start = start_of_a_minute()
    with time_machine.travel(start, tick=False):
        etag = client.get(URL)["ETag"]
    with (time_machine.travel(start + timedelta(seconds=10), tick=False),
          django_assert_num_queries(2) as polled):
        assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    assert "escalations_escalation" not in tables_read(polled.captured_queries)
