"""Malformed requests, as a team lead, a logged-in stranger and an anonymous visitor would send them:
every route with malformed ids, wrong methods, no CSRF token, out-of-range and huge numbers, NUL, 100 kB
of text, impossible dates and time zones, bad tokens and ETags.

None may answer 5xx or echo what it was sent unescaped; those without the right change nothing (no
outbox row, so nothing reaches Odoo; no escalation, event, audit entry or notice); and whatever a lead
sent, the shared pages still answer for everybody afterwards."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations.models import AuditEntry, Escalation, EscalationEvent, Notice, OdooAction
from tests.factories import AgentFactory, UserFactory
from tests.malformed import BAD_DATES, BAD_IDS, BAD_NUMBERS, BAD_TEXTS, MARK, check
from tests.outbox_helpers import make_lead
from tests.wall_factories import escalated_ticket, sync_state, wall_display

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]
ACTIONS = ["accept", "reassign", "deescalate", "escalate", "note"]


def snapshot() -> tuple:
    """What a request without the right must leave as it was."""
    return (
        list(OdooAction.objects.order_by("pk").values_list("pk", "state")),
        list(Escalation.objects.order_by("pk").values_list("pk", "level_id", "accepted_by_id", "ended_at")),
        EscalationEvent.objects.count(), AuditEntry.objects.count(), Notice.objects.count(),
    )


@pytest.fixture
def world(lead):
    """A ticket escalated in a team the lead leads, one in another team, and a wall display."""
    sync_state(last_success_at=None)
    mine = escalated_ticket()
    theirs = escalated_ticket()
    make_lead(lead, teams=[mine.ticket.team], agent=AgentFactory())
    display, token = wall_display(name="Room")
    return {"mine": mine, "theirs": theirs, "token": token, "level": mine.level.pk,
            "agent": mine.ticket.assignee_id or AgentFactory().pk, "team": mine.ticket.team_id}


@pytest.fixture
def clients(lead, world):
    """The cast, each with a client that checks CSRF as a browser's session would be checked."""
    as_lead, stranger, anonymous = (Client(enforce_csrf_checks=False) for _ in range(3))
    as_lead.force_login(lead)
    stranger.force_login(UserFactory(username="stranger"))
    return {"lead": as_lead, "stranger": stranger, "anonymous": anonymous}


def id_routes(world) -> list[str]:
    """Every route that takes an id, with a placeholder for the id."""
    ticket_routes = ["tickets/{}/", "tickets/{}/row/", *(f"tickets/{{}}/form/{k}/" for k in ACTIONS),
                     *(f"tickets/{{}}/{k}/" for k in ACTIONS)]
    return ["/" + r for r in ticket_routes + ["actions/{}/confirm/", "actions/{}/cancel/"]]


def action_bodies(world) -> list[dict]:
    """POST bodies for the action endpoints: each field malformed in turn, the others valid."""
    valid = {"agent": world["agent"], "team": world["team"], "level": world["level"], "reason": "why",
             "body": "a note", "note": "a note", "seen_write_date": "2026-11-25T09:00:00Z"}
    bodies = [{}, valid]
    for name, values in (("agent", BAD_NUMBERS), ("team", BAD_NUMBERS), ("level", BAD_NUMBERS),
                         ("reason", BAD_TEXTS), ("body", BAD_TEXTS), ("note", BAD_TEXTS),
                         ("seen_write_date", BAD_DATES), ("step_down", ["yes", "\x00", MARK])):
        bodies += [{**valid, name: value} for value in values]
    return bodies


def test_no_route_answers_5xx_to_malformed_ids_and_methods(world, clients):
    before = snapshot()
    requests = 0
    for client, route, bad_id, method in itertools.product(
        clients.values(), id_routes(world), BAD_IDS, ["get", "post", "delete"]
    ):
        check(getattr(client, method)(route.format(bad_id)))
        requests += 1
    assert snapshot() == before  # nothing at those ids, so nothing changes whoever asks
    assert requests > 800


def test_strangers_and_visitors_change_nothing_whatever_they_send(world, clients):
    own = world["mine"].ticket.pk
    before = snapshot()
    for who in ("stranger", "anonymous"):
        client = clients[who]
        for kind, body, method in itertools.product(ACTIONS, action_bodies(world), METHODS):
            url = f"/tickets/{own}/{kind}/"
            send = getattr(client, method)
            response = send(url, body) if method == "post" else send(url)
            check(response, sent=str(body))
            # Sent to the login, refused, not found, wrong method, or a NUL refused before any view.
            assert response.status_code in (302, 400, 403, 404, 405), (who, kind, method)
    assert snapshot() == before


