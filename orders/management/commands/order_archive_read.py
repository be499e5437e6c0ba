"""Read the sealed personal snapshot of a deleted account's order, for a legal request (a tax
audit, a chargeback, a court order). Ops only: no page shows it. Every read is audited."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import crypto
from core.services import audit_log_record
from orders.models import Order


class Command(BaseCommand):
    help = (
        "탈퇴 회원 주문의 보관 개인정보를 복호화해 출력합니다 (법적 요청 대응용, 감사 로그 기록)."
    )

    def add_arguments(self, parser):
        parser.add_argument("order_id", help="주문번호 (예: ORD-20261203-00001)")
        parser.add_argument("--reason", required=True, help="열람 사유 (감사 로그에 남습니다)")

    def handle(self, *args, order_id: str, reason: str, **options):
        order = Order.objects.filter(order_id=order_id).first()
        if order is None or not order.personal_archive:
            raise CommandError(f"{order_id}: 보관된 탈퇴 회원 정보가 없습니다.")
        try:
            data = crypto.archive_open(order.personal_archive)
        except crypto.DecryptionError as exc:
            raise CommandError(
                "보관 키가 맞지 않습니다 (ARCHIVE_ENCRYPTION_KEY / SECRET_KEY)."
            ) from exc
        with transaction.atomic():
            audit_log_record(
                actor=None,
                action="order.archive_read",
                obj=order,
                after={"reason": reason},
            )
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
