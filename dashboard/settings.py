"""Settings for the escalation console.

Every setting comes from the environment, with an embedded default that runs the demo: SQLite, Celery
on a folder-based broker (no server) and the bundled Odoo simulator on 127.0.0.1:8069. `.env.example`
lists every variable. DEBUG is off unless asked for (`make demo` and the test settings ask), and there
is no default production secret: without SECRET_KEY the app only starts with DEBUG on. Each secret may
also come from a file, NAME_FILE (Docker's and systemd's credentials), instead of the environment.

Loading these settings writes nothing: the folders under VAR_DIR are made where they are used (the
SQLite backend makes its file's folder, the Celery app the folder broker's, collectstatic STATIC_ROOT,
the demo its own).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or read from the file NAME_FILE names (its trailing newline dropped)."""
    path = os.environ.get(f"{name}_FILE", "")
    if not path:
        return os.environ.get(name, "") or default
    if os.environ.get(name):
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {path} ({exc})") from None


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


# Off unless asked for: an installation that forgets it must not show debug pages (with the URL list
# and settings) to anyone who asks for a missing ticket.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (for a local demo, set DEBUG=true or run `make demo`)"
        )
    # Only for the local demo: a key that is obviously not a secret.
    SECRET_KEY = "insecure-demo-key-set-SECRET_KEY-in-production"

def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Served over HTTPS (in production): cookies only over TLS, plain HTTP redirected, HSTS. Off by default
# so that the demo runs on http://127.0.0.1. Behind a TLS-terminating proxy, trust its X-Forwarded-Proto.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "escalations",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After htmx's: its 400 is a message to swap in when an htmx request carried the NUL.
    "dashboard.nul_bytes.RejectNulBytesMiddleware",
    "dashboard.timezones.ViewerTimeZoneMiddleware",
    "dashboard.caching.PrivatePagesMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Sessions read from the cache (written through to the database): an unchanged queue poll then costs
# two queries (the user, the change stamp) instead of three.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.odoo_key",
            ],
        },
    },
]

