"""The wall display in Chromium: it opens with a token, its countdowns tick, it follows the database
without a reload, it ends on a revoked token, and it rides out a lost connection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from escalations.models import SyncState, Trigger
from tests.browser.conftest import transactional
from tests.factories import AgentFactory, StageFactory, TeamFactory
from tests.wall_factories import escalated_ticket, sync_state, wall_display

pytestmark = transactional

POLL = 1  # seconds between the wall's polls in these tests


@pytest.fixture
def browser_context_args():
    return {"viewport": {"width": 1920, "height": 1080}, "locale": "en-GB", "timezone_id": "UTC"}


@pytest.fixture
def fast_polls(settings):
    settings.WALL_POLL_SECONDS = POLL
    settings.WALL_STALE_AFTER_SECONDS = 180


@pytest.fixture
def support_room(db):
    """A morning in the support room: two teams, a dozen escalations in every SLA state."""
    sync_state(last_success_at=timezone.now())
    billing, tech = TeamFactory(name="Billing"), TeamFactory(name="Technical support")
    lena = User.objects.create(username="lena", first_name="Lena", last_name="Lindqvist")
    working, waiting = StageFactory(name="In progress"), StageFactory(name="Waiting for customer")
    people = [AgentFactory(name=name) for name in
              ["Marco Rossi", "Aisha Khan", "Tom Becker", "Sofia Nunes", "Kenji Watanabe"]]
    cases = [
        (tech, -timedelta(hours=19, minutes=28), "VPN drops every 10 minutes for the whole Lyon office",
         "Lumière SA", people[0], {"trigger": Trigger.SLA_BREACHED}),
        (billing, -timedelta(minutes=7, seconds=30), "Invoice INV/2026/0412 charged twice", "Northwind",
         None, {"trigger": Trigger.UNASSIGNED}),
        (tech, timedelta(minutes=12), "Checkout returns 502 after the last deploy", "Contoso Retail",
         people[1], {"accepted_by": lena, "accepted_at": timezone.now() - timedelta(minutes=3)}),
        (billing, timedelta(minutes=38), "Refund not received after cancelled order", "Fabrikam Inc",
         people[2], {}),
        (tech, timedelta(minutes=54), "SSO login loops back to the sign-in page", "Globex",
         None, {"level_number": 2, "trigger": Trigger.REOPENED}),
        (tech, timedelta(hours=2, minutes=15), "Export to CSV drops accented characters", "Initech",
         people[3], {"trigger": Trigger.MANUAL}),
        (billing, timedelta(hours=3, minutes=5), "Request for VAT number change on account", "Umbrella Corp",
         people[4], {"accepted_by": lena, "accepted_at": timezone.now() - timedelta(minutes=20)}),
        (tech, None, "Printer queue stuck on the 3rd floor", "Stark Industries", people[0], {}),
    ]
    for team, left, title, customer, assignee, extra in cases:
        level_number = extra.pop("level_number", 1)
        escalation = escalated_ticket(team=team, left=left, customer=customer, **extra)
        ticket = escalation.ticket
        ticket.name, ticket.assignee = title, assignee
        ticket.stage = waiting if left is None else working
        ticket.priority = "3" if left is not None and left < timedelta(0) else "2"
        ticket.save()
        if level_number != 1:
            escalation.level = escalation.policy.levels.get(number=level_number)
            escalation.save()
    return {"billing": billing, "tech": tech, "lena": lena}


def open_wall(page, live_server, token):
    page.goto(live_server.url + reverse("wall", args=[token]))
    expect(page.locator("[data-row]").first).to_be_visible()


def test_the_wall_opens_with_a_token_and_its_countdowns_tick(page, live_server, support_room, fast_polls,
                                                             screenshot):
    display, token = wall_display(name="Support room, north wall")
    open_wall(page, live_server, token)

    expect(page.locator("h1")).to_have_text("All teams")
    expect(page.locator(".tile-breached .tile-num")).to_have_text("2")
    first = page.locator("[data-row]").first
    expect(first).to_contain_text("VPN drops")  # the longest overdue first
    expect(first).to_contain_text("Breached")
    countdown = page.locator("[data-row] [data-deadline]").nth(2)
    before = countdown.inner_text()
    page.wait_for_timeout(1500)
    assert countdown.inner_text() != before
    expect(first.locator("[data-deadline]")).to_have_text(re.compile(r"^-19h 2[78]m \d\ds$"))
    for row in page.locator("[data-row]:visible").all():  # the longest countdown stays in its column
        clock, ticket = row.locator("[data-deadline], .no-clock").bounding_box(), row.locator(".cell-ticket")
        assert clock["x"] + clock["width"] <= ticket.bounding_box()["x"]
    screenshot(page, "wall")


def wall_requests(page) -> list:
    """The statuses of the wall's polls, as they come."""
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/wall/" in r.url else None)
    return statuses


