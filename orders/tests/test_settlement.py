"""Settlement (SPEC §9): numbers checked against SQL sums, cent-exact, on store-local days
across the end of daylight saving time (Los Angeles, Sunday 2026-11-01: 02:00 PDT → 01:00
PST) and midnight; the page, its CSV/XLSX, and the orders export's show/date columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from orders import selectors
from orders.models import Order
from orders.tests.factories import make_order, make_stream, make_variant

pytestmark = pytest.mark.django_db

URL = "admin:orders_order_settlement"
TZ = "America/Los_Angeles"


def confirmed(order: Order, at: datetime, status: str = "PAYMENT_CONFIRMED") -> Order:
    Order.objects.filter(pk=order.pk).update(
        confirmed_at=at,
        status=status,
        tracking_number="1Z999" if status in ("SHIPPED", "DELIVERED") else "",
    )
    order.refresh_from_db()
    return order


@pytest.fixture
def seeded(settings, user_factory):
    """Orders around 2026-11-01/02 in Los Angeles; the settlement is Nov 1 – Nov 2."""
    settings.STORE_TIME_ZONE = TZ
    buyer = user_factory(
        profile_complete=True, instagram_id="@jisoo.lee", depositor_name="=HYPERLINK(1)"
    )
    friday = make_stream(title="금요 라이브")
    sunday = make_stream(title="일요 라이브")
    knit = make_variant(price="19.99", stream=friday, name="니트")
    coat = make_variant(price="89.95", stream=sunday, name="코트")
    socks = make_variant(price="4.33", name="양말")  # a store product: no show
    o = {}
    # 23:30 PDT Oct 31 = 06:30 UTC Nov 1: the day before the range
    o["before"] = confirmed(make_order(user=buyer, items=[(knit, 1)]), _utc(11, 1, 6, 30))
    # 01:30 PDT Nov 1 (the first of the two 01:30s)
    o["early"] = confirmed(
        make_order(user=buyer, items=[(knit, 2), (socks, 1)], points_used=250),
        _utc(11, 1, 8, 30),
    )
    # 23:30 PST Nov 1, the day the clocks went back = 07:30 UTC Nov 2: still Nov 1
    o["late"] = confirmed(
        make_order(user=buyer, items=[(coat, 1)], shipping_fee="0.00"),
        _utc(11, 2, 7, 30),
        status="SHIPPED",
    )
    # 00:05 PST Nov 2 = 08:05 UTC: just after midnight, Nov 2
    o["midnight"] = confirmed(
        make_order(user=buyer, items=[(coat, 1), (knit, 1)], points_used=1001),
        _utc(11, 2, 8, 5),
        status="DELIVERED",
    )
    # 23:59 PST Nov 2: the last minute of the range
    o["last"] = confirmed(make_order(user=buyer, items=[(socks, 3)]), _utc(11, 3, 7, 59))
    # 00:00 PST Nov 3: after the range
    o["after"] = confirmed(make_order(user=buyer, items=[(socks, 1)]), _utc(11, 3, 8, 0))
    # confirmed in the range, then cancelled: not revenue
    o["cancelled"] = confirmed(
        make_order(user=buyer, items=[(coat, 2)]), _utc(11, 2, 20, 0), status="CANCELLED"
    )
    o["pending"] = make_order(user=buyer, items=[(coat, 1)])  # never confirmed
    return o


def _utc(month, day, hour, minute) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def sql_by_day() -> dict:
    """The day of each confirmation on the store's clock, summed by PostgreSQL itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (confirmed_at AT TIME ZONE %s)::date AS day, count(*), sum(total),
                   sum(shipping_fee), sum(points_used), sum(points_discount)
            FROM orders_order
            WHERE confirmed_at IS NOT NULL AND status <> 'CANCELLED'
            GROUP BY day
            """,
            [TZ],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def test_settlement_matches_sql_sums_across_dst_and_midnight(seeded):
    summary = selectors.settlement_summary(start=date(2026, 11, 1), end=date(2026, 11, 2))
    by_day = sql_by_day()
    nov1, nov2 = by_day[date(2026, 11, 1)], by_day[date(2026, 11, 2)]
    # the database agrees on the days: 23:30 on the DST day is Nov 1, 00:05 is Nov 2
    assert nov1[0] == 2 and nov2[0] == 2
    assert [d["date"] for d in summary.daily] == [date(2026, 11, 1), date(2026, 11, 2)]
    for row, sql in zip(summary.daily, (nov1, nov2), strict=True):
        assert (row["count"], row["revenue"], row["shipping"]) == (sql[0], sql[1], sql[2])
        assert (row["points_used"], row["points_discount"]) == (sql[3], sql[4])
    assert summary.count == nov1[0] + nov2[0] == 4
    assert summary.revenue == nov1[1] + nov2[1]
    assert summary.shipping == nov1[2] + nov2[2]
    assert summary.points_used == nov1[3] + nov2[3] == 1251
    # and by hand, cent-exact: early 2×19.99+4.33+8−2.50 = 49.81; late 89.95; midnight
    # 89.95+19.99+8−10.01 = 107.93; last 3×4.33+8 = 20.99
    expected = [seeded[k].total for k in ("early", "late", "midnight", "last")]
    assert expected == [Decimal(v) for v in ("49.81", "89.95", "107.93", "20.99")]
    assert summary.revenue == Decimal("268.68")
    assert summary.average == Decimal("67.17")  # 268.68 / 4
    assert summary.shipping == Decimal("24.00")
    assert summary.points_discount == Decimal("12.51")
    assert [d["revenue"] for d in summary.daily] == [Decimal("139.76"), Decimal("128.92")]


def test_settlement_per_show_breakdown(seeded):
    summary = selectors.settlement_summary(start=date(2026, 11, 1), end=date(2026, 11, 2))
    shows = {row["title"]: row for row in summary.shows}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.title, count(DISTINCT i.order_id), sum(i.quantity), sum(i.line_total)
            FROM orders_orderitem i
            JOIN orders_order o ON o.id = i.order_id
            LEFT JOIN live_livestream s ON s.id = i.stream_id
            WHERE o.id = ANY(%s)
            GROUP BY s.title
            """,
            [[seeded[k].pk for k in ("early", "late", "midnight", "last")]],
        )
        sql = {title or "": (orders, units, revenue) for title, orders, units, revenue in cursor}
    assert set(shows) == {"금요 라이브", "일요 라이브", ""}
    for title, row in shows.items():
        assert (row["orders"], row["units"], row["revenue"]) == sql[title]
    assert shows["금요 라이브"]["revenue"] == Decimal("59.97")  # 3 knits
    assert shows["일요 라이브"]["revenue"] == Decimal("179.90")
    assert shows[""]["stream_id"] is None and shows[""]["revenue"] == Decimal("17.32")


