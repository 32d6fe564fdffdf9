"""The supervisor dashboard in Chromium, against the Odoo simulator: log in, the queue sorted by urgency,
a ticking countdown, accept and reassign in place without a reload, and a ticket changed in Odoo showing
up in the open page by itself."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from escalations.engine import evaluate_escalations
from escalations.models import Escalation, OdooAction, Team, Ticket, TicketClock
from escalations.sla import refresh_clocks
from escalations.sync.run import sync_odoo
from tests import workers
from tests.browser.conftest import transactional
from tests.browser.login import PASSWORD, log_in_through_form
from tests.factories import EscalationPolicyFactory
from tests.outbox_helpers import free_agent, make_lead, notes, odoo_ticket

pytestmark = transactional


@pytest.fixture
def fast_polls(settings):
    settings.QUEUE_POLL_SECONDS = 1


@pytest.fixture
def escalated_queue(odoo):
    """The simulator's tickets mirrored, a two-level policy per team, and the escalations they raise."""
    sync_odoo(full=True)
    for team in Team.objects.filter(active=True):
        EscalationPolicyFactory(team=team)
    refresh_clocks()
    evaluate_escalations()
    assert Escalation.objects.filter(ended_at__isnull=True).count() >= 5
    return odoo


@pytest.fixture
def lena(escalated_queue):
    user = User.objects.create_user("lena", password=PASSWORD, first_name="Lena", last_name="Lead")
    return make_lead(user, teams=Team.objects.all(), agent=free_agent())


def log_in(page, live_server):
    log_in_through_form(page, live_server, username="lena", path="/", heading="Escalation queue")
    # A marker that only survives if the page is never reloaded.
    page.evaluate("window.__noReload = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.__noReload === true")


def test_log_in_and_see_the_queue_most_urgent_first_with_ticking_countdowns(page, live_server, lena,
                                                                              screenshot):
    # The simulator's tickets are days overdue; make one due in ten minutes, so that seconds show.
    soon = Escalation.objects.filter(ended_at__isnull=True).order_by("pk").last().ticket
    TicketClock.objects.filter(ticket=soon).update(deadline=timezone.now() + timedelta(minutes=10),
                                                   at_risk_at=timezone.now(), paused=False)
    log_in(page, live_server)
    rows = page.locator("tbody.queue-row")
    expect(rows.first).to_be_visible()
    shown = [int(x) for x in rows.evaluate_all("rows => rows.map(r => r.dataset.ticket)")]
    expected = [e.ticket_id for e in Escalation.objects.filter(ended_at__isnull=True)
                .order_by("ticket__clock__deadline", "level_since", "pk")][:len(shown)]
    deadlines = [Ticket.objects.get(pk=pk).clock.deadline for pk in shown]
    assert [d for d in deadlines if d] == sorted(d for d in deadlines if d)
    assert set(shown) == set(expected)
    expect(page.locator(".count-breached")).to_contain_text("Breached")

    countdown = page.locator(f"#ticket-{soon.pk} .countdown")
    first = countdown.inner_text()
    page.wait_for_timeout(2100)
    second = countdown.inner_text()
    assert first != second, "the countdown does not tick"
    assert re.fullmatch(r"(9|10)m \d\ds", second), second
    assert re.fullmatch(r"-\d+d \d+h \d\dm", rows.first.locator(".countdown").inner_text())  # days overdue
    screenshot(page, "dashboard")


def test_accept_in_one_click_changes_the_row_without_a_reload(page, live_server, lena):
    log_in(page, live_server)
    row = page.locator("tbody.queue-row", has=page.get_by_role("button", name="Accept")).first
    ticket_id = int(row.get_attribute("data-ticket"))
    row.get_by_role("button", name="Accept").focus()
    page.keyboard.press("Enter")  # keyboard reachable: a real button, no mouse needed

    row = page.locator(f"#ticket-{ticket_id}")
    expect(row).to_contain_text("You took this ticket")
    expect(row.locator(".action-result")).to_be_focused()  # the focus stays on the row, on its message
    expect(row).to_contain_text("Accepted by Lena Lead")
    expect(row.get_by_role("button", name="Accept")).to_have_count(0)
    assert still_same_page(page)
    escalation = Escalation.objects.get(ticket_id=ticket_id, ended_at__isnull=True)
    assert escalation.accepted_by == lena
    assert OdooAction.objects.get(ticket_id=ticket_id).kind == OdooAction.Kind.ACCEPT


