"""Fault switches: make the simulated Odoo misbehave the way real deployments do.

  http_502     every call answered by the reverse proxy's HTML 502 page
  hang         the request is read, then nothing comes back until the client gives up (default 60 s)
  refuse       nobody listens on the port: connections are refused (listening resumes on clear/expiry)
  fail_writes  reads work, write/create/unlink/message_post answer an Odoo error (a PostgreSQL
               serialization failure, which is what a client sees when Odoo gives up retrying)

`seconds=None` keeps a fault until cleared. Listeners (the server) hear about every change so that
`refuse` can close and reopen the socket, including when a timed fault expires on its own.
"""

import threading
import time

MODES = ("http_502", "hang", "refuse", "fail_writes")


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._mode: str | None = None
        self._until: float | None = None
        self._timer: threading.Timer | None = None
        self.hang_seconds = 60.0
        self.calm = threading.Event()  # set whenever no fault is active: hanging requests wake up
        self.calm.set()
        self.listeners: list = []

    def set(self, mode: str | None, seconds: float | None = None, hang_seconds: float | None = None) -> None:
        if mode is None:
            return self.clear()
        if mode not in MODES:
            raise ValueError(f"unknown fault {mode!r}; expected one of {MODES}")
        with self._lock:
            self._cancel_timer()
            previous, self._mode = self._mode, mode
            self._until = time.monotonic() + seconds if seconds else None
            if hang_seconds is not None:
                self.hang_seconds = float(hang_seconds)
            self.calm.clear()
            if seconds:
                self._timer = threading.Timer(seconds, self._expire, args=(self._until,))
                self._timer.daemon = True
                self._timer.start()
        self._notify(previous, mode)

    def clear(self) -> None:
        with self._lock:
            self._cancel_timer()
            previous, self._mode, self._until = self._mode, None, None
            self.calm.set()
        self._notify(previous, None)

    def active(self) -> str | None:
        with self._lock:
            if self._mode and self._until is not None and time.monotonic() >= self._until:
                expired = True
            else:
                return self._mode
        if expired:
            self.clear()
        return None

    def describe(self) -> dict | None:
        mode = self.active()
        if mode is None:
            return None
        left = None if self._until is None else max(0.0, round(self._until - time.monotonic(), 1))
        return {"mode": mode, "seconds_left": left}

    def _expire(self, until) -> None:
        with self._lock:
            if self._until != until:
                return  # a newer fault replaced the one this timer belonged to
        self.clear()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _notify(self, previous, current) -> None:
        if previous != current:
            for listener in list(self.listeners):
                listener(previous, current)
