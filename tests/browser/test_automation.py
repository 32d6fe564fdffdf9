"""Routine automation in Chromium, against the mirrored simulator: a supervisor writes a rule, previews
it, switches it on, sees the ledger fill after a pass, and undoes one change in place."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from escalations.automation.run import automation_run
from escalations.models import AutomationChange, AutomationRule, OdooAction, Team, Ticket
from escalations.sync.run import sync_odoo
from tests.browser.conftest import transactional
from tests.browser.login import PASSWORD, log_in_through_form
from tests.outbox_helpers import make_lead

pytestmark = transactional


@pytest.fixture
def sue(odoo):
    sync_odoo(full=True)
    user = User.objects.create_user("sue", password=PASSWORD, first_name="Sue", last_name="Pervisor")
    return make_lead(user, supervisor=True)


def busiest_team() -> Team:
    """The team with the most open tickets that are not Urgent yet: the rule's scope."""
    counts = {}
    for team_id in Ticket.objects.open().exclude(priority="3").values_list("team_id", flat=True):
        counts[team_id] = counts.get(team_id, 0) + 1
    return Team.objects.get(pk=max((t for t in counts if t), key=counts.get))


def log_in(page, live_server):
    log_in_through_form(page, live_server, username="sue", path="/automation/", heading="Automation")


def test_write_preview_switch_on_run_and_undo_a_rule(page, live_server, sue, screenshot):
    team = busiest_team()
    log_in(page, live_server)
    expect(page.get_by_text("Tickets closed with no person's activity after automation: 0")).to_be_visible()

    # 1. Write the rule: on a schedule, set the priority, over one team.
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Urgent queue")
    page.get_by_role("group", name="Teams").get_by_label(team.name, exact=True).check()
    page.get_by_label("Trigger").select_option("schedule")
    page.get_by_label("Every (minutes)").fill("60")
    page.get_by_label("Action").select_option("set_priority")
    expect(page.get_by_label("Open tickets per agent, at most")).to_be_hidden()  # an assign rule's field
    page.get_by_label("Priority to set").select_option("3")
    screenshot(page, "automation-form", full_page=True)
    page.get_by_role("button", name="Save and preview").click()

    # 2. The preview: what it would do, nothing written.
    expect(page.get_by_role("heading", name="Preview “Urgent queue”")).to_be_visible()
    rule = AutomationRule.objects.get(name="Urgent queue")
    assert not rule.enabled
    expected = Ticket.objects.open().filter(team=team).exclude(priority="3").count()
    rows = page.locator("table.automation-preview tbody tr:not(.handed)")
    expect(rows.first).to_contain_text("→ Urgent")
    assert rows.count() >= 1 and rows.count() <= expected
    assert not OdooAction.objects.exists() and not AutomationChange.objects.exists()
    screenshot(page, "automation-preview")

    # 3. Switch it on, and run a pass as beat would.
    page.get_by_role("button", name="Switch on").click()
    expect(page.get_by_text("“Urgent queue” is on")).to_be_visible()
    rule.refresh_from_db()
    assert rule.enabled
    run = automation_run()
    assert run is not None and run.changes == rows.count()

    page.goto(f"{live_server.url}/automation/")
    row = page.locator(f"#rule-{rule.pk}")
    expect(row).to_contain_text("On")
    expect(row.locator("td[data-label=Changes]")).to_have_text(str(run.changes))
    screenshot(page, "automation-rules")

    # 4. The ledger; one change applied in Odoo, then undone in place.
    change = AutomationChange.objects.filter(rule=rule).select_related("odoo_action", "ticket").first()
    OdooAction.objects.filter(pk=change.odoo_action_id).update(
        state=OdooAction.State.SENT, applied_at=timezone.now(),
        applied_write_date=change.ticket.odoo_write_date)
    page.get_by_role("link", name="Ledger", exact=True).click()
    expect(page.locator("tr.ledger-row")).to_have_count(run.changes)
    line = page.locator(f"#change-{change.pk}")
    expect(line).to_contain_text("Applied in Odoo")
    expect(page.get_by_role("button", name="Undo")).to_have_count(1)
    page.evaluate("window.__noReload = true")
    line.get_by_role("button", name="Undo").click()
    expect(line).to_contain_text("Undone by Sue Pervisor")
    expect(line.locator(".action-result")).to_contain_text("Undone: it will show in Odoo")
    assert page.evaluate("window.__noReload === true"), "the undo reloaded the page"
    assert OdooAction.objects.filter(kind=OdooAction.Kind.UNDO, ticket=change.ticket).count() == 1
    screenshot(page, "automation-ledger")

    # 5. The rules list on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/automation/")
    screenshot(page, "automation-rules-phone", full_page=True)
