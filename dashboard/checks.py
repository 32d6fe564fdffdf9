"""Start-up checks that need the network, run by `manage.py check --deploy` and so by the release step
(`manage.py release`), never when the settings are imported: a settings module that connects to
something would make every command, test and process start wait on it.

Settings that are wrong on their face (a missing SECRET_KEY with DEBUG off, an ODOO_URL that is not a
URL, a bad number) already stop every process when dashboard.settings is read.
"""

from django.conf import settings
from django.core.checks import Error, register

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
