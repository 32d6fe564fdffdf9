"""What a log line is about: the ticket the code is handling right now.

Set where one ticket is handled (the outbox sending one action); the log formatter of the project
(dashboard.logs) adds it to each line. A context variable, so that threads and tasks never see
each other's ticket, and reset on the way out, so that a worker's next task does not inherit it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

current_ticket: contextvars.ContextVar[int | None] = contextvars.ContextVar("current_ticket", default=None)


@contextmanager
def about_ticket(ticket_id: int | None) -> Iterator[None]:
    """Log lines inside carry this ticket's Odoo id."""
    token = current_ticket.set(ticket_id)
    try:
        yield
    finally:
        current_ticket.reset(token)
