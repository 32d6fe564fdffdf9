"""The test suite's settings: the app's own, plus the secret a run needs, since DEBUG is off by default.

Set in the environment rather than here only, so that the processes the tests start (Celery workers,
the simulator, `manage.py` commands) get the same.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from dashboard.settings import *  # noqa: E402, F403
