"""`manage.py export_orders --from DAY --to DAY [--format csv|xlsx] [--output FILE]`.

The admin's "CSV/XLSX 내보내기" from a shell: the same rows (`orders.selectors`) and the same
writer (`dorami.exports`, formula cells neutralised). Days are store-calendar days, inclusive.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dorami import exports
from orders import selectors


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a day like 2026-12-03.") from exc


class Command(BaseCommand):
    help = "Export orders placed between two store-calendar days (one row per item)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("--output", "-o", help="file (default: orders-FROM-TO.FORMAT)")

    def handle(self, *args, first, last, format, output=None, **options):
        first_day, last_day = _day(first), _day(last)
        if last_day < first_day:
            raise CommandError("--to is before --from.")
        target = Path(output or f"orders-{first_day}-{last_day}.{format}")
        orders = selectors.orders_created_between(first_day=first_day, last_day=last_day)
        order_count = orders.count()
        total = selectors.order_export_item_count(orders=orders)
        rows = tqdm(
            selectors.order_export_rows(orders=orders),
            total=total,
            unit="row",
            desc="export",
            disable=None,
            file=self.stderr,
        )
        written = 0

        def counted():
            nonlocal written
            for row in rows:
                written += 1
                yield row

        target.parent.mkdir(parents=True, exist_ok=True)
        if format == "csv":
            with target.open("w", encoding="utf-8", newline="") as stream:
                exports.write_csv(stream, header=selectors.EXPORT_HEADER, rows=counted())
        else:
            with target.open("wb") as stream:
                exports.write_xlsx(
                    stream, sheet_name="orders", header=selectors.EXPORT_HEADER, rows=counted()
                )
        rows.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"exported {order_count} orders ({written} item rows) "
                f"from {first_day} to {last_day} to {target}"
            )
        )
