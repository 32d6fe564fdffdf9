"""The simulated clock: real time shifted to the `now` the simulator was built with.

Ticking by default so a demo moves; tests freeze it to get many writes in the same second (the case
that makes incremental sync by `write_date` tricky) or move it to push SLA deadlines into the past.
"""

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, now: datetime | None = None):
        self._lock = threading.Lock()
        start = _aware(now) if now else datetime.now(UTC)
        self._offset = start - self._real()
        self._frozen_at: datetime | None = None

    @staticmethod
    def _real() -> datetime:
        return datetime.fromtimestamp(time.time(), UTC)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return self._real() + self._offset

    def set(self, dt: datetime) -> None:
        dt = _aware(dt)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = dt
            self._offset = dt - self._real()

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def freeze(self) -> None:
        now = self.now()
        with self._lock:
            self._frozen_at = now

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._real()
            self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def db_now(self) -> datetime:
        """Naive UTC, whole seconds: `fields.Datetime.now()`, what Odoo's code writes into datetime
        fields and what it compares time-relative domains (`sla_expired`...) against."""
        return self.tx_now().replace(microsecond=0)

    def tx_now(self) -> datetime:
        """Naive UTC with microseconds: `cr.now()`, a transaction's start as PostgreSQL stores it in
        `write_date`. Read over RPC it is cut to whole seconds; domains compare the stored value."""
        return self.now().astimezone(UTC).replace(tzinfo=None)


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
