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

from dashboard.logs import logging_config

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
    "csp",
    "escalations",
    "dashboard",
]

MIDDLEWARE = [
    # First: every log line of a request carries its id, and its latency covers every middleware.
    "dashboard.logs.RequestIdMiddleware",
    "dashboard.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "dashboard.permissions_policy.PermissionsPolicyMiddleware",
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
# A login lasts two weeks by default (Django's own), or until the browser closes when asked.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
# Messages wait in the session, on the server, not in a cookie: the admin's once-shown wall URL is one.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Every page works under a strict policy: scripts and styles only from our own files (no inline code,
# no eval, no style attributes), never framed, no plugins, forms posted only to the console.
# `data:` images: the empty favicon in base.html. Permissions-Policy: dashboard/permissions_policy.py.
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "connect-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    },
}

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
# With DEBUG off, pages name the copies collectstatic (the release step) made: compressed, and named
# after their content, so WhiteNoise lets browsers keep them for a year and a new release is fetched at
# once. A template naming a file collectstatic did not see fails loudly. The demo (DEBUG on) serves the
# files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Odoo -------------------------------------------------------------------------------------------
# The defaults point at the bundled simulator (`python manage.py odoo_simulator`). The API key has no
# default: the demo command generates one and hands it to both the simulator and the app.
def odoo_url(raw: str) -> str:
    """ODOO_URL, checked at start rather than at the first sync: odoorpc needs http(s) and a host, and
    speaks to the server's root, so a path would be dropped without a word."""
    from urllib.parse import urlsplit

    example = "e.g. https://mycompany.odoo.com or http://10.0.0.5:8069"
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ImproperlyConfigured(f"ODOO_URL is not a URL ({example}): {raw!r}") from None
    if parts.username or parts.password:  # never echoed: it may hold a password
        raise ImproperlyConfigured("ODOO_URL must not carry a login: the console logs in with ODOO_USER "
                                   "and ODOO_API_KEY")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"ODOO_URL must start with http:// or https:// and name a host ({example}), not {raw!r}"
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"ODOO_URL must be Odoo's address alone, with no path ({example}), not {raw!r}"
        )
    return raw


ODOO_URL = odoo_url(os.environ.get("ODOO_URL", "http://127.0.0.1:8069"))
ODOO_DB = os.environ.get("ODOO_DB", "helpdesk")
ODOO_USER = os.environ.get("ODOO_USER", "console@example.com")
ODOO_API_KEY = env_secret("ODOO_API_KEY")
ODOO_TIMEOUT = env_int("ODOO_TIMEOUT", 30)  # seconds, per RPC call
# How the console talks to Odoo: auto = JSON-2 from Odoo 19 on (it deprecates XML-RPC and JSON-RPC, and
# can switch them off), JSON-RPC before; jsonrpc or json2 force one.
ODOO_PROTOCOL = os.environ.get("ODOO_PROTOCOL", "").strip().lower() or "auto"
if ODOO_PROTOCOL not in ("auto", "jsonrpc", "json2"):
    raise ImproperlyConfigured(f"ODOO_PROTOCOL must be auto, jsonrpc or json2, not {ODOO_PROTOCOL!r}")
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
# Webhooks from Odoo's automation rule (escalations.push, `manage.py odoo_webhooks`): posts a hook takes
# per minute; past it they are refused (429) and the periodic sync brings those changes.
ODOO_HOOK_RATE_PER_MINUTE = env_int("ODOO_HOOK_RATE_PER_MINUTE", 600)

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

# --- Reports (escalations.reports) -----------------------------------------------------------------
# How often the reports' rollup takes in what changed (escalations.reports.rollup): the Reports page is
# at most this far behind.
REPORTS_ROLLUP_SECONDS = env_int("REPORTS_ROLLUP_SECONDS", 300)

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
if HTTPS and not DASHBOARD_BASE_URL.lower().startswith("https://"):
    # A wall display's URL carries its token: its first request would cross the network in clear.
    raise ImproperlyConfigured(
        f"DASHBOARD_BASE_URL must start with https:// when HTTPS is true, not {DASHBOARD_BASE_URL!r}: "
        "it is the address in the notices' links and the wall displays' URLs"
    )