def test_a_lead_gets_clear_answers_to_malformed_actions_and_nothing_breaks(world, clients):
    client = clients["lead"]
    own = world["mine"].ticket.pk
    for kind, body in itertools.product(ACTIONS, action_bodies(world)):
        check(client.post(f"/tickets/{own}/{kind}/", body, HTTP_HX_REQUEST="true"), sent=str(body))
        check(client.post(f"/tickets/{own}/{kind}/", body), sent=str(body))
    # Whatever that lead sent, the shared pages still answer, for the lead and for the others.
    assert_pages_answer(world, clients)


def test_without_a_csrf_token_no_action_is_taken(world, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    before = snapshot()
    for kind in ACTIONS:
        response = client.post(f"/tickets/{world['mine'].ticket.pk}/{kind}/", {"reason": "r", "body": "b"})
        assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("name", ["page", "team", "level", "sla", "mine", "tab", "since"])
def test_queue_and_list_filters_take_any_value(world, clients, name):
    for client in clients.values():
        for value in BAD_NUMBERS + BAD_TEXTS[:2] + [MARK]:
            for page in ("/", "/tickets/"):
                check(client.get(page, {name: value}), sent=value)
                check(client.get(page, {name: value}, HTTP_HX_REQUEST="true"), sent=value)


def test_the_agent_picker_takes_any_text(world, clients):
    for value in BAD_TEXTS + [MARK, "%", "_", "'", "\\"]:
        for param in ("q", "for"):
            check(clients["lead"].get("/agents/", {param: value}), sent=value)


def test_the_feed_and_the_wall_take_any_token_limit_team_and_etag(world, clients, settings):
    anonymous = clients["anonymous"]
    # Every bad token here is a guess; past the limit all would be a 429, and their parsing untried.
    settings.WALL_TOKEN_GUESS_LIMIT = 10_000
    assert anonymous.get(f"/wall/{world['token']}/").status_code == 302  # the screen's pass, for its polls
    for value in BAD_NUMBERS + BAD_TEXTS[:2] + ["x" * 5_000, world["token"] + "x"]:
        check(anonymous.get("/api/queue/", {"token": value}))
        check(anonymous.get("/api/queue/", HTTP_AUTHORIZATION=f"Bearer {value}"))
        check(anonymous.get("/api/queue/", {"token": world["token"], "limit": value}))
        check(clients["lead"].get("/api/queue/", {"team": value, "limit": value}))
        check(anonymous.get("/api/queue/", {"token": world["token"]}, HTTP_IF_NONE_MATCH=value))
        if "/" not in value and value.strip():
            check(anonymous.get(f"/wall/{value}/"), sent=value)
            check(anonymous.get("/wall/", {"v": value, "page_seconds": value}, HTTP_HX_REQUEST="true"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_in_any_field_is_answered_without_5xx(world, clients, text):
    own = world["mine"].ticket.pk
    lead = clients["lead"]
    check(lead.get("/", {"team": text, "level": text, "sla": text, "page": text, "since": text}), sent=text)
    check(lead.get("/agents/", {"q": text}), sent=text)
    check(lead.post(f"/tickets/{own}/note/", {"body": text}, HTTP_HX_REQUEST="true"), sent=text)
    check(lead.post(f"/tickets/{own}/deescalate/", {"reason": text, "seen_write_date": text}), sent=text)


def assert_pages_answer(world, clients):
    for who in ("lead", "stranger"):
        for page in ("/", "/tickets/", f"/tickets/{world['mine'].ticket.pk}/"):
            response = clients[who].get(page)
            assert response.status_code == 200, (who, page, response.status_code)
    entered = clients["anonymous"].get(f"/wall/{world['token']}/")
    assert entered.status_code == 302 and clients["anonymous"].get(entered["Location"]).status_code == 200
    assert clients["anonymous"].get("/api/queue/", {"token": world["token"]}).status_code == 200


FORGED_PAGE_DATES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1900-01-01T00:00Z"]


@pytest.mark.parametrize("seen", FORGED_PAGE_DATES)
def test_a_page_date_out_of_any_sane_range_is_refused_and_breaks_no_page(world, clients, seen):
    """A forged `seen_write_date` in year 1 with a +05:00 offset is a date BC to PostgreSQL, and year
    9999 with -05:00 is year 10000: stored, every page reading that action would fail for everyone."""
    before = snapshot()
    response = clients["lead"].post(f"/tickets/{world['mine'].ticket.pk}/accept/", {"seen_write_date": seen},
                                    HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "reload" in response.content.decode().lower()
    assert snapshot() == before
    assert_pages_answer(world, clients)
