"""The wall display on the server: its token, its team, its cheap polling, its honesty about stale data."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from escalations.engine.lifecycle import escalation_accept
from escalations.models import SyncState, WallDisplay
from escalations.walls import demo_wall_ensure, wall_display_renew, wall_url
from tests.factories import TeamFactory
from tests.stamp_helpers import raised, tables_read
from tests.wall_factories import escalated_ticket, sync_state, wall_display

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def synced(db):
    """A sync that just succeeded, so that the wall has nothing to warn about."""
    sync_state(last_success_at=timezone.now())


SCREEN = reverse("wall-screen")


def wall(token: str) -> str:
    """The display's URL, as the admin shows it: the screen opens it once and is sent on to SCREEN."""
    return reverse("wall", args=[token])


def open_screen(client, token: str, **params):
    """Open the display's URL as a screen does: its token is traded for the pass, then the page."""
    entered = client.get(wall(token), params)
    assert entered.status_code == 302, entered.status_code
    return client.get(entered["Location"])


def live_version(response) -> str:
    html = response.content.decode()
    return html.split('data-version="', 1)[1].split('"', 1)[0]


# -- the token ------------------------------------------------------------------------------------


def test_a_valid_token_opens_the_queue_without_a_session(client, synced):
    escalation = escalated_ticket(left=-timedelta(minutes=5))
    display, token = wall_display(name="Support room")

    response = open_screen(client, token)

    assert response.status_code == 200
    assert escalation.ticket.name in response.content.decode()
    assert "Support room" in response.content.decode()
    # No session, no CSRF cookie: the screen holds nothing but the display's pass.
    assert set(response.cookies) == {"wall_display"}
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_wall_has_no_form_no_csrf_token_and_no_customer_email(client, synced):
    escalated_ticket(customer="Acme Corp")
    _, token = wall_display()

    html = open_screen(client, token).content.decode()

    assert "<form" not in html and "csrfmiddlewaretoken" not in html and "hx-post" not in html
    assert "Acme Corp" in html
    assert "@" not in html  # the factory gives the customer ceo@acme.example


def test_the_wall_accepts_only_reads(client, synced):
    _, token = wall_display()
    assert client.post(wall(token)).status_code in (403, 405)  # CSRF refuses it first, or the view does
    open_screen(client, token)
    assert client.post(SCREEN).status_code in (403, 405)


def test_a_revoked_token_says_so_plainly(client):
    display, token = wall_display()
    display.revoke()

    response = client.get(wall(token))

    assert response.status_code == 403
    assert "This display was revoked" in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_an_unknown_token_is_not_found_with_a_clear_message(client):
    response = client.get(wall("not-a-real-token"))
    assert response.status_code == 404
    assert "This display link is not valid" in response.content.decode()


def test_a_renewed_display_no_longer_opens_with_its_old_url(client, synced):
    display, old = wall_display()
    new = wall_display_renew(display=display)

    assert client.get(wall(old)).status_code == 404
    assert open_screen(client, new).status_code == 200


def test_a_team_display_shows_only_its_team(client, synced):
    billing, tech = TeamFactory(name="Billing"), TeamFactory(name="Technical support")
    ours = escalated_ticket(team=billing)
    theirs = escalated_ticket(team=tech)
    _, token = wall_display(team=billing)

    html = open_screen(client, token).content.decode()

    assert ours.ticket.name in html and theirs.ticket.name not in html
    assert "<h1>Billing</h1>" in html


def test_a_display_without_a_team_shows_every_team(client, synced):
    first, second = escalated_ticket(), escalated_ticket()
    _, token = wall_display()

    html = open_screen(client, token).content.decode()

    assert first.ticket.name in html and second.ticket.name in html
    assert "<h1>All teams</h1>" in html


# -- what it shows ----------------------------------------------------------------------------------


def test_rows_come_most_urgent_first_with_ticking_times_and_counts(client, synced):
    later = escalated_ticket(left=timedelta(hours=2))
    overdue = escalated_ticket(left=-timedelta(minutes=20), ticket_fields={"assignee": None})
    soon = escalated_ticket(left=timedelta(minutes=10))
    _, token = wall_display()

    html = open_screen(client, token).content.decode()

    positions = [html.index(e.ticket.name) for e in (overdue, soon, later)]
    assert positions == sorted(positions)
    assert html.count("data-deadline=") == 3 and html.count("data-since=") == 3
    assert 'data-server-now="' in html
    assert '<span class="tile-num">3</span>\n      <span class="tile-label">Escalated' in html
    assert 'tile-breached">\n      <span class="tile-num">1</span>' in html
    assert 'tile-unassigned">\n      <span class="tile-num">1</span>' in html