def test_the_wall_follows_the_database_without_a_reload(page, live_server, support_room, fast_polls):
    display, token = wall_display()
    open_wall(page, live_server, token)
    page.evaluate("window.sameDocument = true")
    polls = wall_requests(page)
    expect(page.locator(".tile-total .tile-num")).to_have_text("8")
    page.wait_for_timeout(2500)
    assert 204 in polls and 200 not in polls  # nothing changed: empty answers, nothing swapped

    added = escalated_ticket(team=support_room["billing"], left=-timedelta(days=1), customer="Wayne Inc")
    first = page.locator("[data-row]").first
    expect(first).to_contain_text(added.ticket.name)  # the most overdue goes to the top
    expect(first).to_contain_text("Wayne Inc")
    expect(page.locator(".tile-total .tile-num")).to_have_text("9")
    expect(page.locator(".tile-breached .tile-num")).to_have_text("3")

    added.accepted_by, added.accepted_at = support_room["lena"], timezone.now()
    added.save()
    expect(first).to_contain_text("✓ Lena Lindqvist")
    expect(first.locator("[data-since]")).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True


def test_a_revoked_token_ends_the_display_within_one_refresh(page, live_server, support_room, fast_polls,
                                                            screenshot):
    display, token = wall_display()
    open_wall(page, live_server, token)
    polls = wall_requests(page)

    display.revoke()

    ended = page.get_by_role("heading", name="This display was revoked")
    expect(ended).to_be_visible(timeout=POLL * 1000 + 1500)
    expect(page.locator("[data-row]")).to_have_count(0)
    expect(page.locator(".wall-counts")).to_have_count(0)
    screenshot(page, "wall-revoked")
    seen = len(polls)
    page.wait_for_timeout(POLL * 3000)
    assert len(polls) == seen  # htmx stopped polling: nothing more to show on this screen


def test_the_wall_says_when_the_connection_is_lost_and_recovers_by_itself(page, live_server, support_room,
                                                                         fast_polls, screenshot):
    display, token = wall_display()
    open_wall(page, live_server, token)
    offline = page.locator("[data-offline]")
    expect(offline).to_be_hidden()

    page.route("**/wall/**", lambda route: route.abort("connectionrefused"))  # the network is gone
    expect(offline).to_be_visible(timeout=POLL * 1000 + 2000)
    expect(offline).to_contain_text("Connection lost")
    screenshot(page, "wall-offline")
    bad_gateways = []

    def bad_gateway(route):  # the server is restarting
        bad_gateways.append(route.request.url)
        route.fulfill(status=502, body="Bad gateway")

    page.unroute("**/wall/**")
    page.route("**/wall/**", bad_gateway)
    # Only once a poll has met the 502: one sent between the two routes may still be on its way, and
    # htmx sends the next poll of an element only when the last one has ended.
    for _ in range(POLL * 40):
        if bad_gateways:
            break
        page.wait_for_timeout(100)
    assert bad_gateways
    added = escalated_ticket(team=support_room["tech"], left=-timedelta(days=1))  # changed meanwhile
    page.wait_for_timeout(POLL * 2000)
    expect(offline).to_be_visible()
    expect(page.locator("[data-row]").first).not_to_contain_text(added.ticket.name)  # no error page swapped

    page.unroute("**/wall/**")  # back

    expect(offline).to_be_hidden(timeout=POLL * 1000 + 3000)
    expect(page.locator("[data-row]").first).to_contain_text(added.ticket.name)


def test_the_wall_warns_when_its_data_goes_stale(page, live_server, support_room, fast_polls):
    display, token = wall_display()
    open_wall(page, live_server, token)
    expect(page.get_by_role("alert")).to_have_count(0)

    SyncState.objects.filter(pk=1).update(last_error="Odoo did not answer within 30 s",
                                          last_error_at=timezone.now())

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Cannot reach Odoo", timeout=POLL * 1000 + 2000)
    expect(alert).to_contain_text("may be out of date")
