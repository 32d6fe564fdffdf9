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
SECRETS = ["SECRET_KEY", "ODOO_API_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL",
           "EMAIL_HOST_PASSWORD"]
ENV_NAMES = [*SECRETS, *(f"{name}_FILE" for name in SECRETS), "DEBUG", "ODOO_URL", "EMAIL_HOST"]


def load_settings(tmp_path, probe=PROBE, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env = {"VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "settings-test-secret", **env}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**clean, **{k: v for k, v in env.items() if v is not None}},
    )
    return result


def test_embedded_defaults_are_sqlite_and_a_folder_broker_with_debug_off(tmp_path):
    result = load_settings(tmp_path)
    values = json.loads(result.stdout)
    assert values == {
        "db": "dashboard.sqlite3", "broker": "filesystem://", "odoo": "http://127.0.0.1:8069", "debug": False,
    }


def test_loading_the_settings_makes_no_folder(tmp_path):
    assert load_settings(tmp_path).returncode == 0
    assert not (tmp_path / "var").exists()


def test_the_sqlite_database_and_the_folder_broker_make_their_folders_when_used(tmp_path):
    """A fresh checkout has no var/: the first migrate makes the database's, the first task sent the
    broker's."""
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    clean = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env = {**clean, "VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "settings-test-secret"}
    migrate = subprocess.run([*manage, "migrate", "-v", "0"], cwd=settings.BASE_DIR, capture_output=True,
                             text=True, env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "var" / "db.sqlite3").is_file()

    send = ("import django; django.setup(); from escalations.enqueue import SEND_NOTICE, enqueue; "
            "print(enqueue(SEND_NOTICE, 7))")
    sent = subprocess.run([sys.executable, "-c", send], cwd=settings.BASE_DIR, capture_output=True, text=True,
                          env={**env, "DJANGO_SETTINGS_MODULE": "dashboard.settings"})
    assert sent.stdout.strip() == "True", sent.stderr
    assert [p.name.endswith(".msg") for p in (tmp_path / "var" / "celery-queue").iterdir()] == [True]


SECRET_PROBE = (
    "import json, dashboard.settings as s; "
    "print(json.dumps({'secret': s.SECRET_KEY, 'key': s.ODOO_API_KEY, 'db': s.DATABASES['default']['NAME'], "
    "'broker': s.CELERY_BROKER_URL, 'email': [s.EMAIL_HOST, s.EMAIL_HOST_PASSWORD]}))"
)


def test_each_secret_can_come_from_a_file(tmp_path):
    files = {
        "SECRET_KEY": "from-a-file\n",  # as `echo` and editors write it: the newline is not the secret's
        "ODOO_API_KEY": "odoo-key-from-a-file\n",
        "DATABASE_URL": "postgres://console:pw@db.example.com:5432/console\n",
        "CELERY_BROKER_URL": "redis://:pw@127.0.0.1:6379/4",
        "EMAIL_URL": "smtp://mailer:s3cret@mail.example.com:587?tls=1\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = load_settings(tmp_path, SECRET_PROBE, SECRET_KEY=None,
                           **{f"{name}_FILE": str(tmp_path / name) for name in files})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "secret": "from-a-file", "key": "odoo-key-from-a-file", "db": "console",
        "broker": "redis://:pw@127.0.0.1:6379/4", "email": ["mail.example.com", "s3cret"],
    }


def test_the_smtp_password_can_come_from_a_file(tmp_path):
    (tmp_path / "password").write_text("p@ss word\n")
    result = load_settings(tmp_path, SECRET_PROBE, EMAIL_HOST="smtp.example.com",
                           EMAIL_HOST_PASSWORD_FILE=str(tmp_path / "password"))
    assert json.loads(result.stdout)["email"] == ["smtp.example.com", "p@ss word"]


def test_a_secret_set_twice_or_a_file_that_cannot_be_read_is_a_clear_error(tmp_path):
    (tmp_path / "key").write_text("one")
    both = load_settings(tmp_path, ODOO_API_KEY="two", ODOO_API_KEY_FILE=str(tmp_path / "key"))
    assert both.returncode != 0 and "Set ODOO_API_KEY or ODOO_API_KEY_FILE, not both" in both.stderr
    missing = load_settings(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(tmp_path / "nowhere"))
    assert missing.returncode != 0
    assert f"SECRET_KEY_FILE: cannot read {tmp_path / 'nowhere'}" in missing.stderr


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
