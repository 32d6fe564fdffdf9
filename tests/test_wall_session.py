"""The wall's token leaves the URL after the first load: it is traded for the display's pass, a signed
cookie bound to the display and its current token, which revoking or renewing the display ends."""

from __future__ import annotations

import pytest
from django.core.signing import get_cookie_signer
from django.urls import reverse
from django.utils import timezone

from dashboard.views.wall import PASS_COOKIE, PASS_SALT
from escalations.walls import wall_display_pass, wall_display_renew
from tests.wall_factories import escalated_ticket, sync_state, wall_display

pytestmark = pytest.mark.django_db

SCREEN = reverse("wall-screen")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def synced(db):
    sync_state(last_success_at=timezone.now())


def enter(client, token: str, **params):
    return client.get(reverse("wall", args=[token]), params)


def test_the_first_load_trades_the_token_for_a_pass_and_drops_it_from_the_url(client, synced):
    escalation = escalated_ticket()
    _, token = wall_display()

    entered = enter(client, token, page_seconds="20")

    assert entered.status_code == 302 and entered["Location"] == f"{SCREEN}?page_seconds=20"
    cookie = entered.cookies[PASS_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == SCREEN
    assert not cookie["secure"]  # HTTPS is off here (see the next test)
    assert token not in cookie.value and token[:8] not in cookie.value
    assert entered["Cache-Control"] == "no-store" and entered["Referrer-Policy"] == "no-referrer"

    page = client.get(entered["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and escalation.ticket.name in html
    assert f'hx-get="{SCREEN}"' in html  # the polls go to /wall/, with the cookie
    assert token not in html and 'data-page-seconds="20"' in html


def test_the_pass_is_sent_over_tls_only_when_the_console_is(client, synced, settings):
    settings.HTTPS = True
    _, token = wall_display()
    assert enter(client, token).cookies[PASS_COOKIE]["secure"]


def test_polls_carry_no_token_and_answer_from_the_pass(client, synced):
    _, token = wall_display()
    client.get(enter(client, token)["Location"])

    poll = client.get(SCREEN, headers=HTMX)

    assert poll.status_code == 200 and "data-version" in poll.content.decode()
    assert token not in poll.request["PATH_INFO"] + poll.request["QUERY_STRING"]


def test_without_a_pass_the_screen_is_told_its_link_is_not_valid(client, synced):
    page = client.get(SCREEN)
    assert page.status_code == 404 and "This display link is not valid" in page.content.decode()
    poll = client.get(SCREEN, headers=HTMX)
    assert poll.status_code == 286 and "This display link is not valid" in poll.content.decode()


def test_a_forged_or_tampered_pass_opens_nothing(client, synced):
    display, token = wall_display()
    client.get(enter(client, token)["Location"])
    signed = client.cookies[PASS_COOKIE].value

    client.cookies[PASS_COOKIE] = signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    assert client.get(SCREEN).status_code == 404
    right, signer = wall_display_pass(display=display), get_cookie_signer(salt=PASS_COOKIE + PASS_SALT)
    # The right content, unsigned or signed for something else, opens nothing.
    for forged in (right, get_cookie_signer(salt="another").sign(right)):
        client.cookies[PASS_COOKIE] = forged
        assert client.get(SCREEN).status_code == 404
    # Signed as ours, a pass must still name the display's current token.
    client.cookies[PASS_COOKIE] = signer.sign(f"{display.pk}:{'0' * 32}")
    assert client.get(SCREEN).status_code == 404
    client.cookies[PASS_COOKIE] = signer.sign(right)
    assert client.get(SCREEN).status_code == 200


def test_revoking_the_display_ends_the_pass_at_its_next_poll_and_load(client, synced):
    display, token = wall_display()
    client.get(enter(client, token)["Location"])
    assert client.get(SCREEN, headers=HTMX).status_code == 200

    display.revoke()

    poll = client.get(SCREEN, headers=HTMX)
    assert poll.status_code == 286 and "This display was revoked" in poll.content.decode()
    page = client.get(SCREEN)
    assert page.status_code == 403 and "This display was revoked" in page.content.decode()


def test_a_new_token_ends_the_pass_given_for_the_old_one(client, synced):
    display, token = wall_display()
    client.get(enter(client, token)["Location"])

    new = wall_display_renew(display=display)

    poll = client.get(SCREEN, headers=HTMX)
    assert poll.status_code == 286 and "This display link is not valid" in poll.content.decode()
    assert client.cookies[PASS_COOKIE].value == ""  # forgotten
    # The new URL gives a new pass, which works.
    assert client.get(enter(client, new)["Location"]).status_code == 200


def test_revoked_then_renewed_the_old_pass_stays_ended(client, synced):
    display, token = wall_display()
    client.get(enter(client, token)["Location"])
    display.revoke()
    wall_display_renew(display=display)  # active again, with a new token
    assert client.get(SCREEN).status_code == 404
