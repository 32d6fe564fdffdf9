"""The Django admin and the console's own error and login pages work under the content security policy:
its scripts (actions, filter_horizontal's selectors, inlines, the related-object links) run from its
static files, and no page fires a violation (conftest's no_policy_violation checks each)."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from playwright.sync_api import expect

from escalations.models import WallDisplay
from tests.browser.conftest import transactional
from tests.browser.login import PASSWORD
from tests.factories import TeamFactory

pytestmark = transactional


def test_the_admin_works_under_the_policy(page, live_server):
    User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    TeamFactory(name="Billing")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(page.get_by_role("link", name="Wall displays").first).to_be_visible()  # the admin's index

    # A wall display: the add form, its URL shown once, the list's select-all and actions (actions.js).
    page.goto(f"{live_server.url}/admin/escalations/walldisplay/add/")
    page.get_by_label("Name").fill("North wall")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    page.locator("select[name=action]").select_option("revoke_displays")
    page.locator("button[name=index]").click()
    expect(page.get_by_text("1 display(s) revoked.")).to_be_visible()
    assert WallDisplay.objects.get().revoked_at is not None

    # A policy: stacked inlines with filter_horizontal's two-box selectors, built by the admin's scripts.
    page.goto(f"{live_server.url}/admin/escalations/escalationpolicy/add/")
    expect(page.locator(".selector").first).to_be_visible()  # SelectFilter2.js ran
    expect(page.locator(".add-row a").first).to_be_visible()  # inlines.js ran
    levels = page.locator(".inline-related:not(.empty-form)")
    before = levels.count()
    page.locator(".add-row a").first.click()
    expect(levels).to_have_count(before + 1)


def test_the_login_and_error_pages_work_under_the_policy(page, live_server):
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_label("Username")).to_be_visible()
    missing = page.goto(f"{live_server.url}/no-such-page/")
    assert missing.status == 404
    assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]  # names in lower case
    wall = page.goto(f"{live_server.url}/wall/not-a-token/")
    assert wall.status == 404
    expect(page.get_by_role("heading", name="This display link is not valid")).to_be_visible()
