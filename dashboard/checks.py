"""Start-up checks that need the network, run by `manage.py check --deploy` and so by the release step
(`manage.py release`), never when the settings are imported: a settings module that connects to
something would make every command, test and process start wait on it.

Settings that are wrong on their face (a missing SECRET_KEY with DEBUG off, an ODOO_URL that is not a
URL, a bad number) already stop every process when dashboard.settings is read.
"""

from django.conf import settings
from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning

BROKER_TIMEOUT = 5.0  # seconds


@register("broker", deploy=True)
def broker_answers(app_configs=None, **kwargs):
    """The Celery broker accepts a connection: without it no action reaches Odoo and no notice leaves."""
    from dashboard.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT) as connection:
        try:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                         timeout=BROKER_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - whatever the transport raised, the broker did not answer
            # as_uri() hides the URL's password.
            return [Error(
                f"The Celery broker at {connection.as_uri()} does not answer: {exc}",
                hint="Start it, or correct CELERY_BROKER_URL. Without it the workers get no work: actions "
                     "wait in the outbox and notices are not sent.",
                id="dashboard.E001",
            )]
    return []


@register("caches", deploy=True)
def cache_shared(app_configs=None, **kwargs):
    """Limits that count in the cache hold across processes only with a shared one (dashboard.settings)."""
    if settings.CACHE_URL:
        return []
    return [CheckWarning(
        "CACHE_URL is not set: each process counts the wall token guesses, the webhook's rate and its "
        "debounce on its own, so N web processes allow N times the limits.",
        hint="Set CACHE_URL to a Redis database (e.g. redis://127.0.0.1:6379/1, not the broker's) when "
             "running more than one web process or worker.",
        id="dashboard.W001",
    )]
