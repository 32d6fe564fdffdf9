"""Exactly one Celery beat per database (dashboard/beat_lock.py), with real beat processes started as
production starts them (`make beat`), on PostgreSQL (an advisory lock) and on SQLite (a file lock):
a second beat exits non-zero and says which one runs, without touching a schedule file; once the first
is killed, a new one starts at once; on PostgreSQL, a beat whose lock connection dies takes its lock
again, or stops when another holder took it meanwhile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from dashboard.beat_lock import ADVISORY_KEYS
from tests.scratch_postgres import scratch_database

HOLDS = "holds the database's beat lock"
REFUSED = "Another Celery beat already runs for this database"


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'console.sqlite3'}"
        return
    with scratch_database("beat_lock") as url:
        yield url


class Beat:
    """`make beat` in its own process group, its output in a file."""

    def __init__(self, database_url: str, folder: Path, **env):
        folder.mkdir(parents=True)
        self.folder = folder
        self.log = folder / "beat.log"
        # Its own folder: the schedule file and the folder broker (no worker reads what it sends).
        env = {**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(folder), "LOG_LEVEL": "INFO",
               "PYTHONUNBUFFERED": "1", "BEAT_LOCK_CHECK_SECONDS": "1", **env}
        env.pop("CELERY_BROKER_URL", None)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "beat", f"PY={sys.executable}"], cwd=settings.BASE_DIR,
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 40) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if self.process.poll() is not None:
                return text in self.output()
            time.sleep(0.2)
        return False

    def exit_code(self, timeout: float = 40) -> int:
        return self.process.wait(timeout=timeout)

    def signal(self, signum) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def schedule_files(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("celerybeat-schedule*"))


@pytest.fixture
def beats(tmp_path, database_url):
    started: list[Beat] = []

    def start(**env) -> Beat:
        beat = Beat(database_url, tmp_path / f"beat-{len(started)}", **env)
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


def test_a_second_beat_refuses_to_start_and_a_new_one_starts_once_the_first_is_gone(beats):
    first = beats()
    assert first.wait_for(HOLDS), first.output()

    second = beats()
    assert second.exit_code() != 0, second.output()
    output = second.output()
    assert REFUSED in output and "celery beat pid" in output and "Run exactly one beat" in output, output
    # Refused before it opened a schedule file: two beats on one file would corrupt it.
    assert second.schedule_files() == []
    assert first.process.poll() is None and first.schedule_files() != []

    # Killed outright, as when its machine loses the process: the lock goes with it.
    first.stop()
    third = beats()
    assert third.wait_for(HOLDS), third.output()
    time.sleep(1.5)  # past a look at its lock
    assert third.process.poll() is None, third.output()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_beat_whose_lock_connection_dies_takes_the_lock_again_or_stops_when_another_holds_it(
    beats, database_url
):
    beat = beats()
    assert beat.wait_for(HOLDS), beat.output()

    with psycopg.connect(database_url, autocommit=True) as db:
        # The connection holding the lock dies (a failover, a DBA's pg_terminate_backend) and nobody
        # takes the lock meanwhile: beat takes it again on a new connection and goes on.
        terminate_holder(db)
        assert beat.wait_for("taking the lock again"), beat.output()
        assert beat.wait_for(HOLDS, timeout=10) and beat.output().count(HOLDS) == 2, beat.output()
        assert beat.process.poll() is None

        # Dies again, and this time something else takes the lock first: beat stops, non-zero.
        terminate_holder(db)
        db.execute("SELECT pg_advisory_lock(%s, %s)", ADVISORY_KEYS)
        assert beat.exit_code() != 0, beat.output()  # make says 2 for its command's 1
        assert "lost its lock on the database" in beat.output()


def terminate_holder(db) -> None:
    (terminated,) = db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = %s AND objid = %s AND objsubid = 2 AND pid <> pg_backend_pid()", ADVISORY_KEYS,
    ).fetchone()
    assert terminated