def test_more_escalations_than_rows_are_counted_not_dropped(client, synced, settings):
    settings.WALL_ROWS = 2
    for _ in range(5):
        escalated_ticket()
    _, token = wall_display()

    html = open_screen(client, token).content.decode()

    assert html.count("data-row ") == 2
    assert 'data-hidden-rows="3"' in html


def test_a_stale_sync_is_a_visible_warning(client, settings):
    settings.WALL_STALE_AFTER_SECONDS = 180
    sync_state(last_success_at=timezone.now() - timedelta(minutes=4))
    _, token = wall_display()

    html = open_screen(client, token).content.decode()

    assert 'role="alert"' in html and "No sync with Odoo for a while" in html and "may be out of date" in html


def test_an_unreachable_odoo_is_a_visible_warning(client):
    sync_state(last_success_at=timezone.now(), last_error="Connection refused")
    _, token = wall_display()

    html = open_screen(client, token).content.decode()

    assert "Cannot reach Odoo" in html and "Connection refused" not in html  # no internals on the wall


def test_a_fresh_sync_shows_no_warning(client, synced):
    _, token = wall_display()
    assert 'role="alert"' not in open_screen(client, token).content.decode()


def test_the_wall_never_creates_the_sync_state(client):
    SyncState.objects.all().delete()
    _, token = wall_display()
    assert "Not synced with Odoo yet" in open_screen(client, token).content.decode()
    assert not SyncState.objects.exists()


# -- polling ----------------------------------------------------------------------------------------


def test_an_unchanged_poll_is_an_empty_204(client, synced):
    escalated_ticket()
    _, token = wall_display()
    version = live_version(open_screen(client, token))

    response = client.get(SCREEN, {"v": version}, headers=HTMX)

    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"


