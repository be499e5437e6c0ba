"""`manage.py reconcile_payments FILE`: match a bank / Zelle statement CSV to unpaid orders.

Prints proposed / ambiguous / unmatched rows; `--confirm` confirms the proposed ones through
`payment_confirm` (ambiguous rows never are)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders import reconciliation as rec
from orders import services


class Command(BaseCommand):
    help = "입금 내역 CSV를 입금 대기 주문과 대조합니다 (--confirm: 제안된 건 입금 확인)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--date-col", default="date")
        parser.add_argument("--name-col", default="name")
        parser.add_argument("--amount-col", default="amount")
        parser.add_argument("--window-days", type=int, default=7)
        parser.add_argument("--confirm", action="store_true")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"file not found: {path}")
        try:
            deposits = rec.statement_parse(
                raw=path.read_bytes(),
                date_col=options["date_col"],
                name_col=options["name_col"],
                amount_col=options["amount_col"],
            )
        except rec.StatementError as exc:
            raise CommandError(f"{exc.code}: {exc.message} (nothing applied)") from None
        rows = rec.reconcile(deposits=deposits, window_days=options["window_days"])
        for row in rows:
            orders = ", ".join(order.order_id for order in row.orders) or "-"
            d = row.deposit
            self.stdout.write(
                f"row {d.row}\t{row.status}\t{d.date}\t{d.name}\t{d.amount}\t{orders}\t{row.reason}"
            )
        counts = rec.summarize(rows)
        self.stdout.write(
            f"proposed {counts['proposed']}, ambiguous {counts['ambiguous']}, "
            f"unmatched {counts['unmatched']}"
        )
        if options["confirm"]:
            ids = [row.order.pk for row in rows if row.status == rec.PROPOSED]
            result = services.payments_confirm_many(order_ids=ids)
            for order_id in result["confirmed"]:
                self.stdout.write(self.style.SUCCESS(f"confirmed {order_id}"))
            for order_id, reason in result["refused"]:
                self.stdout.write(self.style.ERROR(f"refused {order_id}: {reason}"))
