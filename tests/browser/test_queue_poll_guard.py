"""The queue's poll waits while a lead has a row's form open or rows picked (static/js/queue.js, not an
hx-trigger filter, which htmx would evaluate as code against the content security policy)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import transactional
from tests.browser.test_dashboard import escalated_queue, fast_polls, lena, log_in  # noqa: F401

pytestmark = transactional


def polls_sent(page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "since=" in request.url else None)
    return sent


def assert_polling(page, polls, *, running: bool) -> None:
    polls.clear()
    page.wait_for_timeout(3000)  # three poll periods (fast_polls: one second)
    assert bool(polls) is running, polls


def test_no_poll_while_a_form_is_open_or_rows_are_picked(page, live_server, lena, fast_polls):  # noqa: F811
    log_in(page, live_server)
    polls = polls_sent(page)
    assert_polling(page, polls, running=True)

    page.keyboard.press("j")
    page.keyboard.press("n")  # the note form of the first row
    expect(page.locator("#queue-body .row-form")).to_have_count(1)
    page.locator("#queue-body .row-form textarea").fill("Half-written note")
    assert_polling(page, polls, running=False)
    expect(page.locator("#queue-body .row-form textarea")).to_have_value("Half-written note")
    page.keyboard.press("Escape")
    expect(page.locator("#queue-body .row-form")).to_have_count(0)
    assert_polling(page, polls, running=True)

    pick = page.locator("#queue-body .pick").first
    pick.check()
    assert_polling(page, polls, running=False)
    expect(pick).to_be_checked()
    pick.uncheck()
    assert_polling(page, polls, running=True)
