"""Wrong wall display tokens are limited per address: past WALL_TOKEN_GUESS_LIMIT in the window, that
address is refused (429), the right token included, while other addresses are not."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.wall_factories import sync_state, wall_display

pytestmark = pytest.mark.django_db

GUESSER, NEIGHBOUR = "203.0.113.7", "198.51.100.4"
FEED = reverse("api-queue")


@pytest.fixture(autouse=True)
def limit(settings):
    settings.WALL_TOKEN_GUESS_LIMIT = 20
    settings.WALL_TOKEN_GUESS_MINUTES = 10
    sync_state(last_success_at=timezone.now())


def enter(client, token: str, address: str):
    return client.get(reverse("wall", args=[token]), REMOTE_ADDR=address)


def test_a_hundred_wrong_tokens_then_the_right_one_is_refused_from_that_address_only(client, caplog):
    _, token = wall_display()

    with caplog.at_level(logging.WARNING, logger="dashboard.token_guesses"):
        statuses = [enter(client, f"guess-{n}", GUESSER).status_code for n in range(100)]

    assert statuses == [404] * 20 + [429] * 80
    with caplog.at_level(logging.INFO):
        refused = enter(client, token, GUESSER)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "600"
    assert "Too many wrong display links" in refused.content.decode()
    assert "Wait 10 minutes" in refused.content.decode()
    assert "wall_display" not in refused.cookies  # no pass for a refused address
    assert enter(client, token, NEIGHBOUR).status_code == 302
    # One line, at the limit, with the address and never a token; the right token is in no log at all.
    (line,) = [r.getMessage() for r in caplog.records if r.name == "dashboard.token_guesses"]
    assert GUESSER in line and "20 wrong wall display tokens" in line and "guess-" not in line
    assert not [r for r in caplog.records if token in r.getMessage()]


def test_the_feed_counts_and_refuses_wrong_tokens_the_same_way(client):
    _, token = wall_display()

    statuses = [client.get(FEED, {"token": f"guess-{n}"}, REMOTE_ADDR=GUESSER).status_code for n in range(30)]

    assert statuses == [401] * 20 + [429] * 10
    refused = client.get(FEED, headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR=GUESSER)
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_wrong_tokens"
    assert refused["Retry-After"] == "600"
    assert client.get(FEED, {"token": token}, REMOTE_ADDR=NEIGHBOUR).status_code == 200


def test_the_wall_and_the_feed_share_one_count(client):
    _, token = wall_display()
    for n in range(10):
        enter(client, f"guess-{n}", GUESSER)
        client.get(FEED, {"token": f"guess-{n}"}, REMOTE_ADDR=GUESSER)
    assert enter(client, token, GUESSER).status_code == 429


def test_right_and_revoked_tokens_are_not_guesses(client):
    display, token = wall_display()
    revoked, old = wall_display(name="Old room")
    revoked.revoke()
    for _ in range(30):
        assert enter(client, token, GUESSER).status_code == 302
        assert enter(client, old, GUESSER).status_code == 403
    assert enter(client, token, GUESSER).status_code == 302


def test_the_address_is_let_in_again_when_its_window_ends(client):
    _, token = wall_display()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(25):
            enter(client, f"guess-{n}", GUESSER)
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        assert enter(client, token, GUESSER).status_code == 429
    with time_machine.travel(start + timedelta(minutes=10, seconds=1), tick=False):
        assert enter(client, token, GUESSER).status_code == 302


def test_an_open_screen_keeps_polling_while_its_address_is_refused(client):
    """A screen already holds its pass: guesses from the same room's address do not switch it off."""
    _, token = wall_display()
    client.get(enter(client, token, GUESSER)["Location"], REMOTE_ADDR=GUESSER)
    for n in range(25):
        enter(client, f"guess-{n}", GUESSER)
    poll = client.get(reverse("wall-screen"), headers={"HX-Request": "true"}, REMOTE_ADDR=GUESSER)
    assert poll.status_code == 200
