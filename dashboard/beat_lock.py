"""Exactly one Celery beat per database: a second one refuses to start and says which one runs.

Two beats would send every periodic task twice (each sync, sweep and evaluation: safe, since every
task is, but double the load on Odoo), and two beats on one schedule file corrupt it. The lock lives
where the whole deployment's shared state lives, the database, so it holds across machines:

- PostgreSQL: a session advisory lock, taken on a connection of beat's own (Django closes and reopens
  its own connections). Whatever ends the beat process closes that connection, and PostgreSQL frees
  the lock at once; for a beat whose machine vanished, the server's TCP keepalives, set short on that
  connection, drop it within about a minute. Point beat at PostgreSQL itself, not at a pooler in
  transaction mode, which would hand the session (and the lock) to others.
- SQLite (one machine by nature): an exclusive flock on a file beside the database, which the kernel
  releases when the process ends.

Beat looks at its lock at least every BEAT_LOCK_CHECK_SECONDS. When the lock's connection was lost it
takes the lock again on a new one; when another beat took it meanwhile, this one stops with exit code 1.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from pathlib import Path

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

# pg_try_advisory_lock(int, int): the two keys show in pg_locks as classid and objid.
ADVISORY_KEYS = (0x6573, 0x62656174)  # "es", "beat"

REFUSED = (
    "Another Celery beat already runs for this database ({holder}). A second one would send every "
    "periodic task twice, so this one does not start. Run exactly one beat; to move it, stop the other "
    "first."
)
LOST = (
    "This Celery beat lost its lock on the database (held now by: {holder}); it stops, so that periodic "
    "tasks are never sent twice. Its supervisor may start it again."
)


def holder_label() -> str:
    return f"celery beat pid {os.getpid()} on {socket.gethostname()}"


class AdvisoryLock:
    """The PostgreSQL lock, held by a connection of its own."""

    def __init__(self):
        self.connection = None

    def acquire(self) -> str | None:
        """None once held; otherwise who holds it."""
        connection = connections.create_connection(DEFAULT_DB_ALIAS)
        with connection.cursor() as cursor:
            # Keepalives short on this connection only: the server then frees the lock of a beat
            # whose machine went away in about a minute rather than in hours.
            cursor.execute(
                "SELECT set_config('application_name', %s, false), "
                "set_config('tcp_keepalives_idle', '30', false), "
                "set_config('tcp_keepalives_interval', '10', false), "
                "set_config('tcp_keepalives_count', '3', false), pg_try_advisory_lock(%s, %s)",
                [holder_label()[:63], *ADVISORY_KEYS],
            )
            held = cursor.fetchone()[-1]
        if held:
            self.connection = connection
            return None
        try:
            return self._holder(connection)
        finally:
            connection.close()

    def still_held(self) -> str | None:
        """None while held (taken again on a new connection if this one was lost); else who holds it."""
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return None
        except DatabaseError:
            logger.warning("Celery beat lost its lock connection to the database; taking the lock again")
            self.release()
            holder = self.acquire()
            if holder is None:
                logger.info("Celery beat holds the database's beat lock again (%s)", holder_label())
            return holder

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()  # the session ends, and its advisory lock with it
            except DatabaseError:
                pass
            self.connection = None

    @staticmethod
    def _holder(connection) -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2",
                list(ADVISORY_KEYS),
            )
            row = cursor.fetchone()
        if row is None:
            return "it let go just now; start this one again"
        name, address, since = row
        where = f" from {address}" if address else ""
        started = f", connected since {since:%Y-%m-%d %H:%M:%S %Z}" if since else ""
        return f"{name or 'a beat'}{where}{started}"


class FileLock:
    """The SQLite lock: an flock on a file beside the database, holding its holder's name."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> str | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "a beat"
            os.close(fd)
            return f"{holder}; lock file {self.path}"
        os.ftruncate(fd, 0)
        os.write(fd, holder_label().encode())
        self.fd = fd
        return None

    def still_held(self) -> str | None:
        return None  # only the end of this process lets go of it

    def release(self) -> None:
        # The file stays: removing it would let a third beat lock a new file while a second holds the old.
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def beat_lock() -> AdvisoryLock | FileLock:
    """The lock of the database the settings name: one beat per database, wherever it runs."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "sqlite":
        return FileLock(Path(f"{connection.settings_dict['NAME']}.beat-lock"))
    return AdvisoryLock()


class LockedScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, run only while this beat holds the database's beat lock."""

    lock = None
    lost = False
    next_check = 0.0

    def setup_schedule(self):
        # Before the schedule file is opened: a second beat must not touch the first one's file.
        self.lock = beat_lock()
        try:
            holder = self.lock.acquire()
        except DatabaseError as exc:
            self.lock = None
            logger.critical("Celery beat cannot reach the database to take its lock; it does not start: %s",
                            exc)
            raise SystemExit(1) from None
        if holder is not None:
            self.lock = None
            logger.critical(REFUSED.format(holder=holder))
            raise SystemExit(1)
        logger.info("Celery beat holds the database's beat lock (%s)", holder_label())
        self.next_check = time.monotonic() + settings.BEAT_LOCK_CHECK_SECONDS
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        if time.monotonic() >= self.next_check:
            try:
                holder = self.lock.still_held()
            except DatabaseError as exc:
                # Unsure whether it still holds the lock: stopping is the side that never runs two.
                holder = f"unknown: the database did not answer ({exc})"
            if holder is not None:
                self.lost = True
                logger.critical(LOST.format(holder=holder))
                raise SystemExit(1)  # Celery's loop ends on it, then closes the scheduler (below)
            self.next_check = time.monotonic() + settings.BEAT_LOCK_CHECK_SECONDS
        # Never sleep past the next look at the lock.
        return min(super().tick(*args, **kwargs), settings.BEAT_LOCK_CHECK_SECONDS)

    def close(self):
        try:
            super().close()
        finally:
            if self.lock is not None:
                self.lock.release()
        if self.lost:
            raise SystemExit(1)  # Celery's loop swallows the first: a supervisor must see a failure
