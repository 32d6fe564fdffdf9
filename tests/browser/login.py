"""Logging in through the login form, as a person does (the browser tests' one way in)."""

import re

from playwright.sync_api import expect

PASSWORD = "a-long-test-password"


def log_in_through_form(page, live_server, *, username: str, path: str, heading: str) -> None:
    """Open `path`, get sent to the login form, log in as `username`, and land on `heading`."""
    page.goto(f"{live_server.url}{path}")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
