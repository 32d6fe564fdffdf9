"""Wall displays in the admin: created with a name and a team, the URL shown once, revoked or renewed."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from escalations.models import WallDisplay
from tests.factories import TeamFactory
from tests.wall_factories import wall_display

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:escalations_walldisplay_changelist")
ADD = reverse("admin:escalations_walldisplay_add")


@pytest.fixture
def admin_client(client, settings):
    settings.DASHBOARD_BASE_URL = "https://console.example.com"
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    return client


def wall_urls(html: str) -> list[str]:
    return re.findall(r'href="(https://console\.example\.com/wall/[^"/]+/)"', html)


def test_creating_a_display_shows_its_url_once(admin_client):
    team = TeamFactory(name="Billing")

    response = admin_client.post(ADD, {"name": "North wall", "team": team.pk}, follow=True)

    (url,) = wall_urls(response.content.decode())
    token = url.rstrip("/").rsplit("/", 1)[1]
    display = WallDisplay.objects.get()
    assert (display.name, display.team, display.created_by.username) == ("North wall", team, "boss")
    assert WallDisplay.objects.for_token(token) == display
    assert display.token_hash != token and token not in display.token_prefix + display.token_hash
    # The next pages never show it again: only its hash is stored.
    assert wall_urls(admin_client.get(CHANGELIST).content.decode()) == []
    change = admin_client.get(reverse("admin:escalations_walldisplay_change", args=[display.pk]))
    assert token not in change.content.decode() and display.token_hash not in change.content.decode()


def test_the_list_shows_name_team_prefix_and_state(admin_client):
    display, _ = wall_display(name="Lobby screen")
    html = admin_client.get(CHANGELIST).content.decode()
    assert "Lobby screen" in html and "All teams" in html and f"{display.token_prefix}…" in html


def test_the_add_form_asks_only_for_a_name_and_a_team(admin_client):
    html = admin_client.get(ADD).content.decode()
    fields = set(re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z_]+)"', html))
    fields -= {"csrfmiddlewaretoken", "_save", "_addanother", "_continue"}
    assert fields == {"name", "team"}


def test_editing_a_display_keeps_its_token(admin_client):
    display, token = wall_display(name="Old name")
    url = reverse("admin:escalations_walldisplay_change", args=[display.pk])

    admin_client.post(url, {"name": "New name", "team": ""}, follow=True)

    assert WallDisplay.objects.for_token(token).name == "New name"


def test_the_revoke_action_ends_the_display(admin_client, client):
    display, token = wall_display()

    response = admin_client.post(CHANGELIST, {"action": "revoke_displays", "_selected_action": [display.pk]},
                                 follow=True)

    assert "1 display(s) revoked." in response.content.decode()
    display.refresh_from_db()
    assert display.revoked_at is not None
    assert client.get(reverse("wall", args=[token])).status_code == 403


def test_the_new_url_action_shows_a_working_url_once_and_ends_the_old_one(admin_client):
    display, old = wall_display()
    display.revoke()

    response = admin_client.post(CHANGELIST, {"action": "renew_tokens", "_selected_action": [display.pk]},
                                 follow=True)

    (url,) = wall_urls(response.content.decode())
    new = url.rstrip("/").rsplit("/", 1)[1]
    assert WallDisplay.objects.for_token(new) == display  # active again, with a new token
    assert WallDisplay.objects.with_token(old) is None


def all_cookies(*responses) -> str:
    return "\n".join(morsel.OutputString() for r in responses for morsel in r.cookies.values())


@pytest.mark.parametrize("how", ["create", "renew"])
def test_the_url_shown_once_travels_in_no_cookie(admin_client, how):
    """Django keeps messages in a signed but readable cookie by default: this one waits in the session,
    on the server, and the browser gets only the page that shows it."""
    if how == "create":
        saved = admin_client.post(ADD, {"name": "North wall", "team": ""})
    else:
        display, _ = wall_display()
        saved = admin_client.post(CHANGELIST, {"action": "renew_tokens", "_selected_action": [display.pk]})
    assert saved.status_code == 302

    shown = admin_client.get(saved["Location"])

    (url,) = wall_urls(shown.content.decode())
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert "messages" not in saved.cookies and "messages" not in shown.cookies
    assert token not in all_cookies(saved, shown)
    # Once: the next page has neither the URL nor a message.
    assert wall_urls(admin_client.get(CHANGELIST).content.decode()) == []
