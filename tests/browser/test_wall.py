"""The wall display in Chromium: it opens with a token, which then leaves the URL, its countdowns tick,
it follows the database without a reload, it ends on a revoked token, and it rides out a lost
connection."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from escalations.engine.lifecycle import escalation_accept
from escalations.models import SyncState, Trigger
from tests.browser.conftest import transactional
from tests.factories import AgentFactory, StageFactory, TeamFactory
from tests.stamp_helpers import raised
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
    assert page.url == live_server.url + reverse("wall-screen")  # the token is gone from the address


def test_after_the_first_load_no_request_carries_the_token(page, live_server, support_room, fast_polls):
    display, token = wall_display()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))

    open_wall(page, live_server, token)
    page.wait_for_timeout(POLL * 2500)

    polls = [url for url in sent if "/wall/" in url][1:]
    assert len(polls) >= 2 and all(url.startswith(live_server.url + "/wall/?") for url in polls[1:])
    assert [url for url in sent[1:] if token in url] == []
    assert [c["name"] for c in page.context.cookies()] == ["wall_display"]  # no session, no CSRF cookie
    (cookie,) = page.context.cookies()
    assert (cookie["name"], cookie["path"], cookie["httpOnly"], cookie["sameSite"]) == (
        "wall_display", "/wall/", True, "Lax")
    assert token not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script on the page reads it


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
    # The longest countdown stays in its column (read at once: a poll may swap the rows at any moment).
    overlaps = page.evaluate("""() => [...document.querySelectorAll('[data-row]:not([hidden])')]
        .filter(row => row.querySelector('[data-deadline]'))
        .filter(row => row.querySelector('[data-deadline]').getBoundingClientRect().right
                       > row.querySelector('.cell-ticket').getBoundingClientRect().left)
        .map(row => row.innerText)""")
    assert overlaps == []
    screenshot(page, "wall")


def wall_requests(page) -> list:
    """The statuses of the wall's polls, as they come."""
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/wall/" in r.url else None)
    return statuses


def clear_of_the_minute(seconds: float = 8) -> None:
    """Wait, if needed, until the next `seconds` hold no new minute: the queue's change stamp moves with
    the minute, and a screen then re-reads the queue once (a 200, not a 204)."""
    now = timezone.now()
    if now.second + seconds >= 60:
        time.sleep(60.5 - now.second - now.microsecond / 1e6)


def test_the_wall_follows_the_database_without_a_reload(page, live_server, support_room, fast_polls):
    display, token = wall_display()
    clear_of_the_minute()
    open_wall(page, live_server, token)
    page.evaluate("window.sameDocument = true")
    polls = wall_requests(page)
    expect(page.locator(".tile-total .tile-num")).to_have_text("8")
    page.wait_for_timeout(2500)
    assert 204 in polls and 200 not in polls  # nothing changed: empty answers, nothing swapped

    added = raised(escalated_ticket(team=support_room["billing"], left=-timedelta(days=1),
                                    customer="Wayne Inc"))
    first = page.locator("[data-row]").first
    expect(first).to_contain_text(added.ticket.name)  # the most overdue goes to the top
    expect(first).to_contain_text("Wayne Inc")
    expect(page.locator(".tile-total .tile-num")).to_have_text("9")
    expect(page.locator(".tile-breached .tile-num")).to_have_text("3")

    escalation_accept(escalation=added, user=support_room["lena"])
    # Taken: below the breached ones nobody has accepted yet, which now hold the top.
    row = page.locator(f'[data-row][data-ticket="{added.ticket.pk}"]')
    expect(row).to_contain_text("✓ Lena Lindqvist")
    expect(row.locator("[data-since]")).to_have_count(0)
    expect(first).to_contain_text("VPN drops")
    expect(page.locator("[data-row]").nth(2)).to_contain_text(added.ticket.name)
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
    added = raised(escalated_ticket(team=support_room["tech"], left=-timedelta(days=1)))  # changed meanwhile
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


# -- a full room: ~80 escalations on a 1080p screen ------------------------------------------------

TITLES = [
    "VPN drops every 10 minutes for the whole office", "Invoice charged twice this month",
    "Checkout returns 502 after the last deploy", "Refund not received after cancelled order",
    "SSO login loops back to the sign-in page", "Export to CSV drops accented characters",
    "Request for VAT number change on account", "Printer queue stuck on the 3rd floor",
    "Password reset email never arrives", "Dashboard charts load forever on Safari",
    "API rate limit hit by the nightly import", "Wrong currency on the Swiss price list",
]
CUSTOMERS = ["Lumière SA", "Northwind", "Contoso Retail", "Fabrikam Inc", "Globex", "Initech",
             "Umbrella Corp", "Stark Industries", "Wayne Enterprises", "Tyrell Corp", "Soylent", "Hooli"]


