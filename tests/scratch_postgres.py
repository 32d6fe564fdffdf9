"""A PostgreSQL database of a test's own, made empty and dropped after, for the tests that run on
PostgreSQL whatever database the suite runs on (the production topology, beat's lock): on the suite's
server when the suite runs on PostgreSQL (CI), else on this machine's (127.0.0.1:5432, user postgres,
which every machine of the project has)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from django.db import connection

LOCAL_SERVER = "postgres://postgres@127.0.0.1:5432"


def server_url() -> str:
    if connection.vendor != "postgresql":
        return LOCAL_SERVER
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty database named `prefix` and a random suffix (runs on one server never
    meet), dropped afterwards with whatever is still connected to it."""
    server = server_url()
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
