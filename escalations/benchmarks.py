"""What the benchmark commands share: a throw-away test database, and the simulator in its own process
(as Odoo would be), with the app's settings pointed at it."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.request import urlopen

from django.conf import settings
from django.core.management.base import CommandError
from django.test.utils import setup_databases, teardown_databases


@contextmanager
def test_database() -> Iterator[None]:
    """A fresh test database (test_<name> on PostgreSQL), dropped afterwards: the benchmarks never
    touch the app's own data."""
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old_config, verbosity=0)


@contextmanager
def simulator_process(*, tickets: int, port: int) -> Iterator[str]:
    """The simulator seeded with `tickets`, serving on `port`; yields its URL once it answers."""
    api_key = secrets.token_urlsafe(16)
    simulator = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "odoo_simulator", "--port", str(port),
         "--tickets", str(tickets), "--api-key", api_key],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url)
        settings.ODOO_URL, settings.ODOO_API_KEY = url, api_key
        yield url
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)


def database_name() -> str:
    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


def _wait_until_up(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{url}/__simulator__/status", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"The simulator did not start on {url}")
