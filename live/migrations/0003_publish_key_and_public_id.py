"""The secret key is renamed `publish_key`; a separate public identifier is added for shopper
URLs, socket paths and playback, and filled in for every existing stream."""

from django.db import migrations, models

import live.models


def fill_public_ids(apps, schema_editor):
    LiveStream = apps.get_model("live", "LiveStream")
    taken = set()
    for stream in LiveStream.objects.filter(public_id__isnull=True).only("pk"):
        public_id = live.models.new_public_id()
        while public_id in taken:
            public_id = live.models.new_public_id()
        taken.add(public_id)
        LiveStream.objects.filter(pk=stream.pk).update(public_id=public_id)


class Migration(migrations.Migration):
    dependencies = [
        ("live", "0002_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="livestream", name="livestream_key_32_hex"),
        migrations.RenameField(
            model_name="livestream", old_name="stream_key", new_name="publish_key"
        ),
        migrations.AddConstraint(
            model_name="livestream",
            constraint=models.CheckConstraint(
                condition=models.Q(publish_key__regex="^[0-9a-f]{32}$"),
                name="livestream_key_32_hex",
            ),
        ),
        migrations.AddField(
            model_name="livestream",
            name="public_id",
            field=models.CharField(
                editable=False, max_length=12, null=True, verbose_name="공개 식별자"
            ),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
    ]
