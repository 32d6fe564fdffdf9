"""The queue as a lead uses it all day, in Chromium, on the demo's data (its 300 tickets mirrored from the
simulator, its policies, the escalations they raise): 15 rows and more on a laptop screen, cards on a
phone with nothing running off its side, the keyboard, bulk accept, the assignee an action sets shown
at once, Back restoring the filters, and all open tickets filtered and searched."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from escalations.engine import evaluate_escalations
from escalations.management.demo_data import demo_logins_ensure, demo_policies_ensure
from escalations.models import Escalation, OdooAction, Team, Ticket
from escalations.sla import refresh_clocks
from escalations.sync.run import sync_odoo
from tests.browser.conftest import transactional
from tests.browser.test_dashboard import PASSWORD, a_team_with_open_escalations, log_in
from tests.conftest import API_KEY, start_simulator
from tests.outbox_helpers import free_agent, make_lead

pytestmark = transactional
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "en-GB", "timezone_id": "UTC",
         "is_mobile": True, "has_touch": True}


@pytest.fixture
def demo_odoo(settings):
    """The demo's simulator: 300 tickets around the present moment."""
    server = start_simulator(tickets=300, now=timezone.now())
    settings.ODOO_URL = settings.ODOO_WEB_URL = server.url
    settings.ODOO_DB = server.state.db_name
    settings.ODOO_USER = "console@example.com"
    settings.ODOO_API_KEY = API_KEY
    settings.ODOO_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def lena(demo_odoo):
    sync_odoo(full=True)
    demo_logins_ensure()
    demo_policies_ensure()
    refresh_clocks()
    evaluate_escalations()
    assert Escalation.objects.filter(ended_at__isnull=True).count() >= 40
    user = User.objects.create_user("lena", password=PASSWORD, first_name="Lena", last_name="Lead")
    return make_lead(user, teams=Team.objects.all(), agent=free_agent())


def rows_fully_visible(page, rows: str = "tbody.queue-row") -> int:
    return page.evaluate("""rows => [...document.querySelectorAll(rows)].filter(row => {
        const box = row.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0; }).length""", rows)


def row_ids(page) -> list[int]:
    rows = page.locator("tbody.queue-row")
    return [int(x) for x in rows.evaluate_all("rows => rows.map(r => r.dataset.ticket)")]


def test_fifteen_rows_and_more_fit_a_laptop_screen_one_line_each(page, live_server, lena, screenshot):
    log_in(page, live_server)
    assert rows_fully_visible(page) >= 15
    heights = page.locator("tbody.queue-row > tr:first-child").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights[:15]) < 44, heights[:15]  # one line: no wrapped buttons, no second line
    first = page.locator("tbody.queue-row", has=page.get_by_role("button", name="Accept")).first
    expect(first.get_by_role("button", name="Accept")).to_be_visible()  # the primary action
    expect(first.get_by_role("button", name="Reassign…")).to_be_hidden()  # the others in the menu
    first.get_by_label(re.compile("More actions")).focus()
    page.keyboard.press("Enter")  # the menu opens from the keyboard
    expect(first.get_by_role("button", name="Reassign…")).to_be_visible()
    page.keyboard.press("Escape")
    expect(first.get_by_role("button", name="Reassign…")).to_be_hidden()
    # Why it was raised and since when it needs attention, apart from how long at this level.
    expect(first.locator(".trigger")).not_to_be_empty()
    expect(first.locator(".attention")).to_have_attribute("data-age", re.compile(r"\d{4}-"))
    screenshot(page, "queue-1440x900")