# A notice that keeps failing for a temporary reason is given up after this many attempts; the wait
# between attempts doubles from NOTICE_RETRY_BASE_SECONDS up to NOTICE_RETRY_MAX_SECONDS.
NOTICE_MAX_ATTEMPTS = env_int("NOTICE_MAX_ATTEMPTS", 8)
NOTICE_RETRY_BASE_SECONDS = env_int("NOTICE_RETRY_BASE_SECONDS", 30)
NOTICE_RETRY_MAX_SECONDS = env_int("NOTICE_RETRY_MAX_SECONDS", 1800)
# A send still unfinished after this long is taken to have died with its worker, and tried again.
NOTICE_INFLIGHT_TIMEOUT_SECONDS = env_int("NOTICE_INFLIGHT_TIMEOUT_SECONDS", 600)
# How often beat sweeps for stuck notices (and sends due reminders).
NOTICE_SWEEP_INTERVAL_SECONDS = env_int("NOTICE_SWEEP_INTERVAL_SECONDS", 60)
# A person gets at most NOTICE_BUDGET single notices per NOTICE_BUDGET_WINDOW_MINUTES; the rest wait
# for one digest. Escalations whose trigger fired over NOTICE_BACKLOG_MINUTES before they were raised
# (a first sync, a long outage) always go in a digest.
NOTICE_BUDGET = env_int("NOTICE_BUDGET", 5)
NOTICE_BUDGET_WINDOW_MINUTES = env_int("NOTICE_BUDGET_WINDOW_MINUTES", 10)
NOTICE_BACKLOG_MINUTES = env_int("NOTICE_BACKLOG_MINUTES", 60)
if NOTICE_BUDGET < 0 or NOTICE_BUDGET_WINDOW_MINUTES < 1 or NOTICE_BACKLOG_MINUTES < 1:
    raise ImproperlyConfigured(
        "NOTICE_BUDGET must be 0 or more, NOTICE_BUDGET_WINDOW_MINUTES and NOTICE_BACKLOG_MINUTES 1 or more"
    )


def env_percents(name: str, default: str) -> tuple[int, ...]:
    """'50,10' -> (50, 10): shares of an SLA window, whole percents from 1 to 99, largest first."""
    try:
        values = {int(item) for item in env_list(name, default)}
    except ValueError:
        values = {0}
    if any(not 1 <= value <= 99 for value in values):
        raise ImproperlyConfigured(f"{name} must list whole percents from 1 to 99, e.g. 50,10")
    return tuple(sorted(values, reverse=True))


# Deadline reminders for an escalated ticket, at these shares of its SLA window left (each person may
# choose others on /settings/notices/); empty: none.
NOTICE_REMINDERS = env_percents("NOTICE_REMINDERS", "50,10")

# --- Wall display ----------------------------------------------------------------------------------
# How often a wall screen asks whether its queue changed (an unchanged answer is an empty 204).
WALL_POLL_SECONDS = env_int("WALL_POLL_SECONDS", 10)
# A wall warns that its data may be out of date when the last successful sync is older than this.
WALL_STALE_AFTER_SECONDS = env_int("WALL_STALE_AFTER_SECONDS", 180)
# Rows a wall renders; the screen shows as many as fit and says how many more there are.
WALL_ROWS = env_int("WALL_ROWS", 100)
# Wrong display tokens (wall and JSON feed) from one address: past this many in WALL_TOKEN_GUESS_MINUTES,
# that address is refused (429), right token or not, until the window ends. Counted in Django's cache.
WALL_TOKEN_GUESS_LIMIT = env_int("WALL_TOKEN_GUESS_LIMIT", 20)
WALL_TOKEN_GUESS_MINUTES = env_int("WALL_TOKEN_GUESS_MINUTES", 10)