def test_empty_days_are_listed_with_zero(settings):
    settings.STORE_TIME_ZONE = TZ
    summary = selectors.settlement_summary(start=date(2026, 2, 27), end=date(2026, 3, 1))
    assert [d["date"].day for d in summary.daily] == [27, 28, 1]
    assert summary.count == 0 and summary.average == Decimal("0.00")
    assert all(d["revenue"] == Decimal("0.00") for d in summary.daily)


def test_settlement_page_shows_totals_chart_and_shows(staff_client, seeded):
    response = staff_client.get(reverse(URL), {"start": "2026-11-01", "end": "2026-11-02"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="st-revenue">$268.68<' in html
    assert 'data-testid="st-average">$67.17<' in html
    assert 'data-testid="st-shipping">$24.00<' in html
    assert 'data-testid="st-count">4<' in html
    assert html.count("<rect ") == 2  # one bar per day, server-rendered SVG
    assert "금요 라이브" in html and "일요 라이브" in html
    assert "download=xlsx" in html


def test_settlement_defaults_to_this_month(staff_client):
    response = staff_client.get(reverse(URL))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.start.day == 1 and summary.end >= summary.start


def test_settlement_bad_range_is_a_korean_error(staff_client):
    response = staff_client.get(reverse(URL), {"start": "2026-11-05", "end": "2026-11-01"})
    assert response.status_code == 200
    assert "종료일이 시작일보다 빠릅니다." in response.content.decode()
    response = staff_client.get(reverse(URL), {"start": "어제", "end": "2026-11-01"})
    assert "날짜를 YYYY-MM-DD 형식으로 입력해 주세요." in response.content.decode()
    assert response.context["summary"] is None


def test_settlement_csv_daily_and_orders(staff_client, seeded):
    query = {"start": "2026-11-01", "end": "2026-11-02", "download": "csv"}
    daily = staff_client.get(reverse(URL), {**query, "kind": "daily"})
    assert daily["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(daily.content.decode("utf-8-sig"))))
    assert rows == [
        selectors.SETTLEMENT_DAILY_HEADER,
        ["2026-11-01", "2", "139.76", "8.00", "250", "2.50"],
        ["2026-11-02", "2", "128.92", "16.00", "1001", "10.01"],
        ["합계", "4", "268.68", "24.00", "1251", "12.51"],
    ]
    orders = staff_client.get(reverse(URL), {**query, "kind": "orders"})
    rows = list(csv.reader(io.StringIO(orders.content.decode("utf-8-sig"))))
    assert rows[0] == selectors.SETTLEMENT_ORDER_HEADER
    ids = [seeded[k].order_id for k in ("early", "late", "midnight", "last")]
    assert [r[0] for r in rows[1:]] == ids
    late = rows[2]
    assert late[1:4] == ["2026-11-01", "23:30", "일요 라이브"]
    assert rows[3][1:4] == ["2026-11-02", "00:05", "금요 라이브, 일요 라이브"]
    assert late[4:6] == ["'@jisoo.lee", "'=HYPERLINK(1)"]  # formulas escaped
    assert late[-1] == "89.95"
    assert sum(Decimal(r[-1]) for r in rows[1:]) == Decimal("268.68")


def test_settlement_xlsx_has_a_daily_and_an_orders_sheet(staff_client, seeded):
    response = staff_client.get(
        reverse(URL), {"start": "2026-11-01", "end": "2026-11-02", "download": "xlsx"}
    )
    assert response["Content-Disposition"].endswith('settlement-20261101-20261102.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["daily", "orders"]
    daily = [[c.value for c in row] for row in book["daily"].iter_rows(min_row=2)]
    assert daily == [
        ["2026-11-01", 2, 139.76, 8, 250, 2.5],
        ["2026-11-02", 2, 128.92, 16, 1001, 10.01],
        ["합계", 4, 268.68, 24, 1251, 12.51],
    ]
    order_rows = list(book["orders"].iter_rows(min_row=2))
    assert len(order_rows) == 4
    name = order_rows[0][5]
    assert name.value == "=HYPERLINK(1)" and name.data_type == "s" and name.quotePrefix


def test_orders_export_has_show_title_and_store_date(staff_client, settings, user_factory):
    settings.STORE_TIME_ZONE = TZ
    buyer = user_factory(profile_complete=True)
    stream = make_stream(title="=금요 라이브")
    order = make_order(
        user=buyer,
        items=[(make_variant(stream=stream), 1), (make_variant(name="양말"), 1)],
    )
    # placed 23:30 PST Nov 1 (07:30 UTC Nov 2): the store's date is Nov 1
    Order.objects.filter(pk=order.pk).update(created_at=_utc(11, 2, 7, 30))
    response = staff_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "export_csv", "_selected_action": [order.pk]},
    )
    header, live_row, store_row = list(
        csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    )
    assert header[-2:] == ["방송", "주문일"]
    assert live_row[-2:] == ["'=금요 라이브", "2026-11-01"]  # a title is escaped too
    assert store_row[-2:] == ["", "2026-11-01"]
    assert live_row[1] == "2026-11-01 23:30"


def test_settlement_needs_view_order(client, user_factory):
    from django.contrib.auth.models import Permission

    staff = user_factory(is_staff=True, profile_complete=True)
    client.force_login(staff)
    assert client.get(reverse(URL)).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_order"))
    assert client.get(reverse(URL), {"download": "xlsx"}).status_code == 200
