"""Email settings from the environment: EMAIL_URL, Django's EMAIL_* variables, or the console."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dashboard.settings import email_settings

PROBE = (
    "import json, dashboard.settings as s; "
    "print(json.dumps({k: getattr(s, k, None) for k in ['EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', "
    "'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'DASHBOARD_BASE_URL']}))"
)


def load(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DASHBOARD_"))}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, capture_output=True,
                            text=True, env={**clean, "VAR_DIR": str(tmp_path), **env})
    return result


def test_without_email_settings_notices_are_printed_to_the_console(tmp_path):
    values = json.loads(load(tmp_path).stdout)
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["DASHBOARD_BASE_URL"] == "http://127.0.0.1:8000"


def test_email_url_sets_the_smtp_server(tmp_path):
    values = json.loads(load(tmp_path, EMAIL_URL="smtp://u:p%40ss@mail.example.com:2525?tls=1",
                             DASHBOARD_BASE_URL="https://console.example.com/").stdout)
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 2525, "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False,
        "DASHBOARD_BASE_URL": "https://console.example.com",
    }


def test_djangos_usual_email_variables_work_too(tmp_path):
    values = json.loads(load(tmp_path, EMAIL_HOST="smtp.example.com", EMAIL_PORT="465",
                             EMAIL_USE_SSL="true").stdout)
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"], values["EMAIL_USE_SSL"]) == (
        "smtp.example.com", 465, True)


def test_email_url_forms():
    ssl = email_settings("smtp+ssl://me:secret@mail.example.com")
    assert (ssl["EMAIL_PORT"], ssl["EMAIL_USE_SSL"], ssl["EMAIL_HOST_USER"], ssl["EMAIL_HOST_PASSWORD"]) == (
        465, True, "me", "secret")
    assert email_settings("smtp://localhost")["EMAIL_PORT"] == 25
    assert email_settings("console://") == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


@pytest.mark.parametrize("url, message", [
    ("http://mail.example.com", "EMAIL_URL must start with smtp://"),
    ("smtp://", "EMAIL_URL names no host"),
    ("smtp+ssl://host?tls=1", "both SSL and STARTTLS"),
    ("smtp://host:port", "bad port"),
])
def test_a_bad_email_url_is_a_clear_configuration_error(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        email_settings(url)


def test_a_bad_email_url_stops_the_app_with_the_message(tmp_path):
    result = load(tmp_path, EMAIL_URL="imap://mail.example.com")
    assert result.returncode != 0 and "EMAIL_URL must start with smtp://" in result.stderr


def test_a_file_url_writes_each_email_to_a_folder(tmp_path):
    assert email_settings("file:///srv/console/mail") == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/srv/console/mail",
    }
    with pytest.raises(ImproperlyConfigured, match="names no folder"):
        email_settings("file://")
