"""Setting up escalation in Chromium, against the mirrored simulator: the queue's first run, a policy with
two levels written from scratch by clicking and typing (human durations, people by name, the errors as
one types, who will be told, the preview), and a policy proposed from Odoo's SLA policies, edited and
saved; the preview's counts are what the next evaluation raises. Laptop and phone screenshots."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from escalations.engine import evaluate_escalations
from escalations.models import Escalation, EscalationPolicy, Team, Ticket
from escalations.sync.run import sync_odoo
from tests.browser.conftest import transactional
from tests.browser.login import PASSWORD, log_in_through_form
from tests.outbox_helpers import make_lead

pytestmark = transactional
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def cast(odoo):
    """The simulator mirrored, no policy anywhere; Sue supervises, Ana leads the busiest team, Ben helps."""
    sync_odoo(full=True)
    teams = sorted(Team.objects.filter(active=True),
                   key=lambda team: -Ticket.objects.open().filter(team=team).count())
    sue = make_lead(User.objects.create_user("sue", password=PASSWORD, first_name="Sue", last_name="Pervisor",
                                             email="sue@example.com"), supervisor=True)
    ana = make_lead(User.objects.create_user("alopez", first_name="Ana", last_name="Lopez",
                                             email="ana@example.com"), teams=[teams[1]])
    ben = User.objects.create_user("bode", first_name="Ben", last_name="Ode", email="ben@example.com")
    return {"sue": sue, "ana": ana, "ben": ben, "scratch": teams[0], "proposed": teams[1]}


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def level(page, number: int):
    return page.locator("fieldset.policy-level").nth(number - 1)


def people(page, number: int):
    return level(page, number).get_by_role("group", name="People on this level")


def preview_count(page) -> int:
    counts = page.locator("#policy-preview .preview-counts")
    expect(counts).to_contain_text("escalation")
    return int(counts.locator("b").first.inner_text())


def test_the_first_run_then_a_policy_from_scratch_with_two_levels(page, live_server, cast, screenshot):
    team = cast["scratch"]
    log_in_through_form(page, live_server, username="sue", path="/", heading="Escalation queue")

    # 1. The queue says no team has a policy, and what Odoo's SLA policies would raise now.
    first_run = page.locator(".first-run")
    expect(first_run).to_contain_text("No team has an escalation policy yet")
    expect(first_run).to_contain_text("the console would raise")
    expect(first_run.get_by_text(f"{team.name}:")).to_be_visible()
    screenshot(page, "policies-first-run")
    first_run.get_by_role("link", name="Set up the teams' policies").click()

    # 2. From scratch: triggers in human durations, checked as one types.
    expect(page.get_by_role("heading", name="Escalation policies")).to_be_visible()
    page.locator(f"#team-{team.pk}").get_by_role("link", name="Start from scratch").click()
    expect(page.get_by_role("heading", name=f"{team.name}: new escalation policy")).to_be_visible()
    page.get_by_label("No update in Odoo for").fill("1d 4h")
    page.get_by_label("Unassigned, priority at least").select_option("2")
    after = page.locator("#id_unassigned_after")
    after.fill("soon")
    after.press("Tab")
    expect(page.locator("#err-unassigned_after")).to_contain_text(
        "Write a duration such as “30m”, “2h” or “1d 4h”.")
    screenshot(page, "policies-inline-error")
    after.fill("45m")
    expect(page.locator("#err-unassigned_after")).to_be_empty()

    # 3. Level 1: the lead, by name; then a second level with a person and an address.
    expect(level(page, 1).locator(".will-notify")).to_contain_text("Will notify nobody yet")
    people(page, 1).get_by_label("Ana Lopez").check()
    expect(level(page, 1).locator(".will-notify")).to_contain_text("Will notify: Ana Lopez")
    page.get_by_role("button", name="Add a level").click()
    expect(page.get_by_role("group", name="Level 2")).to_be_visible()
    expect(page.get_by_label("No update in Odoo for")).to_have_value("1d 4h")  # what was typed stays
    second = level(page, 2)
    second.get_by_label("Name").fill("Managers")
    second.get_by_label("Moves up when not accepted within").fill("2 hours")
    people(page, 2).get_by_label("Ben Ode").check()
    second.get_by_text("Tell others too").click()
    second.get_by_label("and these addresses").fill("oncall@example.com")
    second.get_by_label("and these addresses").press("Tab")
    expect(second.locator(".will-notify")).to_contain_text("Will notify: Ben Ode, oncall@example.com")

    # 4. The preview, from the mirror: nothing is saved yet.
    expect(page.locator("#policy-preview")).to_contain_text("This policy would raise")
    raised = preview_count(page)
    assert raised > 0 and not EscalationPolicy.objects.exists()
    screenshot(page, "policies-editor", full_page=True)
    page.get_by_role("button", name="Save").click()

    # 5. Saved whole, and listed in the same words.
    expect(page.get_by_text(f"Saved the escalation policy of {team.name}")).to_be_visible()
    row = page.locator(f"#team-{team.pk}")
    expect(row).to_contain_text("no update for 1d 4h")
    expect(row).to_contain_text("L1 Team lead: Ana Lopez · 30m to accept")
    expect(row).to_contain_text("L2 Managers: Ben Ode · 2h to accept")
    expect(row.get_by_role("link", name="Edit")).to_be_visible()
    expect(row.get_by_text("Create from Odoo's SLA policies")).to_have_count(0)
    policy = EscalationPolicy.objects.get(team=team)
    assert (policy.no_update_after, policy.unassigned_priority, policy.unassigned_after) == (
        timedelta(days=1, hours=4), "2", timedelta(minutes=45))
    one, two = policy.levels.order_by("number")
    assert (one.name, one.accept_within, list(one.members.all())) == ("Team lead", timedelta(minutes=30),
                                                                      [cast["ana"]])
    assert (two.name, two.accept_within, list(two.members.all()), two.notify_emails) == (
        "Managers", timedelta(hours=2), [cast["ben"]], "oncall@example.com")
    screenshot(page, "policies-list")

    # 6. The next evaluation raises what the preview said.
    result = evaluate_escalations()
    assert Escalation.objects.filter(pk__in=result.raised_ids, policy=policy).count() == raised


def test_a_policy_proposed_from_odoos_sla_edited_then_saved(page, live_server, cast, screenshot):
    team = cast["proposed"]
    log_in_through_form(page, live_server, username="sue", path="/policies/", heading="Escalation policies")
    page.locator(f"#team-{team.pk}").get_by_role("link", name="Create from Odoo's SLA policies").click()

    proposal = page.locator(".proposal")
    expect(proposal).to_contain_text(f"Proposed from Odoo's SLA policies for {team.name}")
    expect(proposal.locator(".targets li").first).to_contain_text(re.compile(r": \d+[dhm]"))
    expect(page.get_by_label("or less than", exact=True)).to_have_value("25")
    expect(people(page, 1).get_by_label("Ana Lopez")).to_be_checked()  # the team's lead
    expect(people(page, 2).get_by_label("Sue Pervisor")).to_be_checked()  # a supervisor: the one at work
    expect(level(page, 1).locator(".will-notify")).to_contain_text("Will notify: Ana Lopez")
    raised = preview_count(page)

    # Edited before it is saved: a fifth of the window, and level 2 named as the team calls it.
    page.get_by_label("or less than", exact=True).fill("20")
    level(page, 2).get_by_label("Name").fill("Support manager")
    level(page, 2).get_by_label("Name").press("Tab")
    expect(page.locator("#policy-preview .preview-counts")).to_contain_text("This policy would raise")
    raised = preview_count(page)
    screenshot(page, "policies-proposal")

    page.set_viewport_size(PHONE)
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    screenshot(page, "policies-proposal-phone", full_page=True)
    assert fits_the_screen(page), "the editor runs off the side of a phone"
    level(page, 2).get_by_label("Name").press("Enter")  # saves, as the Save button would (not "Add a level")

    expect(page.get_by_text(f"Saved the escalation policy of {team.name}")).to_be_visible()
    screenshot(page, "policies-list-phone", full_page=True)
    assert fits_the_screen(page), "the list runs off the side of a phone"
    policy = EscalationPolicy.objects.get(team=team)
    assert (policy.at_risk_share, policy.on_sla_at_risk, policy.on_sla_breached) == (0.2, True, True)
    one, two = policy.levels.order_by("number")
    assert list(one.members.all()) == [cast["ana"]] and one.accept_within is not None
    assert (two.name, list(two.members.all())) == ("Support manager", [cast["sue"]])
    result = evaluate_escalations()
    assert Escalation.objects.filter(pk__in=result.raised_ids, policy=policy).count() == raised
