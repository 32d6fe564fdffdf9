"""Settings come from the environment, with an embedded default for each."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = (
    "import json, dashboard.settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'broker': s.CELERY_BROKER_URL, "
    "'odoo': s.ODOO_URL, 'debug': s.DEBUG}))"
)
ENV_NAMES = ["DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG", "ODOO_URL", "ODOO_API_KEY"]


def load_settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**clean, "VAR_DIR": str(tmp_path), "SECRET_KEY": "settings-test-secret", **env},
    )
    return result


def test_embedded_defaults_are_sqlite_and_a_folder_broker_with_debug_off(tmp_path):
    result = load_settings(tmp_path)
    values = json.loads(result.stdout)
    assert values == {
        "db": "django.db.backends.sqlite3", "broker": "filesystem://",
        "odoo": "http://127.0.0.1:8069", "debug": False,
    }
    assert (tmp_path / "celery-queue").is_dir()


def test_database_and_broker_urls_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/x", CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
        ODOO_URL="https://odoo.example.com",
    )
    values = json.loads(result.stdout)
    assert values["db"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["odoo"] == "https://odoo.example.com"


def test_no_default_secret_in_production(tmp_path):
    result = load_settings(tmp_path, DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_an_installation_that_sets_nothing_refuses_to_start_rather_than_debug(tmp_path):
    """DEBUG is off by default: with neither it nor a secret, the app says how to run a demo."""
    result = load_settings(tmp_path, SECRET_KEY="")
    assert result.returncode != 0 and "set DEBUG=true or run `make demo`" in result.stderr
    assert json.loads(load_settings(tmp_path, DEBUG="true", SECRET_KEY="").stdout)["debug"] is True


def test_a_bad_value_is_a_clear_configuration_error(tmp_path):
    result = load_settings(tmp_path, DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG must be true or false, not 'maybe'" in result.stderr