def test_reassign_through_the_form_with_the_agent_search(page, live_server, lena):
    log_in(page, live_server)
    row = page.locator("tbody.queue-row").first
    ticket = Ticket.objects.select_related("assignee").get(pk=int(row.get_attribute("data-ticket")))
    target = free_agent(ticket.assignee, lena.profile.agent)
    Team.objects.get(pk=ticket.team_id).members.add(target)  # the picker lists the team's members
    row.get_by_label(re.compile("More actions")).click()  # Accept is the row's one visible button
    row.get_by_role("button", name="Reassign…").click()

    search = page.get_by_placeholder("Type a name or email")
    expect(search).to_be_focused()  # keyboard users land in the form
    search.fill(target.name.split()[0])
    picker = page.locator(f"#agent-{ticket.pk}")
    expect(picker.locator("option", has_text=target.name)).to_have_count(1)
    picker.select_option(str(target.pk))
    page.get_by_label("Note for the chatter (optional)").fill("Billing expert, please take over")
    page.get_by_role("button", name="Reassign", exact=True).click()

    row = page.locator(f"#ticket-{ticket.pk}")
    expect(row).to_contain_text("Reassigned.")
    expect(row.locator(".odoo-action")).to_contain_text("Reassign")
    assert still_same_page(page)
    action = OdooAction.objects.get(ticket=ticket, kind=OdooAction.Kind.REASSIGN)
    assert action.payload["values"] == {"user_id": target.pk}


def test_a_ticket_changed_in_odoo_shows_up_in_the_open_page_by_itself(page, live_server, lena, odoo,
                                                                      fast_polls):
    log_in(page, live_server)
    ticket_id = int(page.locator("tbody.queue-row").first.get_attribute("data-ticket"))
    odoo.state.call("helpdesk.ticket", "write", [[ticket_id], {"name": "Renamed by an agent in Odoo"}], {})

    sync_odoo()  # what beat does every 30 seconds

    expect(page.locator(f"#ticket-{ticket_id}")).to_contain_text("Renamed by an agent in Odoo", timeout=5000)
    assert still_same_page(page)


def test_a_lost_server_is_said_and_the_page_recovers_by_itself(page, live_server, lena, fast_polls):
    log_in(page, live_server)
    banner = page.locator("#connection-status")
    expect(banner).to_be_hidden()
    page.route("**/?*since=*", lambda route: route.abort())  # the polls fail, as with the server down
    expect(banner).to_contain_text("Cannot reach the console", timeout=5000)
    page.unroute("**/?*since=*")
    expect(banner).to_be_hidden(timeout=5000)
    assert still_same_page(page)


def a_team_with_open_escalations() -> Team:
    return (Team.objects.filter(tickets__escalations__ended_at__isnull=True).distinct()
            .order_by("name").first())


def test_a_filter_narrows_the_queue_in_place_and_lands_in_the_url(page, live_server, lena):
    log_in(page, live_server)
    team = a_team_with_open_escalations()
    page.get_by_label("Team").select_option(str(team.pk))

    expect(page).to_have_url(re.compile(rf"team={team.pk}"))
    shown = page.locator("tbody.queue-row")
    expect(shown.first).to_be_visible()
    ids = [int(x) for x in shown.evaluate_all("rows => rows.map(r => r.dataset.ticket)")]
    assert ids and set(Ticket.objects.filter(pk__in=ids).values_list("team_id", flat=True)) == {team.pk}
    expect(page.get_by_role("link", name="At risk, not escalated")).to_have_attribute(
        "href", re.compile(rf"team={team.pk}"))
    assert still_same_page(page)
    page.reload()  # the URL is a bookmark: the same view comes back
    expect(page.get_by_label("Team")).to_have_value(str(team.pk))


@pytest.mark.celery_worker
def test_an_accept_reaches_odoo_through_a_real_worker_and_the_row_clears(page, live_server, lena, odoo,
                                                                          fast_polls, tmp_path):
    log = tmp_path / "worker.log"
    worker = workers.start_worker(workers.outbox_worker_env(odoo, tmp_path),
                                  beat_schedule=tmp_path / "beat-schedule", log=log.open("w"))
    try:
        log_in(page, live_server)
        row = page.locator("tbody.queue-row", has=page.get_by_role("button", name="Accept")).first
        ticket_id = int(row.get_attribute("data-ticket"))
        row.get_by_role("button", name="Accept").click()
        row = page.locator(f"#ticket-{ticket_id}")
        expect(row).to_contain_text("You took this ticket")

        action = OdooAction.objects.get(ticket_id=ticket_id)
        sent = workers.wait_for(lambda: OdooAction.objects.get(pk=action.pk).state == OdooAction.State.SENT)
        assert sent, log.read_text()[-2000:]
        assert odoo_ticket(odoo.state, ticket_id)["user_id"][0] == lena.profile.agent.pk
        assert len(notes(odoo.state, ticket_id, str(action.action_uid))) == 1
        # Nothing left on its way to Odoo: the next poll takes the pending write-back off the row.
        expect(row.locator(".odoo-action")).to_have_count(0, timeout=5000)
        assert still_same_page(page)
    finally:
        workers.stop_worker(worker)
