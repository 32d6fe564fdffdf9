"""Fault switches: make the simulated Odoo misbehave the way real deployments do.

  http_502     every call answered by the reverse proxy's HTML 502 page
  hang         the request is read, then nothing comes back until the client gives up (default 60 s)
  refuse       nobody listens on the port: connections are refused (listening resumes on clear/expiry)
  fail_writes  reads work, write/create/unlink/message_post answer an Odoo error (a PostgreSQL
               serialization failure, which is what a client sees when Odoo gives up retrying)
  lose_answer  Odoo applies the call and commits, but its answer never reaches the client: the
               connection is dropped (after `hang_seconds`, when given: past the client's timeout).
               Only for the methods named (default `write` and `message_post`), for the next `times`
               such calls (default: until cleared). What a proxy timeout, a restarted worker or a
               network cut does to a call Odoo had already run.

`seconds=None` keeps a fault until cleared. Listeners (the server) hear about every change so that
`refuse` can close and reopen the socket, including when a timed fault expires on its own.
"""

import threading
import time

MODES = ("http_502", "hang", "refuse", "fail_writes", "lose_answer")
LOSE_METHODS = ("write", "message_post")


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
        # lose_answer: which methods, how many answers are left to lose (None: all), how long to hang
        self.lose_methods: tuple[str, ...] = LOSE_METHODS
        self.lose_times: int | None = None
        self.lose_after_seconds = 0.0
        self._request = threading.local()  # per server thread: the current request's answer is lost

    def set(self, mode: str | None, seconds: float | None = None, hang_seconds: float | None = None, *,
            methods=None, times: int | None = None) -> None:
        if mode is None:
            return self.clear()
        if mode not in MODES:
            raise ValueError(f"unknown fault {mode!r}; expected one of {MODES}")
        if mode == "lose_answer":
            methods = tuple(methods or LOSE_METHODS)
            if not all(isinstance(m, str) and m for m in methods):
                raise ValueError("methods must be a list of method names")
            if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
                raise ValueError("times must be a positive whole number")
        with self._lock:
            self._cancel_timer()
            previous, self._mode = self._mode, mode
            self._until = time.monotonic() + seconds if seconds else None
            if mode == "lose_answer":
                self.lose_methods, self.lose_times = methods, times
                self.lose_after_seconds = float(hang_seconds or 0)
            elif hang_seconds is not None:
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
        out = {"mode": mode, "seconds_left": left}
        if mode == "lose_answer":
            out.update(methods=list(self.lose_methods), times_left=self.lose_times)
        return out

    # -- lose_answer: the protocol marks a call Odoo ran; the server then drops the connection -------

    def applied(self, method: str) -> None:
        """Odoo has just run `method` for the current request: lose its answer if the fault says so."""
        if self.active() != "lose_answer" or method not in self.lose_methods:
            return
        with self._lock:
            if self.lose_times is not None:
                self.lose_times -= 1
                spent = self.lose_times <= 0
            else:
                spent = False
        self._request.lost = True
        if spent:
            self.clear()

    def take_lost_answer(self) -> float | None:
        """Whether the current request's answer is to be lost (then how long to hang first); resets."""
        lost, self._request.lost = getattr(self._request, "lost", False), False
        return self.lose_after_seconds if lost else None

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
