"""Celery tasks: what the worker runs, each calling domain functions. The top layer: it imports the
domain, and nothing in the domain imports it (the domain enqueues by name, escalations.enqueue).

The names are explicit because beat's schedule (dashboard.celery) and messages already queued refer
to them. What is decided here is only when to run: periodic syncs pause for a while after Odoo
refused the credentials, and a sync is followed at once by an evaluation. The outbox and the notices
schedule their own retries, so no task here retries on an error; a webhook's ticket read only waits,
a few times, for a running sync to give back the lease.
"""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from prometheus_client import Histogram

from escalations.automation.mail import cap_notice_send, reminder_send
from escalations.automation.run import automation_run
from escalations.engine import evaluate_escalations
from escalations.enqueue import (
    SEND_AUTOMATION_CAP_NOTICE,
    SEND_AUTOMATION_REMINDER,
    SEND_NOTICE,
    SEND_ODOO_ACTION,
    enqueue,
)
from escalations.models import SyncState
from escalations.notices.create import notice_catch_up, notice_create_reminders
from escalations.notices.deadlines import notice_create_deadline_reminders
from escalations.notices.digest import notice_release_held
from escalations.notices.send import notice_send, notice_sweep
from escalations.odoo.errors import OdooError
from escalations.outbox.send import outbox_send
from escalations.outbox.sweep import outbox_sweep
from escalations.push.read import push_ticket_read, sync_lease_held
from escalations.push.schedule import PUSH_READ_TICKET
from escalations.reports.rollup import report_rollup
from escalations.sync.run import SyncAlreadyRunning, sync_odoo

logger = logging.getLogger(__name__)

# A targeted read (a webhook's) holds the sync's lease for well under a second: a sync that found it
# taken tries again this soon, rather than at the next beat tick.
SYNC_AFTER_PUSH_SECONDS = 2
# How often a targeted read waits for a running sync before leaving the change to it (or the next one).
PUSH_BUSY_RETRIES = 10

# Observed in the worker that ran the sync; the web process's /metrics shows it with
# PROMETHEUS_MULTIPROC_DIR shared (dashboard.metrics). A sync that failed or was skipped is not timed.
SYNC_DURATION = Histogram("console_sync_duration_seconds", "Successful Odoo syncs, from login to the "
                          "last page saved", ["kind"], buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))


def _auth_recently_failed() -> bool:
    # A revoked or wrong API key will not fix itself in 30 seconds: pause periodic syncs instead of
    # sending Odoo a failed login twice a minute. A person running `sync_odoo` still tries at once.
    state = SyncState.load()
    pause = timedelta(seconds=settings.SYNC_AUTH_PAUSE_SECONDS)
    return state.auth_failed_at is not None and timezone.now() - state.auth_failed_at < pause


def _run(full: bool) -> dict | None:
    if _auth_recently_failed():
        logger.warning("Odoo sync paused: Odoo refused our credentials recently (see SyncState)")
        return None
    started = time.monotonic()
    try:
        result = sync_odoo(full=full).as_dict()
        SYNC_DURATION.labels(kind="full" if full else "incremental").observe(time.monotonic() - started)
    except SyncAlreadyRunning:
        # Not a sync's lease: a webhook's ticket read holds it for a moment, or had it a moment ago.
        if not sync_lease_held():
            logger.info("Odoo sync put off: a webhook's ticket read holds the lease for a moment")
            (sync_full if full else sync_incremental).apply_async(countdown=SYNC_AFTER_PUSH_SECONDS)
            return None
        logger.info("Odoo sync skipped: another one is running")
        return None
    except OdooError as exc:
        # Recorded on SyncState by sync_odoo; the next beat tick tries again.
        logger.warning("Odoo sync failed: %s", exc.message)
        return None
    # The sync has refreshed the clocks of the tickets it saved; evaluate at once rather than at the
    # next beat tick, so a ticket that just went wrong in Odoo is escalated within one sync period.
    result["escalations"] = evaluate_escalations().counts()
    # And the automation rules, for the tickets just created or changed.
    run = automation_run()
    result["automation"] = {"changes": run.changes, "handed": run.handed} if run else None
    return result


@shared_task(name="escalations.tasks.sync_incremental", ignore_result=True)
def sync_incremental():
    return _run(full=False)


@shared_task(name="escalations.tasks.sync_full", ignore_result=True)
def sync_full():
    return _run(full=True)


