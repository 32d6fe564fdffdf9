"""Settings are checked when a process starts, each mistake with a message that says what to fix: a
missing SECRET_KEY, an ODOO_URL that is not Odoo's address, time limits the wrong way round (when the
settings are read, by every process); a broker that does not answer (`check --deploy`, and so the
release step, which then stops before it touches the database)."""

import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

from tests.ports import free_port
from tests.workers import worker_broker_url

# Variables that must come from the test alone, not from the suite's environment (conftest allows
# async-unsafe database access, which the deployment checks refuse).
OWN = ["SECRET_KEY", "DEBUG", "ODOO_URL", "CELERY_BROKER_URL", "DATABASE_URL", "CELERY_TASK_SOFT_TIME_LIMIT",
       "CELERY_TASK_TIME_LIMIT", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"]


def manage(tmp_path, *command, **env):
    clean = {k: v for k, v in os.environ.items() if k not in OWN}
    env = {"VAR_DIR": str(tmp_path), "SECRET_KEY": "startup-checks-test-secret-" + "x" * 40, **env}
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**clean, **{k: v for k, v in env.items() if v is not None}}, timeout=60,
    )
    return result.returncode, result.stdout + result.stderr



@pytest.mark.parametrize("url, says", [
    ("odoo.example.com", "ODOO_URL must start with http:// or https:// and name a host"),
    ("ftp://odoo.example.com", "ODOO_URL must start with http:// or https:// and name a host"),
    ("https://", "ODOO_URL must start with http:// or https:// and name a host"),
    ("http://odoo.example.com:80x", "ODOO_URL is not a URL"),
    ("https://odoo.example.com/odoo", "ODOO_URL must be Odoo's address alone, with no path"),
])
def test_an_odoo_url_that_is_not_odoos_address_stops_every_command(tmp_path, url, says):
    code, output = manage(tmp_path, "check", ODOO_URL=url)
    assert code != 0 and says in output and "e.g. https://mycompany.odoo.com" in output, output


def test_an_odoo_url_with_a_login_is_refused_without_showing_the_password(tmp_path):
    code, output = manage(tmp_path, "check", ODOO_URL="https://console:hunter2-secret@odoo.example.com")
    assert code != 0 and "ODOO_URL must not carry a login" in output, output
    assert "hunter2-secret" not in output


def test_odoos_address_with_a_port_or_a_trailing_slash_is_fine(tmp_path):
    for url in ("http://10.0.0.5:8069", "https://mycompany.odoo.com/"):
        code, output = manage(tmp_path, "check", ODOO_URL=url)
        assert code == 0, output


def test_without_secret_key_and_debug_off_the_release_step_says_so(tmp_path):
    code, output = manage(tmp_path, "release", SECRET_KEY=None, DEBUG="false")
    assert code != 0 and "SECRET_KEY must be set when DEBUG is off" in output, output


def test_time_limits_the_wrong_way_round_are_refused(tmp_path):
    code, output = manage(tmp_path, "check", CELERY_TASK_SOFT_TIME_LIMIT="600", CELERY_TASK_TIME_LIMIT="60")
    assert code != 0, output
    assert "CELERY_TASK_SOFT_TIME_LIMIT must be above 0 and below CELERY_TASK_TIME_LIMIT" in output


def test_a_broker_that_does_not_answer_stops_the_release_before_it_migrates(tmp_path):
    broker = f"redis{'://'}:broker-password@127.0.0.1:{free_port()}/9"
    code, output = manage(tmp_path, "release", CELERY_BROKER_URL=broker)
    assert code != 0, output
    assert "dashboard.E001" in output and "does not answer" in output, output
    assert "correct CELERY_BROKER_URL" in output
    assert "broker-password" not in output
    # Stopped at its first step: the database is as it was (not even made).
    database = tmp_path / "db.sqlite3"
    assert not database.exists() or not sqlite3.connect(database).execute(
        "SELECT name FROM sqlite_master WHERE name = 'django_migrations'").fetchall()
    assert "release 2/3" not in output


def test_a_broker_that_answers_passes_the_deploy_check(tmp_path):
    code, output = manage(tmp_path, "check", "--deploy", CELERY_BROKER_URL=worker_broker_url())
    assert code == 0 and "dashboard.E001" not in output, output