# SQLite by default (a file under var/), PostgreSQL or anything dj-database-url reads when set.
DATABASES = {
    "default": dj_database_url.parse(
        env_secret("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's, making the folder of its file when it first connects (var/ is not in the repository).
    DATABASES["default"]["ENGINE"] = "dashboard.sqlite3"
    # The web process, the worker and beat share one file: wait for locks instead of failing at once,
    # and take the write lock at BEGIN so that two writers never deadlock on upgrade.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so that a Celery worker started by a test sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's usual four: long enough, not like the username or email, not a common password, not all
# digits ("password" and "12345678" are refused wherever a password is set through a form).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins (the console's and the admin's) are counted per username and address by django-axes:
# after LOGIN_FAILURE_LIMIT in a row, that pair is locked out for LOGIN_LOCKOUT_MINUTES (a success
# resets the count); each failure and each lockout is logged; an admin unlocks from the admin's "Access
# attempts" or with `manage.py axes_reset_username <name>`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no banner at every start; failures and lockouts are logged all the same
# Each failure and lockout is logged with the username and address (never the password), for whoever
# reads the logs; axes masks both by default.
AXES_SENSITIVE_PARAMETERS: list[str] = []
# The debug page (DEBUG on) never shows a secret, including the passwords inside the broker's and the
# email server's URLs.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.debug.SecretsFilter"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"  # made by collectstatic (and the demo)

# --- Odoo -------------------------------------------------------------------------------------------
# The defaults point at the bundled simulator (`python manage.py odoo_simulator`). The API key has no
# default: the demo command generates one and hands it to both the simulator and the app.
ODOO_URL = os.environ.get("ODOO_URL", "http://127.0.0.1:8069")
ODOO_DB = os.environ.get("ODOO_DB", "helpdesk")
ODOO_USER = os.environ.get("ODOO_USER", "console@example.com")
ODOO_API_KEY = env_secret("ODOO_API_KEY")
ODOO_TIMEOUT = env_int("ODOO_TIMEOUT", 30)  # seconds, per RPC call
# Base of the links that open a ticket in Odoo's web client; Odoo's own URL unless a proxy differs.
ODOO_WEB_URL = os.environ.get("ODOO_WEB_URL", "") or ODOO_URL

# --- Sync -------------------------------------------------------------------------------------------
SYNC_INTERVAL_SECONDS = env_int("SYNC_INTERVAL_SECONDS", 30)
SYNC_FULL_INTERVAL_SECONDS = env_int("SYNC_FULL_INTERVAL_SECONDS", 3600)
SYNC_PAGE_SIZE = env_int("SYNC_PAGE_SIZE", 500)
# Odoo stamps write_date with the start of the writing transaction, so a slow transaction can commit
# rows older than our cursor. Each incremental sync re-reads this many seconds behind it.
SYNC_OVERLAP_SECONDS = env_int("SYNC_OVERLAP_SECONDS", 300)
# After Odoo refuses our login or API key, periodic syncs wait this long before trying again.
SYNC_AUTH_PAUSE_SECONDS = env_int("SYNC_AUTH_PAUSE_SECONDS", 600)

# --- Escalation engine ------------------------------------------------------------------------------
# How often Celery beat evaluates the escalation rules (it also runs after each sync).
ENGINE_INTERVAL_SECONDS = env_int("ENGINE_INTERVAL_SECONDS", 60)

# --- Routine automation (escalations.automation) --------------------------------------------------
# How often beat runs the automation rules (they also run after each sync).
AUTOMATION_INTERVAL_SECONDS = env_int("AUTOMATION_INTERVAL_SECONDS", 60)
# At most this many tickets changed per pass: past it the pass stops and the supervisors are told.
AUTOMATION_RUN_CAP = env_int("AUTOMATION_RUN_CAP", 50)
# No rule touches a ticket a person changed (in Odoo or from the console) within this many minutes.
AUTOMATION_HANDS_OFF_MINUTES = env_int("AUTOMATION_HANDS_OFF_MINUTES", 15)
# Tickets whose conversation with the customer is longer than this (emails and comments) go to a person.
AUTOMATION_LONG_THREAD = env_int("AUTOMATION_LONG_THREAD", 10)
# Tickets with any of these tags, or whose customer (or their company) carries one in Odoo, are handed
# to a person, never automated (comma-separated, any case).
AUTOMATION_PERSON_TAGS = [
    t.strip() for t in os.environ.get("AUTOMATION_PERSON_TAGS", "VIP").split(",") if t.strip()
]

# --- Outbox (actions written back to Odoo) ----------------------------------------------------------
# How often beat sweeps the outbox: re-sends actions whose retry time came, re-queues stuck ones.
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 10)
# An action inflight for longer than this is taken to belong to a dead worker and is re-queued; keep it
# above the longest send (about 8 Odoo calls of up to ODOO_TIMEOUT each), or a slow send may run twice.
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 300)
# How often an open queue page asks whether anything changed (an unchanged answer is an empty 204).
QUEUE_POLL_SECONDS = env_int("QUEUE_POLL_SECONDS", 10)
# Retries while Odoo is unreachable: base * 2^(attempt-1) seconds, capped.
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 5)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 300)

