"""The Celery app and the whole beat schedule, in one place."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_broker_folders(sender, **kwargs):
    """The folder broker (the default, with no broker server) needs its folders before the first task
    is sent or read: made here, once the app has read its configuration, in the web process and the
    worker alike."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.SYNC_INTERVAL_SECONDS),
        sender.signature("escalations.tasks.sync_incremental"),
        name="incremental Odoo sync",
    )
    sender.add_periodic_task(
        float(settings.SYNC_FULL_INTERVAL_SECONDS),
        sender.signature("escalations.tasks.sync_full"),
        name="full Odoo reconciliation",
    )
    sender.add_periodic_task(
        float(settings.ENGINE_INTERVAL_SECONDS),
        sender.signature("escalations.tasks.evaluate"),
        name="escalation evaluation",
    )
    sender.add_periodic_task(
        float(settings.AUTOMATION_INTERVAL_SECONDS),
        sender.signature("escalations.tasks.run_automation"),
        name="automation rules",
    )
    sender.add_periodic_task(
        float(settings.REPORTS_ROLLUP_SECONDS),
        sender.signature("escalations.tasks.roll_up_reports"),
        name="reports rollup",
    )
    sender.add_periodic_task(
        float(settings.OUTBOX_SWEEP_SECONDS),
        sender.signature("escalations.tasks.sweep_outbox"),
        name="outbox sweep",
    )
    sender.add_periodic_task(
        float(settings.NOTICE_SWEEP_INTERVAL_SECONDS),
        sender.signature("escalations.tasks.sweep_notices"),
        name="notice reminders and sweep",
    )
    sender.add_periodic_task(
        float(settings.BEAT_HEARTBEAT_SECONDS),
        sender.signature("escalations.tasks.beat_heartbeat"),
        name="beat heartbeat (read by /readyz)",
    )