# --- Cache ------------------------------------------------------------------------------------------
# What must count across processes lives in the cache: the wall token guesses, the webhook's rate and
# its debounce per ticket. Django's local-memory cache by default (no server to run), where each process
# counts on its own: N web processes allow N times the limits. With more than one web process or
# worker, point CACHE_URL at Redis (a database of its own, never the broker's).
CACHE_URL = env_secret("CACHE_URL")
if CACHE_URL:
    if CACHE_URL.split("://", 1)[0] not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured("CACHE_URL must be a Redis URL, e.g. redis://127.0.0.1:6379/1")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}

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
# Exactly one beat per database: a second refuses to start and says which one runs (dashboard.beat_lock).
CELERY_BEAT_SCHEDULER = "dashboard.beat_lock:LockedScheduler"
# How often beat makes sure it still holds that lock (at worst, two beats overlap this long after a
# database failover).
BEAT_LOCK_CHECK_SECONDS = env_int("BEAT_LOCK_CHECK_SECONDS", 15)
# When each periodic task last ran, kept by beat (its folder made by the scheduler when it starts).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Worker processes; Celery's default is one per CPU. The tasks mostly wait for Odoo and SMTP, so up to
# twice the cores pays off on a machine that runs nothing else (README, "Running in production").
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 0) or None
# A task still running after the soft limit is interrupted (SoftTimeLimitExceeded unwinds it: the sync
# gives back its lease, a send stays for the sweeper) and its process is killed at the hard limit if it
# does not stop, so a stuck Odoo call (one that trickles bytes, which ODOO_TIMEOUT per read does not
# catch) cannot hold a worker forever. Sized to the longest task, a full sync: 20,000 tickets take
# seconds against the simulator, 100,000 against a slow Odoo several minutes. Only the prefork pool
# (the production worker's) enforces them; the demo's solo pool does not.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 900)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", CELERY_TASK_SOFT_TIME_LIMIT + 60)
if not 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_SOFT_TIME_LIMIT must be above 0 and below CELERY_TASK_TIME_LIMIT")


def send_time_limits(lease_seconds: int) -> dict:
    """A send is interrupted at 80% of its lease and killed at 90%, so the sweeper that re-queues a send
    after its lease only ever re-queues one that is dead."""
    return {"soft_time_limit": min(CELERY_TASK_SOFT_TIME_LIMIT, lease_seconds * 0.8),
            "time_limit": min(CELERY_TASK_TIME_LIMIT, lease_seconds * 0.9)}


CELERY_TASK_ANNOTATIONS = {
    "escalations.tasks.send_odoo_action": send_time_limits(OUTBOX_LEASE_SECONDS),
    "escalations.tasks.send_notice": send_time_limits(NOTICE_INFLIGHT_TIMEOUT_SECONDS),
}

# --- Health and metrics (dashboard.health, dashboard.metrics) ---------------------------------------
# Beat sends a heartbeat task this often; /readyz fails when no worker stamped it for
# READYZ_BEAT_MAX_AGE_SECONDS (beat or every worker down).
BEAT_HEARTBEAT_SECONDS = env_int("BEAT_HEARTBEAT_SECONDS", 30)
READYZ_BEAT_MAX_AGE_SECONDS = env_int("READYZ_BEAT_MAX_AGE_SECONDS", 4 * BEAT_HEARTBEAT_SECONDS)
# ... when no sync succeeded for this long (six incremental periods: Odoo down, the key refused) ...
READYZ_SYNC_MAX_AGE_SECONDS = env_int("READYZ_SYNC_MAX_AGE_SECONDS", 6 * SYNC_INTERVAL_SECONDS)
# ... and when an action has waited this long to reach Odoo (a lease and the longest retry wait).
READYZ_OUTBOX_MAX_AGE_SECONDS = env_int("READYZ_OUTBOX_MAX_AGE_SECONDS",
                                        OUTBOX_LEASE_SECONDS + OUTBOX_RETRY_MAX_SECONDS)
# /metrics answers a bearer token, or requests from these networks that came through no proxy.
METRICS_TOKEN = env_secret("METRICS_TOKEN")


def env_networks(name: str, default: str) -> list[str]:
    import ipaddress

    networks = env_list(name, default)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {network!r} is not a network such as 10.0.0.0/8") from None
    return networks


METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
# Set, every process (web, worker, beat) writes its counters there and /metrics adds them up: the same
# existing folder for all, emptied before they start (prometheus_client's multiprocess mode).
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if "PROMETHEUS_MULTIPROC_DIR" in os.environ and not PROMETHEUS_MULTIPROC_DIR:
    # prometheus-client acts on the variable being there: empty, it writes its files in the working folder.
    raise ImproperlyConfigured("PROMETHEUS_MULTIPROC_DIR is empty: name a folder, or leave it out")
# Probes and scrapers often speak plain HTTP to the process itself, inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Logging (dashboard.logs) -----------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
# "text" for people, "json" (a JSON object per line, with request, task and ticket ids) for collectors.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# A worker keeps these handlers instead of Celery's own text format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# --- Error reports (dashboard.error_reports) --------------------------------------------------------
# Set, unexpected errors go to Sentry (or a compatible service), with no personal data of anyone.
SENTRY_DSN = env_secret("SENTRY_DSN")
if SENTRY_DSN:
    from dashboard.error_reports import error_reports_init

    error_reports_init(SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", ""))
