from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('escalations', '0011_ticket_odoo_digest'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticket',
            name='invisible_since',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='syncstate',
            name='invisible_tickets',
            field=models.PositiveIntegerField(default=0),
        ),
    ]
