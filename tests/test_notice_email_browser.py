"""The HTML notice rendered in Chromium: saved, with a screenshot, in var/artifacts/ for a person to see."""

from datetime import timedelta

import pytest

from escalations.engine import evaluate_escalations
from escalations.models import Notice
from escalations.notices.email import notice_message
from tests.artifacts import artifacts_dir
from tests.conftest import T0
from tests.test_notices import ONCALL, policy, ticket  # noqa: F401 (fixtures)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.django_db
def test_the_html_email_renders_as_a_readable_card_in_chromium(ticket):  # noqa: F811
    from playwright.sync_api import sync_playwright

    evaluate_escalations(now=T0)
    evaluate_escalations(now=T0 + timedelta(minutes=31))  # nobody accepted: moved up to level 2
    notice = Notice.objects.get(kind="moved_up")
    message = notice_message(notice=notice, now=T0 + timedelta(minutes=32))
    html = message.alternatives[0][0]

    out = artifacts_dir()
    (out / "notice-email.html").write_text(html)
    (out / "notice-email.txt").write_text(f"Subject: {message.subject}\n\n{message.body}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 760, "height": 900})
        page.set_content(html)
        assert page.get_by_role("link", name="Open in the console").is_visible()
        assert page.get_by_role("link", name="Open in Odoo").is_visible()
        assert page.get_by_text("13 min left", exact=True).is_visible()
        page.screenshot(path=str(out / "notice-email.png"), full_page=True)
        browser.close()
    assert (out / "notice-email.png").stat().st_size > 10_000
