"""Sending the webhooks of automation rules, as Odoo's `_run_action_webhook` does (odoo.md §8.9).

One POST per webhook, its body the JSON the rule made, with `Content-Type: application/json` and no
other header of Odoo's own (no authentication: the receiver has only its URL's secret); a 1-second
timeout; no retry; a failure (no answer, an error status) is logged and forgotten.

Each POST runs in a thread of its own, and the writing request waits for it at most `TIMEOUT`, so a
receiver that never answers holds the write exactly as long as it holds Odoo's (requests' `timeout=1`).
When the request waits is the state's business (state.py): Odoo 17 and 18 send during the write,
before the transaction commits; Odoo 19 after the commit. Logs name the host, never the URL: its path
is the receiver's secret.
"""

import http.client
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from .automation import Webhook

log = logging.getLogger("escalations.odoo.simulator")

TIMEOUT = 1.0


@dataclass
class Outcome:
    action_id: int
    model: str
    record_id: int
    status: int | None = None  # the receiver's HTTP status; None: no answer
    error: str = ""
    seconds: float = 0.0
    sent_at: float = 0.0  # time.time() when the POST started

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender:
    """Sends webhooks and keeps the outcomes of the last few hundred (for tests and the status)."""

    def __init__(self, keep: int = 500):
        self.outcomes: deque[Outcome] = deque(maxlen=keep)
        self.sent = 0
        self.failed = 0
        self._lock = threading.Lock()

    def send_all(self, webhooks: list[Webhook]) -> None:
        """One after the other, as Odoo runs a rule's actions: each waits for its answer, at most TIMEOUT."""
        for webhook in webhooks:
            thread = threading.Thread(target=self._post, args=(webhook,), name="odoo-simulator-webhook",
                                      daemon=True)
            thread.start()
            thread.join(TIMEOUT)

    def _post(self, webhook: Webhook) -> None:
        outcome = Outcome(webhook.action_id, webhook.model, webhook.record_id, sent_at=time.time())
        started = time.monotonic()
        parts = urlsplit(webhook.url)
        try:
            https = parts.scheme == "https"
            conn = (http.client.HTTPSConnection if https else http.client.HTTPConnection)(
                parts.hostname or "", parts.port, timeout=TIMEOUT)
            try:
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                conn.request("POST", path, body=webhook.body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                outcome.status = response.status
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:  # a timeout is an OSError too
            outcome.error = type(exc).__name__
        outcome.seconds = time.monotonic() - started
        self._record(outcome, parts.hostname or "")

    def _record(self, outcome: Outcome, host: str) -> None:
        with self._lock:
            self.outcomes.append(outcome)
            if outcome.ok:
                self.sent += 1
            else:
                self.failed += 1
        if not outcome.ok:
            # Odoo: "Webhook call failed" at WARNING, and nothing else happens.
            log.warning("Webhook of action #%s for %s(%s) to %s failed: %s", outcome.action_id, outcome.model,
                        outcome.record_id, host, outcome.error or f"HTTP {outcome.status}")

    def describe(self) -> dict:
        with self._lock:
            return {"sent": self.sent, "failed": self.failed}
