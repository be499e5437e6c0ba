import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from orders.models import Order
from orders.tests.factories import make_order, make_variant
from orders.tests.test_admin import action

LA = ZoneInfo("America/Los_Angeles")


def _placed(order, *wall):
    Order.objects.filter(pk=order.pk).update(created_at=datetime(*wall, tzinfo=LA))


def test_export_orders_takes_store_calendar_days_and_matches_the_admin(
    staff_client, shopper, tmp_path, settings
):
    settings.STORE_TIME_ZONE = "America/Los_Angeles"
    inside = make_order(user=shopper, items=[(make_variant(price="12.70"), 3)])
    late_evening = make_order(user=shopper, items=[(make_variant(name="양말"), 1)])
    next_day = make_order(user=shopper, items=[(make_variant(name="모자"), 1)])
    _placed(inside, 2026, 12, 1, 9, 0)
    _placed(late_evening, 2026, 12, 2, 23, 30)  # already Dec 3 in UTC
    _placed(next_day, 2026, 12, 3, 0, 5)
    target = tmp_path / "out.csv"
    out = io.StringIO()

    call_command(
        "export_orders", "--from", "2026-12-01", "--to", "2026-12-02", "-o", str(target), stdout=out
    )

    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [inside.order_id, late_evening.order_id]
    assert "exported 2 orders (2 item rows)" in out.getvalue()
    admin = action(staff_client, "export_csv", [inside, late_evening])
    assert admin.content == target.read_bytes()


def test_export_orders_writes_xlsx_and_refuses_bad_days(shopper, tmp_path):
    order = make_order(user=shopper, items=[(make_variant(), 2)])
    day = order.created_at.astimezone(LA).date().isoformat()
    target = tmp_path / "o.xlsx"
    call_command(
        "export_orders",
        "--from",
        day,
        "--to",
        day,
        "--format",
        "xlsx",
        "-o",
        str(target),
        stdout=io.StringIO(),
    )
    sheet = load_workbook(target).active
    assert sheet.max_row == 2 and sheet.cell(2, 1).value == order.order_id
    with pytest.raises(CommandError, match="not a day"):
        call_command("export_orders", "--from", "12/01", "--to", day)
    with pytest.raises(CommandError, match="before --from"):
        call_command("export_orders", "--from", day, "--to", "2000-01-01")
