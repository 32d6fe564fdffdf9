"""The ticket page in Chromium, as a lead uses it all day: a bar per SLA deadline, the conversation from
Odoo loaded after the page (or a plain sentence when Odoo is down), and no sideways scrolling on a phone.

Screenshots at 1440×900 and 390×844 land in var/artifacts/ for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from escalations.models import Escalation, Ticket
from tests.browser.conftest import transactional
from tests.browser.test_dashboard import escalated_queue, lena, log_in  # noqa: F401 (fixtures)

pytestmark = transactional

EMAIL = "The invoice run stopped again at 09:12 and our customers cannot pay. <b>Please call me.</b>"
NOTE = "Checked with billing: the export job hangs on a locked row. Waiting for a DBA."


@pytest.fixture
def conversed(escalated_queue, odoo):  # noqa: F811
    """An escalated ticket with SLA deadlines, a customer's email and, after it, an internal note."""
    open_ones = Escalation.objects.filter(ended_at__isnull=True).values("ticket_id")
    ticket = (Ticket.objects.filter(odoo_id__in=open_ones, sla_statuses__deadline__isnull=False,
                                    customer__isnull=False).distinct().order_by("odoo_id").first())
    assert ticket is not None
    odoo.state.call("helpdesk.ticket", "message_post", [[ticket.odoo_id]], {
        "body": f"<p>{EMAIL}<script>document.title='owned'</script></p>", "body_is_html": True,
        "message_type": "email", "subtype_xmlid": "mail.mt_comment", "author_id": ticket.customer_id})
    odoo.state.call("helpdesk.ticket", "message_post", [[ticket.odoo_id]], {
        "body": f"<p>{NOTE}</p>", "body_is_html": True, "message_type": "comment",
        "subtype_xmlid": "mail.mt_note"})
    return ticket


def open_ticket(page, live_server, ticket):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tickets/{ticket.odoo_id}/")
    expect(page.get_by_role("heading", name="Escalations")).to_be_visible()


def test_the_sla_bars_and_the_conversation_newest_first_on_a_laptop(page, live_server, lena, conversed,  # noqa: F811
                                                                      screenshot):
    open_ticket(page, live_server, conversed)
    bars = page.locator("svg.sla-bar")
    deadlines = conversed.sla_statuses.exclude(deadline=None).count()
    expect(bars).to_have_count(deadlines)
    assert deadlines >= 1
    expect(bars.first.locator("line.sla-tick")).to_have_count(3)
    assert bars.first.locator("text").all_text_contents() == ["50%", "75%", "100%"]
    fill = float(bars.first.locator("rect.sla-fill").get_attribute("width").rstrip("%"))
    assert 0 < fill <= 100

    messages = page.locator(".chatter-message")
    expect(messages.first).to_contain_text(NOTE)  # newest first, loaded after the page by htmx
    expect(messages.first).to_contain_text("Internal note")
    expect(messages.nth(1)).to_contain_text("The invoice run stopped again")
    expect(messages.nth(1).locator("b")).to_have_text("Please call me.")
    assert page.title() != "owned" and page.locator(".chatter-body script").count() == 0
    screenshot(page, "ticket-1440x900")
    screenshot(page, "ticket-1440x900-full", full_page=True)


def test_no_sideways_scroll_on_a_phone(page, live_server, lena, conversed, screenshot):  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 844})
    open_ticket(page, live_server, conversed)
    expect(page.locator(".chatter-message").first).to_contain_text(NOTE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at 390 px"
    screenshot(page, "ticket-390x844")
    screenshot(page, "ticket-390x844-full", full_page=True)


def test_odoo_down_leaves_the_page_and_says_so_in_plain_words(page, live_server, lena, odoo,  # noqa: F811
                                                             escalated_queue):  # noqa: F811
    ticket = Escalation.objects.filter(ended_at__isnull=True).order_by("pk").first().ticket
    odoo.faults.set("refuse")
    try:
        open_ticket(page, live_server, ticket)
        expect(page.locator(".conversation")).to_contain_text(
            "Odoo could not be reached: the conversation is not shown.")
    finally:
        odoo.faults.set(None)
    expect(page.locator("svg.sla-bar, .sla-deadline").first).to_be_visible()
