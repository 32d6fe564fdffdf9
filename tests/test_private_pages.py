"""Small hardening: logged-in pages are never cached by anyone but that person's browser, and not even
there; weak passwords are refused; a time-zone cookie costs no scan of the zone files."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from dashboard import timezones
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/tickets/", "/automation/", "/automation/ledger/", "ticket"])
def test_pages_for_a_logged_in_person_are_private_and_not_stored(client, path):
    if path == "ticket":
        path = f"/tickets/{TicketFactory().pk}/"
    client.force_login(UserFactory())
    response = client.get(path)
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives


def test_a_visitors_pages_are_left_as_their_views_send_them(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("weak", ["password", "12345678", "qwertyuiop", "lena-lead-1"])
def test_weak_passwords_are_refused(weak):
    user = UserFactory(username="lena-lead-1", first_name="Lena", email="lena@example.com")
    with pytest.raises(ValidationError):
        validate_password(weak, user=user)
    validate_password("correct horse battery staple", user=user)


def test_a_time_zone_cookie_reads_the_zone_database_once(monkeypatch):
    calls = []
    real = timezones.available_timezones
    monkeypatch.setattr(timezones, "available_timezones", lambda: calls.append(1) or real())
    timezones.known_zones.cache_clear()
    request = RequestFactory().get("/", HTTP_COOKIE="tz=Europe/Brussels")
    for _ in range(3):
        assert str(timezones.viewer_time_zone(request)) == "Europe/Brussels"
    bogus = RequestFactory().get("/", HTTP_COOKIE="tz=Mars/Olympus")
    assert timezones.viewer_time_zone(bogus) is None
    assert calls == [1]
