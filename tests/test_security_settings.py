"""Settings that guard the installation: an https address when HTTPS is on, a login's lifetime, and a
SQLite file that only its owner can read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

PROBE = ("import json, dashboard.settings as s; print(json.dumps({'age': s.SESSION_COOKIE_AGE, "
         "'at_close': s.SESSION_EXPIRE_AT_BROWSER_CLOSE, 'base': s.DASHBOARD_BASE_URL}))")
CLEARED = ["DEBUG", "HTTPS", "DASHBOARD_BASE_URL", "SESSION_COOKIE_AGE", "SESSION_EXPIRE_AT_BROWSER_CLOSE",
           "DATABASE_URL", "DATABASE_URL_FILE", "DJANGO_SETTINGS_MODULE"]


def run(tmp_path, args: list[str], **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**clean, "VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "security-settings-test", **env},
    )


def probe(tmp_path, **env) -> subprocess.CompletedProcess:
    return run(tmp_path, ["-c", PROBE], **env)


def test_https_refuses_to_start_with_a_plain_http_dashboard_address(tmp_path):
    unset = probe(tmp_path, HTTPS="true")
    assert unset.returncode != 0
    assert "DASHBOARD_BASE_URL must start with https:// when HTTPS is true" in unset.stderr
    assert "'http://127.0.0.1:8000'" in unset.stderr
    plain = probe(tmp_path, HTTPS="true", DASHBOARD_BASE_URL="http://console.example.com")
    assert plain.returncode != 0 and "DASHBOARD_BASE_URL must start with https://" in plain.stderr

    ok = probe(tmp_path, HTTPS="true", DASHBOARD_BASE_URL="https://console.example.com/")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["base"] == "https://console.example.com"
    assert probe(tmp_path, DASHBOARD_BASE_URL="http://127.0.0.1:8000").returncode == 0  # the demo


def test_a_login_lasts_two_weeks_by_default_or_as_configured(tmp_path):
    assert json.loads(probe(tmp_path).stdout) == {
        "age": 14 * 24 * 3600, "at_close": False, "base": "http://127.0.0.1:8000"}
    values = json.loads(probe(tmp_path, SESSION_COOKIE_AGE="28800",
                              SESSION_EXPIRE_AT_BROWSER_CLOSE="true").stdout)
    assert (values["age"], values["at_close"]) == (28800, True)
    bad = probe(tmp_path, SESSION_COOKIE_AGE="8h")
    assert bad.returncode != 0 and "SESSION_COOKIE_AGE must be a whole number" in bad.stderr


def log_in(client) -> dict:
    User.objects.create_user("lena", password="a-long-test-password")
    response = client.post(reverse("login"), {"username": "lena", "password": "a-long-test-password"})
    assert response.status_code == 302
    return response.cookies[settings.SESSION_COOKIE_NAME]


@pytest.mark.django_db
def test_the_session_cookie_follows_the_configured_lifetime(client, settings):
    settings.SESSION_COOKIE_AGE = 8 * 3600
    cookie = log_in(client)
    assert cookie["max-age"] == 8 * 3600 and cookie["httponly"]


@pytest.mark.django_db
def test_a_session_can_end_when_the_browser_closes(client, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    cookie = log_in(client)
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie


def test_the_sqlite_database_file_is_readable_by_its_owner_only(tmp_path):
    migrate = run(tmp_path, ["manage.py", "migrate", "-v", "0"])
    assert migrate.returncode == 0, migrate.stderr
    database = tmp_path / "var" / "db.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    # A file that exists keeps the mode its owner gave it.
    database.chmod(0o640)
    assert run(tmp_path, ["manage.py", "migrate", "-v", "0"]).returncode == 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
