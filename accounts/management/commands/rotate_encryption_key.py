"""Re-encrypt every registered encrypted column with the current key.

Usage: put the new key first in PROFILE_ENCRYPTION_KEYS ("2:<new hex>,1:<old hex>"), deploy,
run `manage.py rotate_encryption_key`, then drop the old key. Safe to run again (rows already
on the current key are skipped) and while the site is up (rows are locked batch by batch).
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import crypto


class Command(BaseCommand):
    help = "모든 암호화 컬럼(배송지 등)을 현재 키로 다시 암호화합니다."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        try:
            current, keys = crypto.keyring()
        except ImproperlyConfigured as exc:
            raise CommandError(f"현재 암호화 키가 없습니다: {exc}") from exc
        if current not in keys:  # defensive: parse_keys always includes the current version
            raise CommandError(f"현재 키 버전 {current}이(가) 설정에 없습니다.")
        if batch_size < 1:
            raise CommandError("--batch-size는 1 이상이어야 합니다.")

        total_failed = 0
        for label, field in list(crypto.ENCRYPTED_FIELDS):
            rotated, current_already, failed = self._rotate(label, field, current, batch_size)
            total_failed += failed
            self.stdout.write(
                f"{label}.{field}: rotated={rotated} already_current={current_already} "
                f"failed={failed} (key v{current})"
            )
        if total_failed:
            raise CommandError(
                f"{total_failed}개 행을 복호화하지 못했습니다. 이전 키가 "
                "PROFILE_ENCRYPTION_KEYS에 남아 있는지 확인하세요."
            )
        self.stdout.write(self.style.SUCCESS("암호화 키 교체 완료"))

    def _rotate(self, label: str, field: str, current: int, batch_size: int):
        model = apps.get_model(label)
        version_field = crypto.KEY_VERSION_FIELDS.get((label, field))
        prefix = f"v{current}:"
        manager = model._default_manager
        base = manager.exclude(**{field: ""}).exclude(**{f"{field}__isnull": True})
        already = base.filter(**{f"{field}__startswith": prefix}).count()
        pending = base.exclude(**{f"{field}__startswith": prefix})
        rotated = 0
        failed_pks: set = set()
        last_pk = None
        while True:
            with transaction.atomic():
                batch = pending.order_by("pk")
                if last_pk is not None:
                    batch = batch.filter(pk__gt=last_pk)
                rows = list(batch.select_for_update().only("pk", field)[:batch_size])
                if not rows:
                    break
                for row in rows:
                    last_pk = row.pk
                    token = getattr(row, field)
                    if token.startswith(prefix):  # rotated by someone else meanwhile
                        continue
                    try:
                        new_token = crypto.reencrypt_token(token)
                    except crypto.DecryptionError:
                        failed_pks.add(row.pk)
                        continue
                    updates = {field: new_token}
                    if version_field:
                        updates[version_field] = current
                    manager.filter(pk=row.pk).update(**updates)
                    rotated += 1
        return rotated, already, len(failed_pks)
