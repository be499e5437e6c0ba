"""The models moved to core (core 0001 takes them over with their tables): state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('adminpanel', '0003_korean_field_labels'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='auditlog',
                    name='actor',
                ),
                migrations.DeleteModel(
                    name='Notice',
                ),
                migrations.DeleteModel(
                    name='SystemConfig',
                ),
                migrations.DeleteModel(
                    name='AuditLog',
                ),
            ],
        ),
    ]
