"""The domain's one way to hand work to a Celery worker: by task name, once the transaction commits.

The domain never imports escalations.tasks: that module is the top layer (it imports the domain to run
it), so importing it back would make a circle. Sending by name needs only the Celery app. The names
are the tasks' registered names, which beat's schedule and messages already queued also use: they
never change.

A broker that is down is logged, not raised: the row to send is safe in the database, and the
outbox's and the notices' sweepers hand it to a new task.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

SEND_ODOO_ACTION = "escalations.tasks.send_odoo_action"
SEND_NOTICE = "escalations.tasks.send_notice"
SEND_AUTOMATION_REMINDER = "escalations.tasks.send_automation_reminder"
SEND_AUTOMATION_CAP_NOTICE = "escalations.tasks.send_automation_cap_notice"


def enqueue(task: str, row_id: int, *, countdown: float | None = None) -> bool:
    """Ask a worker to run `task` for one row, now or after `countdown` seconds; False if the broker
    could not take it (the sweeper will)."""
    try:
        current_app.send_task(task, args=[row_id], countdown=countdown)
    except Exception:  # any broker failure: the row stays in the database for the sweeper
        logger.exception("Could not enqueue %s for %s; the sweeper will", task, row_id)
        return False
    return True


def enqueue_on_commit(task: str, row_id: int) -> None:
    """Enqueue once the current transaction commits (at once outside one): a worker must never look
    for a row that is not committed yet, nor get one that a rollback took back."""
    transaction.on_commit(lambda: enqueue(task, row_id))
