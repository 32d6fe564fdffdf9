from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0016_event_words_of_their_time"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncstate",
            name="beat_heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