@pytest.mark.parametrize("browser_context_args", [PHONE])
def test_a_phone_gets_cards_and_nothing_runs_off_its_side(page, live_server, lena, screenshot):
    log_in(page, live_server)
    expect(page.locator("table.queue thead")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row = page.locator("tbody.queue-row", has=page.get_by_role("button", name="Accept")).first
    row.get_by_label(re.compile("More actions")).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the open menu too
    page.keyboard.press("Escape")
    screenshot(page, "queue-390x844")
    page.goto(f"{live_server.url}/tickets/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "tickets-390x844")


def test_the_keyboard_moves_accepts_and_opens_and_closes_forms(page, live_server, lena, screenshot):
    log_in(page, live_server)
    ids = row_ids(page)
    page.keyboard.press("j")
    expect(page.locator("tbody.queue-row").first).to_have_class(re.compile("kbd-current"))
    page.keyboard.press("j")
    second = page.locator(f"#ticket-{ids[1]}")
    expect(second).to_have_class(re.compile("kbd-current"))
    expect(second).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator(f"#ticket-{ids[0]}")).to_be_focused()

    # r opens the reassign form; letters typed in it are text, not shortcuts; Esc closes it.
    page.keyboard.press("r")
    search = page.get_by_placeholder("Type a name or email")
    expect(search).to_be_focused()
    page.keyboard.type("an")
    assert not OdooAction.objects.exists()
    page.keyboard.press("Escape")
    expect(page.locator(".row-form")).to_have_count(0)

    # n opens the note form (the keyboard focus stayed on the first row); Ctrl+Enter sends it.
    page.keyboard.press("n")
    page.locator(f"#ticket-{ids[0]} textarea").fill("Customer called, waiting on billing")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#ticket-{ids[0]}")).to_contain_text("Note added")
    assert OdooAction.objects.get(ticket_id=ids[0]).kind == OdooAction.Kind.NOTE

    # a accepts the row with the keyboard focus; its new assignee shows at once, on its way to Odoo.
    unaccepted = Escalation.objects.filter(ended_at__isnull=True, accepted_at__isnull=True,
                                           ticket_id__in=ids).values_list("ticket_id", flat=True)
    target = next(pk for pk in ids if pk in set(unaccepted) and pk != ids[0])
    for _ in range(ids.index(target)):
        page.keyboard.press("j")
    expect(page.locator(f"#ticket-{target}")).to_be_focused()
    page.keyboard.press("a")
    row = page.locator(f"#ticket-{target}")
    expect(row).to_contain_text("You took this ticket")
    expect(row.locator(".pending-assignee")).to_contain_text(lena.profile.agent.name)
    expect(row.locator(".on-its-way")).to_be_visible()
    assert Ticket.objects.get(pk=target).assignee_id != lena.profile.agent.pk  # Odoo does not have it yet
    assert Escalation.objects.get(ticket_id=target, ended_at__isnull=True).accepted_by == lena

    screenshot(page, "queue-keyboard-1440x900")
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    screenshot(page, "queue-help-1440x900")
    # The focus stays in the help while it is open (a modal dialog): Tab never reaches the rows behind.
    for _ in range(3):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('kbd-help').contains(document.activeElement)")
    expect(page.locator(f"#ticket-{target}")).not_to_be_focused()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    expect(page.locator(f"#ticket-{target}")).to_be_focused()  # back on the row it was on

    # Enter on the row with the keyboard focus opens its ticket.
    page.keyboard.press("k")
    opened = ids[ids.index(target) - 1]
    expect(page.locator(f"#ticket-{opened}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{opened}/$"))


def test_bulk_accept_makes_one_action_per_ticket_and_says_what_each_came_to(page, live_server, lena,
                                                                            screenshot):
    log_in(page, live_server)
    rows = page.locator("tbody.queue-row", has=page.get_by_role("button", name="Accept"))
    picked = [int(rows.nth(i).get_attribute("data-ticket")) for i in range(3)]
    for pk in picked:
        page.locator(f"#ticket-{pk} input.pick").check()
    bar = page.get_by_role("form", name="Selected tickets")
    expect(bar).to_contain_text("3 selected")
    bar.get_by_role("button", name="Accept them").click()
    expect(page.locator("#bulk-result li")).to_have_count(3)
    expect(page.locator("#bulk-result")).to_be_visible()
    expect(page.locator("#bulk-result")).to_contain_text("taken by you, on its way to Odoo")
    actions = OdooAction.objects.filter(ticket_id__in=picked, kind=OdooAction.Kind.ACCEPT)
    assert sorted(actions.values_list("ticket_id", flat=True)) == sorted(picked)
    # The queue re-reads: the picked rows show their new assignee, and no row stays picked.
    for pk in picked:
        expect(page.locator(f"#ticket-{pk} .pending-assignee")).to_contain_text(lena.profile.agent.name)
    expect(page.locator("input.pick:checked")).to_have_count(0)
    screenshot(page, "queue-bulk-1440x900")


def test_back_restores_the_rows_and_the_filters_without_an_error(page, live_server, lena):
    log_in(page, live_server)
    team = a_team_with_open_escalations()
    page.get_by_label("Team").select_option(str(team.pk))
    expect(page).to_have_url(re.compile(rf"team={team.pk}"))
    page.get_by_label("SLA", exact=False).and_(page.locator("select")).select_option("breached")
    expect(page).to_have_url(re.compile("sla=breached"))
    expect(page.locator("tbody.queue-row").first).to_be_visible()

    page.go_back()
    expect(page).not_to_have_url(re.compile("sla=breached"))
    expect(page.get_by_label("SLA", exact=False).and_(page.locator("select"))).to_have_value("")
    expect(page.get_by_label("Team")).to_have_value(str(team.pk))
    teams = set(Ticket.objects.filter(pk__in=row_ids(page)).values_list("team_id", flat=True))
    assert teams == {team.pk}

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"team=\d"))
    expect(page.get_by_label("Team")).to_have_value("")
    expect(page.get_by_label("SLA", exact=False).and_(page.locator("select"))).to_have_value("")
    teams = set(Ticket.objects.filter(pk__in=row_ids(page)).values_list("team_id", flat=True))
    assert len(teams) > 1
    page.go_forward()
    expect(page.get_by_label("Team")).to_have_value(str(team.pk))
    # (the page fixture fails the test on any uncaught JavaScript error, such as queue.js's TypeError)


def test_all_open_tickets_are_filtered_and_searched(page, live_server, lena, screenshot):
    log_in(page, live_server)
    page.get_by_role("link", name="All open tickets").click()
    # As dense as the queue: 15 rows and more on a laptop screen, one line each (titles, customers and
    # team names cut short with an ellipsis rather than wrapped).
    expect(page.locator("table.tickets tbody tr").first).to_be_visible()
    assert rows_fully_visible(page, "table.tickets tbody tr") >= 15
    heights = page.locator("table.tickets tbody tr").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights[:15]) < 40, heights[:15]
    ticket = Ticket.objects.open().exclude(customer_name="").order_by("odoo_id").first()
    team = ticket.team
    page.get_by_label("Team").select_option(str(team.pk))
    expect(page).to_have_url(re.compile(rf"team={team.pk}"))
    shown = page.locator("table.tickets tbody tr")
    expect(shown.first).to_be_visible()
    screenshot(page, "tickets-1440x900")
    page.get_by_label("Search").fill(ticket.customer_name)
    page.get_by_label("Search").press("Enter")
    expect(page).to_have_url(re.compile("q="))
    expect(page.locator("table.tickets")).to_contain_text(ticket.name)
    expected = Ticket.objects.open().filter(team=team, customer_name__icontains=ticket.customer_name).count()
    expect(shown).to_have_count(expected)
