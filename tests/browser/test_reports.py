"""The Reports page in Chromium: a supervisor opens it over ten weeks of made-up history, clicks a bar
of breached SLAs through to the tickets behind it, and the page fits a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from escalations.models import ReportFact
from escalations.reports.rollup import report_rollup
from escalations.reports.sample_history import history_create
from tests.artifacts import artifacts_dir
from tests.browser.conftest import transactional
from tests.browser.login import PASSWORD, log_in_through_form
from tests.outbox_helpers import make_lead

pytestmark = transactional


@pytest.fixture
def sue():
    now = timezone.now()
    history_create(tickets=3_000, escalations=600, actions=1_800, days=70, now=now, teams=4)
    report_rollup(now=now + timedelta(seconds=1))
    user = User.objects.create_user("sue", password=PASSWORD, first_name="Sue", last_name="Pervisor")
    return make_lead(user, supervisor=True)


def test_open_the_reports_and_click_a_bar_through_to_its_tickets(page, live_server, sue, screenshot):
    log_in_through_form(page, live_server, username="sue", path="/reports/", heading="Reports")
    expect(page.get_by_text(re.compile(r"Weeks run from Monday midnight, UTC time \(your browser's zone\)")))\
        .to_be_visible()
    expect(page.locator("article.chart-card")).to_have_count(15)
    screenshot(page, "reports")
    for section in ("sla", "escalations", "writeback", "automation", "handoffs"):
        page.locator(f"#{section}").screenshot(path=str(artifacts_dir() / f"reports-{section}.png"))

    # This week's breached bar, in the SLA chart.
    chart = page.locator("#chart-sla-outcomes")
    bar = chart.locator("a[aria-label^='Week of'][aria-label*='Breached']").last
    label = bar.get_attribute("aria-label")
    shown = int(label.rsplit(" ", 1)[1])
    assert shown > 0
    bar.click()
    expect(page.get_by_role("heading", name="SLA outcome: Breached")).to_be_visible()
    expect(page.locator("table.report-tickets tbody tr")).to_have_count(min(shown, 100))
    expect(page.get_by_text(re.compile(rf"{shown} rows?, one per ticket"))).to_be_visible()
    breached = ReportFact.objects.filter(figure="sla", key="breached").values_list("ticket_id", flat=True)
    first_ticket = page.locator("table.report-tickets tbody tr").first.locator("a").first
    assert int(first_ticket.get_attribute("href").strip("/").split("/")[-1]) in set(breached)
    screenshot(page, "reports-tickets")


@pytest.fixture
def phone() -> dict:
    return {"viewport": {"width": 390, "height": 844}, "locale": "en-GB", "timezone_id": "Europe/Paris",
            "is_mobile": True, "has_touch": True}


def test_the_reports_fit_a_phone_in_the_viewer_s_zone(browser, phone, live_server, sue, screenshot):
    context = browser.new_context(**phone)
    page = context.new_page()
    log_in_through_form(page, live_server, username="sue", path="/reports/", heading="Reports")
    # The zone the browser told (tests' timezone.js cookie), named on the page.
    page.reload()
    expect(page.get_by_text(re.compile(r"Europe/Paris time \(your browser's zone\)"))).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    screenshot(page, "reports-phone")
    for chart in ("sla-margin", "escalations-reasons"):
        page.locator(f"#chart-{chart}").screenshot(path=str(artifacts_dir() / f"reports-phone-{chart}.png"))
    context.close()
