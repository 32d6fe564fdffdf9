"""Events keep the names of their levels as they were when they happened.

Rows written before this migration get the levels' current names: the best words left of their time.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_names(apps, schema_editor):
    event = apps.get_model("escalations", "EscalationEvent")
    level = apps.get_model("escalations", "EscalationLevel")

    def name_of(field):
        return Subquery(level.objects.filter(pk=OuterRef(field)).values("name")[:1])

    event.objects.filter(from_level__isnull=False).update(from_level_name=name_of("from_level_id"))
    event.objects.filter(to_level__isnull=False).update(to_level_name=name_of("to_level_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0015_automation"),
    ]

    operations = [
        migrations.AddField(
            model_name="escalationevent",
            name="from_level_name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="escalationevent",
            name="to_level_name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.RunPython(fill_names, migrations.RunPython.noop),
    ]
