"""The test suite's settings: the app's own, plus the secret a run needs, since DEBUG is off by default,
and a broker (Redis).

Set in the environment rather than here only, so that the processes the tests start (Celery workers,
the simulator, `manage.py` commands) get the same.
"""

import os

from tests.broker import worker_broker_url

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
# Celery on Redis, as in CI, when the run names no broker: the tests that start a worker on Redis send it
# tasks from this process (the live server's webhook, a sync sent by hand), which the embedded folder
# broker would keep where no worker reads.
os.environ.setdefault("CELERY_BROKER_URL", worker_broker_url())

from dashboard.settings import *  # noqa: E402, F403

# The tests render pages with DEBUG off but run no collectstatic: name the files as they are, not the
# hashed copies of the production manifest (test_production runs the release step and uses those).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