# --- Email notices ---------------------------------------------------------------------------------
# EMAIL_URL, when set, says it all: smtp://user:pass@host:587?tls=1, smtp+ssl://user:pass@host:465,
# smtp+tls://.. (STARTTLS), console:// (prints), file:///a/folder (a file per email) or locmem://.
# Otherwise Django's usual EMAIL_HOST, EMAIL_PORT, .. variables; with none of them, emails are printed
# to the console (every notice is also kept in the database, with its state).
def email_settings(url: str) -> dict:
    """Django's email settings from an EMAIL_URL; ImproperlyConfigured when it cannot be read."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("console", "locmem", "dummy"):
        return {"EMAIL_BACKEND": f"django.core.mail.backends.{scheme}.EmailBackend"}
    if scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:// names no folder, e.g. file:///var/mail/console")
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": unquote(parts.path)}
    if scheme not in ("smtp", "smtps", "smtp+ssl", "smtp+tls", "submission"):
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with smtp://, smtp+ssl://, smtp+tls://, console:// or file://, "
            f"not {scheme!r}://"
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no host, e.g. smtp://user:password@mail.example.com:587")
    query = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    use_ssl = scheme in ("smtps", "smtp+ssl") or query.get("ssl") in ("1", "true", "yes")
    use_tls = scheme in ("smtp+tls", "submission") or query.get("tls") in ("1", "true", "yes")
    if use_ssl and use_tls:
        raise ImproperlyConfigured("EMAIL_URL asks for both SSL and STARTTLS; choose one")
    try:
        port = parts.port or (465 if use_ssl else 587 if use_tls else 25)
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {parts.netloc.rsplit(':', 1)[-1]!r}") from None
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname, "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": use_ssl, "EMAIL_USE_TLS": use_tls,
    }


def email_variables() -> dict:
    """Django's email settings from its usual variables (EMAIL_HOST set), or the console."""
    if not os.environ.get("EMAIL_HOST"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    use_tls, use_ssl = env_bool("EMAIL_USE_TLS", False), env_bool("EMAIL_USE_SSL", False)
    if use_tls and use_ssl:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": os.environ["EMAIL_HOST"], "EMAIL_PORT": env_int("EMAIL_PORT", 25),
        "EMAIL_HOST_USER": os.environ.get("EMAIL_HOST_USER", ""),
        "EMAIL_HOST_PASSWORD": env_secret("EMAIL_HOST_PASSWORD"),
        "EMAIL_USE_SSL": use_ssl, "EMAIL_USE_TLS": use_tls,
    }


EMAIL_URL = env_secret("EMAIL_URL")
_email = email_settings(EMAIL_URL) if EMAIL_URL else email_variables()
# Each named here, so that a reader (and a linter) sees every setting this module defines.
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # seconds per SMTP operation
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Escalation console <escalations@localhost>")
# Base of the dashboard links in notices: the address people open the console at.
DASHBOARD_BASE_URL = os.environ.get("DASHBOARD_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# A notice that keeps failing for a temporary reason is given up after this many attempts; the wait
# between attempts doubles from NOTICE_RETRY_BASE_SECONDS up to NOTICE_RETRY_MAX_SECONDS.
NOTICE_MAX_ATTEMPTS = env_int("NOTICE_MAX_ATTEMPTS", 8)
NOTICE_RETRY_BASE_SECONDS = env_int("NOTICE_RETRY_BASE_SECONDS", 30)
NOTICE_RETRY_MAX_SECONDS = env_int("NOTICE_RETRY_MAX_SECONDS", 1800)
# A send still unfinished after this long is taken to have died with its worker, and tried again.
NOTICE_INFLIGHT_TIMEOUT_SECONDS = env_int("NOTICE_INFLIGHT_TIMEOUT_SECONDS", 600)
# How often beat sweeps for stuck notices (and sends due reminders).
NOTICE_SWEEP_INTERVAL_SECONDS = env_int("NOTICE_SWEEP_INTERVAL_SECONDS", 60)

# --- Wall display ----------------------------------------------------------------------------------
# How often a wall screen asks whether its queue changed (an unchanged answer is an empty 204).
WALL_POLL_SECONDS = env_int("WALL_POLL_SECONDS", 10)
# A wall warns that its data may be out of date when the last successful sync is older than this.
WALL_STALE_AFTER_SECONDS = env_int("WALL_STALE_AFTER_SECONDS", 180)
# Rows a wall renders; the screen shows as many as fit and says how many more there are.
WALL_ROWS = env_int("WALL_ROWS", 100)

# --- Celery -----------------------------------------------------------------------------------------
# No broker server by default: kombu's filesystem transport on a folder under var/. Redis (or any
# broker URL) when CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    # The folders are made by the Celery app when it reads this (dashboard.celery).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery-queue"),
        "data_folder_out": str(VAR_DIR / "celery-queue"),
        # kombu's default is a "control" folder in the current directory.
        "control_folder": str(VAR_DIR / "celery-control"),
        "polling_interval": 0.2,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"

# --- Logging ----------------------------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # odoorpc 0.10.1 logs every JSON-RPC body at DEBUG, with the API key in clear text. Never let
        # it go below INFO, whatever LOG_LEVEL says.
        "odoorpc": {"level": "INFO" if LOG_LEVEL == "DEBUG" else LOG_LEVEL},
    },
}