@shared_task(name=PUSH_READ_TICKET, bind=True, ignore_result=True)
def push_read_ticket(self, odoo_id: int):
    """Read one ticket Odoo said changed (a webhook) into the mirror, then evaluate. Safe to repeat: an
    unchanged ticket writes nothing. While a sync runs, wait for it a few times (it may have read the
    ticket before the change); then leave it to the next sync, which reads every change anyway."""
    try:
        result = push_ticket_read(odoo_id=odoo_id)
    except SyncAlreadyRunning:
        if self.request.retries >= PUSH_BUSY_RETRIES:
            logger.info("Ticket %s left to the next sync: the sync kept the lease", odoo_id)
            return None
        raise self.retry(countdown=1, max_retries=PUSH_BUSY_RETRIES) from None
    except OdooError as exc:
        logger.warning("Reading ticket %s after its webhook failed (the next sync will): %s", odoo_id,
                       exc.message)
        return None
    return result.outcome


@shared_task(name="escalations.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat():
    """Beat sends this every BEAT_HEARTBEAT_SECONDS; its stamp tells /readyz that beat is sending and a
    worker is taking what it sends. One conditional UPDATE (the row exists once anything synced)."""
    now = timezone.now()
    if not SyncState.objects.filter(pk=1).update(beat_heartbeat_at=now):
        SyncState.objects.get_or_create(pk=1, defaults={"beat_heartbeat_at": now})


@shared_task(name="escalations.tasks.evaluate", ignore_result=True)
def evaluate():
    """Raise, move up and end escalations. Safe to repeat, and to run in two workers at once."""
    result = evaluate_escalations()
    if result.raised or result.moved_up or result.ended:
        logger.info("%s", result.summary())
    return result.counts()


@shared_task(name=SEND_ODOO_ACTION, ignore_result=True)
def send_odoo_action(action_id: int):
    """Send one outbox row to Odoo. Safe to repeat: the row is claimed, final rows are skipped, and
    retries are scheduled by escalations.outbox itself (never by retrying a bare exception here)."""
    return outbox_send(action_id)


@shared_task(name="escalations.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox():
    result = outbox_sweep()
    return {"requeued": result.requeued, "enqueued": result.enqueued}


@shared_task(name=SEND_NOTICE, ignore_result=True)
def send_notice(notice_id: int):
    """Send one email notice. Safe to repeat: notice_send claims the row and skips final ones; it
    sorts SMTP errors, caps the attempts and enqueues its own retry, so this never retries."""
    return notice_send(notice_id=notice_id).state


@shared_task(name="escalations.tasks.sweep_notices", ignore_result=True)
def sweep_notices():
    """Create due reminders, send the digests and held notices whose time came, and hand notices
    whose task was lost to a new one."""
    caught_up = notice_catch_up()  # enqueued on commit by notice_create_for_events
    reminders = notice_create_reminders() + notice_create_deadline_reminders()
    released = notice_release_held()
    stuck = notice_sweep()
    for notice_id in stuck:
        enqueue(SEND_NOTICE, notice_id)
    if caught_up or reminders or released or stuck:
        logger.info("notices: %s caught up, %s reminders created, %s held released, %s re-queued",
                    caught_up, reminders, released, len(stuck))
    return {"caught_up": caught_up, "reminders": reminders, "released": released, "requeued": len(stuck)}


@shared_task(name="escalations.tasks.roll_up_reports", ignore_result=True)
def roll_up_reports():
    """Bring the reports' rollup up to date with what changed since the last pass. Passes wait for
    each other (a row lock), so a slow one is never run twice at once."""
    result = report_rollup()
    return {"full": result.full, "tickets": result.tickets}


@shared_task(name="escalations.tasks.run_automation", ignore_result=True)
def run_automation():
    """One pass of the automation rules that are on. Safe to run in two workers at once."""
    run = automation_run()
    return {"changes": run.changes, "handed": run.handed, "capped": run.capped} if run else None


# Emails are retried a few times by Celery itself: unlike the outbox and the notices, they keep no row
# of their own to schedule retries from (the ledger row says what was done).
@shared_task(name=SEND_AUTOMATION_REMINDER, ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=30, max_retries=5)
def send_automation_reminder(change_id: int):
    return reminder_send(change_id)


@shared_task(name=SEND_AUTOMATION_CAP_NOTICE, ignore_result=True, autoretry_for=(OSError,),
             retry_backoff=30, max_retries=5)
def send_automation_cap_notice(run_id: int):
    return cap_notice_send(run_id)
