"""The first page: open mirrored tickets behind a login, nearest deadline first."""

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from escalations.models import Ticket
from escalations.sync.run import sync_odoo
from tests.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(db):
    return User.objects.create_user("lead", password="a-long-password")


def test_page_requires_login(client):
    response = client.get(reverse("tickets"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_lists_open_tickets_sorted_by_deadline_with_a_fixed_number_of_queries(
    odoo, client, lead, django_assert_max_num_queries
):
    sync_odoo(full=True)
    client.force_login(lead)
    # At the simulator's own moment: on the real date every seeded deadline would have passed.
    with time_machine.travel(T0, tick=False), django_assert_max_num_queries(8):
        response = client.get(reverse("tickets"))
    assert response.status_code == 200
    html = response.content.decode()
    open_tickets = list(Ticket.objects.open().exclude(clock__deadline=None).order_by("clock__deadline"))
    closed = Ticket.objects.exclude(odoo_id__in=Ticket.objects.open().values("odoo_id")).first()
    assert len(open_tickets) >= 2
    positions = [html.index(f">{t.reference}<") for t in open_tickets[:5]]
    assert positions == sorted(positions)
    assert closed is not None and f">{closed.reference}<" not in html
    assert "Breached" in html and "On track" in html
    assert f"{odoo.url}/web#id={open_tickets[0].odoo_id}&amp;model=helpdesk.ticket" in html


def test_page_says_when_nothing_was_synced_yet(client, lead):
    client.force_login(lead)
    response = client.get(reverse("tickets"))
    assert "Not synced with Odoo yet" in response.content.decode()


@pytest.mark.parametrize(
    "cookie, zone", [("Europe/Brussels", "Europe/Brussels"), ("", "UTC"), ("Mars/Base", "UTC")]
)
def test_times_are_shown_in_the_viewers_time_zone(odoo, client, lead, cookie, zone):
    from zoneinfo import ZoneInfo

    sync_odoo(full=True)
    client.force_login(lead)
    if cookie:
        client.cookies["tz"] = cookie
    html = client.get(reverse("tickets")).content.decode()
    first = Ticket.objects.open().exclude(clock__deadline=None).order_by("clock__deadline")[0]
    deadline = first.clock.deadline
    local = deadline.astimezone(ZoneInfo(zone))
    # 24-hour and the zone named (the |when filter): "Sat 21 Nov 07:11 CET".
    assert f">{local:%a} {local.day} {local:%b %H:%M} {local:%Z}</time>" in html
