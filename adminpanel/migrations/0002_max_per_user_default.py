import django.core.validators
from django.db import migrations, models


def cap_unset(apps, schema_editor):
    """The row made before had no cap because that was the default, not a choice: give it
    the new default (the admin may clear it again)."""
    apps.get_model("adminpanel", "SystemConfig").objects.filter(max_per_user__isnull=True).update(
        max_per_user=5
    )


class Migration(migrations.Migration):
    dependencies = [
        ("adminpanel", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="systemconfig",
            name="max_per_user",
            field=models.PositiveIntegerField(
                blank=True,
                default=5,
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="1인당 최대 수량(옵션별, 비우면 제한 없음)",
            ),
        ),
        migrations.RunPython(cap_unset, migrations.RunPython.noop),
    ]
