from django.db import migrations, models

import live.models


class Migration(migrations.Migration):
    dependencies = [
        ("live", "0003_publish_key_and_public_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="livestream",
            name="public_id",
            field=models.CharField(
                default=live.models.new_public_id,
                editable=False,
                max_length=12,
                unique=True,
                verbose_name="공개 식별자",
            ),
        ),
        migrations.AddConstraint(
            model_name="livestream",
            constraint=models.CheckConstraint(
                condition=models.Q(public_id__regex="^[a-z2-9]{12}$"),
                name="livestream_public_id_format",
            ),
        ),
    ]