def test_a_changed_queue_answers_the_fragment(client, synced):
    escalated_ticket()
    _, token = wall_display()
    version = live_version(open_screen(client, token))
    added = raised(escalated_ticket(left=-timedelta(minutes=1)))

    response = client.get(SCREEN, {"v": version}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert added.ticket.name in html
    assert "<html" not in html and "hx-get" not in html  # the inside of the polling element only
    assert live_version(response) != version
    assert "HX-Request" in response["Vary"]


def test_a_sync_going_stale_changes_the_version(client, settings):
    settings.WALL_STALE_AFTER_SECONDS = 180
    sync_state(last_success_at=timezone.now())
    _, token = wall_display()
    version = live_version(open_screen(client, token))

    with time_machine.travel(timezone.now() + timedelta(minutes=4)):
        response = client.get(SCREEN, {"v": version}, headers=HTMX)

    assert response.status_code == 200 and "may be out of date" in response.content.decode()


def test_a_poll_after_revocation_ends_the_display_and_stops_polling(client, synced):
    display, token = wall_display()
    version = live_version(open_screen(client, token))
    display.revoke()

    response = client.get(SCREEN, {"v": version}, headers=HTMX)

    # 286: htmx swaps it (it would not swap a 403) and stops polling.
    assert response.status_code == 286
    html = response.content.decode()
    assert "This display was revoked" in html and "<html" not in html


def test_last_seen_is_written_at_most_once_a_minute(client, synced):
    _, token = wall_display()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        open_screen(client, token)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get(SCREEN, headers=HTMX)
    assert WallDisplay.objects.get().last_seen_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get(SCREEN, headers=HTMX)
    assert WallDisplay.objects.get().last_seen_at == start + timedelta(seconds=61)


def start_of_a_minute():
    """A moment the next 59 seconds of which share its minute, which the change stamp holds."""
    return timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.mark.parametrize("escalations", [5, 60])
def test_the_page_and_its_polls_cost_the_queries_the_readme_quotes(client, synced, escalations,
                                                                   django_assert_num_queries):
    team = TeamFactory()
    for minutes in range(escalations):
        escalated_ticket(team=team, left=timedelta(minutes=minutes - 10))
    _, token = wall_display()
    start = start_of_a_minute()

    # The token, traded for the pass.
    with time_machine.travel(start, tick=False), django_assert_num_queries(1):
        entered = client.get(wall(token))
    # the pass's display, last seen (written at most once a minute), change stamp, sync health, the
    # queue's counts, rows
    with time_machine.travel(start, tick=False), django_assert_num_queries(6):
        version = live_version(client.get(entered["Location"]))
    # Unchanged: the pass's display and the change stamp, and nothing of the queue.
    with (time_machine.travel(start + timedelta(seconds=10), tick=False),
          django_assert_num_queries(2) as polled):
        assert client.get(SCREEN, {"v": version}, headers=HTMX).status_code == 204
    assert tables_read(polled.captured_queries) == {
        "escalations_walldisplay", "escalations_team",  # the pass's display
        "escalations_escalationevent", "escalations_odooaction", "escalations_syncstate",  # the stamp
    }
    raised(escalated_ticket(team=team))
    with time_machine.travel(start + timedelta(seconds=20), tick=False), django_assert_num_queries(5):
        assert client.get(SCREEN, {"v": version}, headers=HTMX).status_code == 200
    with time_machine.travel(start + timedelta(seconds=30), tick=False), django_assert_num_queries(5):
        assert client.get(SCREEN).status_code == 200


def test_an_accept_a_display_rename_and_the_minute_each_end_the_204s(client, synced, lead):
    escalation = raised(escalated_ticket(left=-timedelta(minutes=5)))
    display, token = wall_display(name="Support room")
    start = start_of_a_minute()

    def poll(version, seconds):
        with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
            return client.get(SCREEN, {"v": version}, headers=HTMX)

    with time_machine.travel(start, tick=False):
        version = live_version(open_screen(client, token))
    assert poll(version, 5).status_code == 204

    escalation_accept(escalation=escalation, user=lead)
    accepted = poll(version, 10)
    assert accepted.status_code == 200 and "✓ Lena Lead" in accepted.content.decode()
    version = live_version(accepted)
    assert poll(version, 15).status_code == 204

    WallDisplay.objects.filter(pk=display.pk).update(name="Support room, south wall")
    renamed = poll(version, 20)
    assert renamed.status_code == 200 and "Support room, south wall" in renamed.content.decode()
    version = live_version(renamed)

    assert poll(version, 59).status_code == 204
    assert poll(version, 61).status_code == 200  # SLA states turn with time alone: once a minute, re-read


def test_not_accepted_comes_before_accepted_at_the_same_urgency(client, synced, lead):
    now = timezone.now()
    taken = {"accepted_by": lead, "accepted_at": now}
    breached_long_ago_taken = escalated_ticket(left=-timedelta(days=3), **taken)
    breached_waiting = escalated_ticket(left=-timedelta(minutes=5))
    breached_taken = escalated_ticket(left=-timedelta(hours=1), **taken)
    at_risk_taken = escalated_ticket(left=timedelta(minutes=10), **taken)
    at_risk_waiting = escalated_ticket(left=timedelta(minutes=40))
    on_track_taken = escalated_ticket(left=timedelta(hours=3), **taken)
    on_track_waiting = escalated_ticket(left=timedelta(hours=5))
    no_sla = escalated_ticket(left=None)
    _, token = wall_display()

    html = open_screen(client, token).content.decode()

    expected = [breached_waiting, breached_long_ago_taken, breached_taken, at_risk_waiting, at_risk_taken,
                on_track_waiting, on_track_taken, no_sla]
    shown = sorted(expected, key=lambda e: html.index(f'data-ticket="{e.ticket.pk}"'))
    assert [e.ticket.name for e in shown] == [e.ticket.name for e in expected]


@pytest.mark.parametrize("asked, shown", [("", 15), ("2", 2), ("300", 300), ("0", 15), ("301", 15),
                                           ("x", 15), ("²", 15)])
def test_a_screen_may_ask_for_another_page_interval(client, synced, asked, shown):
    _, token = wall_display()
    html = open_screen(client, token, page_seconds=asked).content.decode()
    assert f'data-page-seconds="{shown}"' in html


# -- the URL and the demo ----------------------------------------------------------------------------


def test_the_wall_url_starts_with_the_console_address(settings):
    settings.DASHBOARD_BASE_URL = "https://console.example.com"
    assert wall_url("abc") == "https://console.example.com/wall/abc/"


def test_the_demo_wall_gets_a_fresh_url_at_each_start(client, synced):
    first = demo_wall_ensure()
    second = demo_wall_ensure()

    assert WallDisplay.objects.filter(name="Demo wall").count() == 1
    assert client.get(wall(first)).status_code == 404
    assert open_screen(client, second).status_code == 200
