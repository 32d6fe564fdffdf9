"""The outbox tells the truth about its write-backs: a final state "changed by Odoo", staleness by the
values the lead saw (not by write_date), and what an attempt may already have sent to Odoo.

Actions still on their way get what the lead saw from the mirror as it is now: the closest there is to
their page (and a page older than that mirror still makes them stale, escalations.outbox).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

WAITING = ("queued", "inflight", "awaiting_retry", "stale")


def _m2o(record):
    return [record.pk, record.name] if record is not None else False


def seen_from_mirror(apps, schema_editor):
    OdooAction = apps.get_model("escalations", "OdooAction")
    waiting = (OdooAction.objects.filter(state__in=WAITING, seen_values__isnull=True)
               .exclude(kind="mark").select_related("ticket__assignee", "ticket__team", "ticket__stage"))
    for action in waiting.iterator():
        ticket = action.ticket
        action.seen_values = {
            "user_id": _m2o(ticket.assignee), "team_id": _m2o(ticket.team), "stage_id": _m2o(ticket.stage),
            "priority": ticket.priority, "name": ticket.name, "write_date": ticket.odoo_write_date.isoformat(),
        }
        action.save(update_fields=["seen_values"])


class Migration(migrations.Migration):

    dependencies = [
        ("escalations", "0009_sync_auth_refusal_notified"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="odooaction",
            name="applied_values",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="odooaction",
            name="cancelled_by",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name="odooaction",
            name="odoo_before",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="odooaction",
            name="seen_values",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="outcome",
            field=models.CharField(choices=[("queued", "Queued for Odoo"), ("applied", "Applied in Odoo"),
                                            ("changed", "Applied, but Odoo kept another assignee or team"),
                                            ("stale", "Held: the ticket changed in Odoo"), ("failed", "Failed"),
                                            ("cancelled", "Cancelled")], default="queued", max_length=16),
        ),
        migrations.AlterField(
            model_name="odooaction",
            name="state",
            field=models.CharField(choices=[("queued", "Pending"), ("inflight", "Sending to Odoo"),
                                            ("awaiting_retry", "Pending (Odoo unreachable, will retry)"),
                                            ("stale", "Waiting for your confirmation (the ticket changed in Odoo)"),
                                            ("sent", "Applied in Odoo"), ("changed", "Changed by Odoo"),
                                            ("failed", "Failed"), ("cancelled", "Cancelled")],
                                   default="queued", max_length=16),
        ),
        migrations.RunPython(seen_from_mirror, migrations.RunPython.noop),
    ]
