"""Guessing passwords: after LOGIN_FAILURE_LIMIT wrong ones for a user from one address, that user
cannot log in from there for a while, even with the right password; each failure and the lockout are
logged; another address, or an admin's reset, is not held back."""

import logging

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
RIGHT = "correct horse battery staple"


@pytest.fixture
def lena(db):
    user = UserFactory(username="lena")
    user.set_password(RIGHT)
    user.save()
    return user


def log_in(client, password, *, path="/login/", address="10.0.0.7"):
    return client.post(path, {"username": "lena", "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_ten_wrong_passwords_lock_that_user_from_that_address(lena, caplog, path):
    client = Client()
    caplog.set_level(logging.INFO)
    for attempt in range(10):
        response = log_in(client, f"guess-{attempt}", path=path)
        assert response.status_code in (200, 429)
    locked = log_in(client, RIGHT, path=path)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode() and "15m" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("axes")]
    assert sum("lena" in line and "failure" in line.lower() for line in lines) >= 10
    assert any("Locking out" in line and "lena" in line for line in lines)
    assert not any("guess-" in line or RIGHT in line for line in lines)  # never a password

    # Another address is not held back; an admin's reset lifts the lock.
    assert log_in(Client(), RIGHT, path="/login/", address="10.0.0.8").status_code == 302
    call_command("axes_reset_username", "lena")
    assert log_in(Client(), RIGHT, path="/login/").status_code == 302


def test_a_success_resets_the_count(lena):
    client = Client()
    for attempt in range(9):
        log_in(client, f"guess-{attempt}")
    assert log_in(client, RIGHT).status_code == 302
    client.logout()
    for attempt in range(9):
        log_in(client, f"again-{attempt}")
    assert log_in(client, RIGHT).status_code == 302