@pytest.fixture
def crowded_room(db, settings):
    """81 open escalations, as in the demo: breached ones (some taken), at risk, on track, no SLA."""
    settings.WALL_ROWS = 200
    sync_state(last_success_at=timezone.now())
    teams = [TeamFactory(name="Billing"), TeamFactory(name="Technical support")]
    lena = User.objects.create(username="lena", first_name="Lena", last_name="Lindqvist")
    people = [AgentFactory(name=name) for name in ["Marco Rossi", "Aisha Khan", "Tom Becker", "Sofia Nunes"]]
    lefts = ([-timedelta(hours=30 - n) for n in range(14)] + [timedelta(minutes=5 + 3 * n) for n in range(17)]
             + [timedelta(hours=2 + n) for n in range(45)] + [None] * 5)
    for n, left in enumerate(lefts):
        taken = {"accepted_by": lena, "accepted_at": timezone.now()} if n % 3 == 0 else {}
        escalation = escalated_ticket(team=teams[n % 2], left=left, customer=CUSTOMERS[n % len(CUSTOMERS)],
                                      **taken)
        ticket = escalation.ticket
        ticket.name, ticket.assignee = TITLES[n % len(TITLES)], people[n % 5] if n % 5 < 4 else None
        ticket.save()
    return len(lefts)


def visible_rows(page) -> int:
    """Rows a person sees: shown, and wholly inside the viewport."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-row]')].filter(row => {
        const box = row.getBoundingClientRect();
        return row.offsetParent !== null && box.top >= 0 && box.bottom <= window.innerHeight;
    }).length""")


def test_a_full_room_fits_15_rows_or_more_and_pages_through_the_rest(page, live_server, crowded_room,
                                                                    fast_polls, screenshot):
    _, token = wall_display(name="Support room, north wall")
    page.goto(live_server.url + reverse("wall", args=[token]) + "?page_seconds=2")
    expect(page.locator("[data-row]").first).to_be_visible()

    marker = page.locator("[data-page-marker]")
    expect(marker).to_have_text(re.compile(r"^Page 1 of \d+$"))
    screenshot(page, "wall-1920x1080")
    shown = visible_rows(page)
    assert shown >= 15
    pages = int(marker.inner_text().rsplit(" ", 1)[1])
    assert pages == -(-crowded_room // shown)  # every escalation is on a page
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")  # no scroll bar
    first_page = page.locator("[data-row]:visible").first.get_attribute("data-ticket")

    expect(marker).to_have_text(f"Page 2 of {pages}", timeout=4000)
    assert visible_rows(page) >= 15
    assert page.locator("[data-row]:visible").first.get_attribute("data-ticket") != first_page


def test_every_word_on_the_wall_reads_from_4_m_at_1080p(page, live_server, crowded_room, fast_polls):
    """At least 28 px for every text on the wall, the grey detail (customer) included; the trigger and the
    ticket's grey detail line (team, stage, priority) are left off the wall."""
    _, token = wall_display()
    open_wall(page, live_server, token)

    assert page.locator(".customer").first.is_visible()
    assert page.locator(".trigger, .ticket-meta").count() == 0
    small = page.evaluate("""() => {
        const texts = [...document.querySelectorAll('#wall *')].filter(el => el.offsetParent !== null
            && [...el.childNodes].some(node => node.nodeType === 3 && node.textContent.trim()));
        return texts.map(el => [el.className || el.tagName, parseFloat(getComputedStyle(el).fontSize)])
                    .filter(([, size]) => size < 28);
    }""")
    assert small == []
    sizes = page.evaluate("""() => ['.customer', '.sla-word', '.assignee', '.waiting', '.tile-sub']
        .map(s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))""")
    assert min(sizes) >= 28


@pytest.mark.parametrize("locale, zone, name", [("en-US", "America/New_York", r"(EST|EDT)"),
                                                ("en-GB", "Europe/Paris", r"(CET|CEST|GMT\+1|GMT\+2)")])
def test_the_wall_clock_is_24_hour_with_its_zone_named(browser, live_server, support_room, fast_polls,
                                                        locale, zone, name):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale=locale, timezone_id=zone)
    page = context.new_page()
    _, token = wall_display()
    try:
        open_wall(page, live_server, token)
        updated = page.locator("[data-updated]")
        expect(updated).to_have_text(re.compile(rf"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d {name}$"))
        page.wait_for_timeout(POLL * 1500)  # after a poll (a 204), still the same format
        expect(updated).to_have_text(re.compile(rf"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d {name}$"))
    finally:
        context.close()


def test_a_full_room_on_a_laptop_screen(browser, live_server, crowded_room, fast_polls, screenshot):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    _, token = wall_display(name="Support room, north wall")
    try:
        open_wall(page, live_server, token)
        expect(page.locator("[data-page-marker]")).to_have_text(re.compile(r"^Page 1 of \d+$"))
        assert visible_rows(page) >= 15
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
        screenshot(page, "wall-1440x900")
    finally:
        context.close()


def test_the_wall_on_a_phone_has_no_horizontal_overflow(browser, live_server, crowded_room, fast_polls,
                                                        screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    _, token = wall_display()
    try:
        open_wall(page, live_server, token)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        overflowing = page.evaluate("""() => [...document.querySelectorAll('#wall *')]
            .filter(el => el.offsetParent !== null
                          && el.getBoundingClientRect().right > window.innerWidth + 1)
            .map(el => el.className || el.tagName)""")
        assert overflowing == []
        screenshot(page, "wall-390x844")
    finally:
        context.close()
