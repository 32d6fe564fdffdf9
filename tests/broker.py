"""The Redis database of the test run's Celery: the one place that picks it (test_workers checks), and
free of Django, so that tests.settings can read it before the app's settings are loaded."""

import os

# When CELERY_BROKER_URL is unset: start_worker empties its queue, so never 0, the database a
# developer's own Celery or anything else on the machine would use.
TEST_REDIS_DATABASE = 15


def worker_broker_url() -> str:
    """The broker of the test run and of every worker the tests start: CELERY_BROKER_URL (CI sets it),
    else the tests' own Redis database."""
    return os.environ.get("CELERY_BROKER_URL") or f"redis://127.0.0.1:6379/{TEST_REDIS_DATABASE}"
