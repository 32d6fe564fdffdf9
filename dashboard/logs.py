"""Log lines an operator can follow: which request or Celery task wrote them, about which ticket, and
never a secret.

`LOG_FORMAT=json` (settings.LOGGING) writes one JSON object per line; the default stays human text.
Either way each record gets `request_id` (RequestIdMiddleware), `task_id` (the Celery task running)
and `ticket_id` (escalations.logcontext) from ContextFilter, and both formatters blank out the
secrets the settings hold (the Odoo API key, the passwords in the database, broker and email URLs):
a library that logs a request body in full (odoorpc at DEBUG does) cannot leak them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit

from celery import current_task

from escalations.logcontext import current_ticket

HEADER = "X-Request-ID"
# A proxy's or load balancer's id is kept so that its logs and ours can be joined; anything else (too
# long, spaces, quotes: a forged header meant to break log parsers) is replaced by our own.
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MASK = "[secret]"
SHORTEST_SECRET = 6  # shorter values would blank out ordinary words in every line

current_request: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_request", default=None)


class RequestIdMiddleware:
    """First in MIDDLEWARE: every line logged while a request is handled carries its id, which the
    response echoes in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if VALID_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response[HEADER] = request_id
        return response


def _task_id() -> str | None:
    task = current_task  # a proxy: falsy outside a task
    return task.request.id if task else None


class ContextFilter(logging.Filter):
    """Adds request_id, task_id and ticket_id (None when there is none) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request.get()
        record.task_id = _task_id()
        record.ticket_id = current_ticket.get()
        return True


def _secret_values() -> tuple[str, ...]:
    from django.conf import settings

    if not settings.configured:
        return ()
    raw = [getattr(settings, name, "") for name in
           ("ODOO_API_KEY", "SECRET_KEY", "EMAIL_HOST_PASSWORD", "METRICS_TOKEN", "SENTRY_DSN")]
    raw += [db.get("PASSWORD") or "" for db in settings.DATABASES.values()]
    raw += [_password_in(getattr(settings, name, "") or "") for name in
            ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "EMAIL_URL")]
    return _long_enough(tuple(raw))


@lru_cache(maxsize=8)
def _long_enough(values: tuple[str, ...]) -> tuple[str, ...]:
    # Longest first, so that a secret containing another is blanked whole.
    return tuple(sorted({v for v in values if isinstance(v, str) and len(v) >= SHORTEST_SECRET},
                        key=len, reverse=True))


def _password_in(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def redact(text: str) -> str:
    for secret in _secret_values():
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class PlainFormatter(logging.Formatter):
    """The human format (LOG_FORMAT=text, the default), secrets blanked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the ids that are set, and the
    traceback as `exception`; secrets blanked."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task_id", "ticket_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(line, default=str, ensure_ascii=False))


def logging_config(*, log_format: str, level: str) -> dict:
    """settings.LOGGING: one handler on stderr, human text or JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "dashboard.logs.ContextFilter"}},
        "formatters": {
            "text": {"()": "dashboard.logs.PlainFormatter",
                     "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": "dashboard.logs.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format,
                                 "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # odoorpc 0.10.1 logs every JSON-RPC body at DEBUG, with the API key in clear text. Never
            # let it go below INFO, whatever LOG_LEVEL says.
            "odoorpc": {"level": "INFO" if level == "DEBUG" else level},
        },
    }
