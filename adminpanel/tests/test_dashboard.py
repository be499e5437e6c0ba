from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from adminpanel.selectors import dashboard_summary
from live.models import LiveStream
from orders.models import Order, OrderItem

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles


def _order(user, n, *, status="PAYMENT_CONFIRMED", total, confirmed_at=None, items=()):
    order = Order.objects.create(
        order_id=f"ORD-20261120-{n:05d}",
        user=user,
        status=status,
        payment_method="ZELLE",
        subtotal=Decimal(total),
        total=Decimal(total),
        depositor_name="홍길동",
        idempotency_key=f"dash-{n}",
        confirmed_at=confirmed_at,
        tracking_number="1Z999" if status in ("SHIPPED", "DELIVERED") else "",
    )
    for name, quantity, line_total in items:
        OrderItem.objects.create(
            order=order,
            product_name=name,
            unit_price=Decimal(line_total) / quantity,
            quantity=quantity,
            line_total=Decimal(line_total),
        )
    return order


def test_dashboard_numbers(shopper, settings):
    settings.STORE_TIME_ZONE = "America/Los_Angeles"
    # given: this week (incl. one paid at 19:00 LA time the day before, 03:00 UTC today),
    # last week, pending and cancelled orders
    _order(
        shopper,
        1,
        total="100.00",
        confirmed_at=NOW - timedelta(days=1),
        items=[("니트", 2, "60.00"), ("코트", 1, "40.00")],
    )
    _order(
        shopper,
        2,
        status="SHIPPED",
        total="50.00",
        confirmed_at=NOW - timedelta(days=3),
        items=[("니트", 1, "30.00"), ("모자", 1, "20.00")],
    )
    _order(shopper, 3, total="10.00", confirmed_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    _order(
        shopper,
        4,
        status="DELIVERED",
        total="120.00",
        confirmed_at=NOW - timedelta(days=10),
        items=[("코트", 3, "120.00")],
    )
    _order(shopper, 5, status="PENDING_PAYMENT", total="33.30")
    _order(shopper, 6, status="PENDING_PAYMENT", total="10.00")
    _order(
        shopper,
        7,
        status="CANCELLED",
        total="999.00",
        confirmed_at=NOW - timedelta(days=2),
        items=[("니트", 9, "999.00")],
    )

    # when
    board = dashboard_summary(now=NOW)

    # then
    assert (board.revenue_7d, board.orders_7d) == (Decimal("160.00"), 3)
    assert board.revenue_prev_7d == Decimal("120.00")
    assert board.change_percent == Decimal("33.3")
    assert (board.pending_count, board.pending_amount) == (2, Decimal("43.30"))
    assert [(r["product_name"], r["units"], r["revenue"]) for r in board.top_products] == [
        ("니트", 3, Decimal("90.00")),
        ("코트", 1, Decimal("40.00")),
        ("모자", 1, Decimal("20.00")),
    ]
    assert len(board.daily) == 14
    assert board.daily[0]["date"] == date(2026, 11, 7)
    assert board.daily[-1]["date"] == date(2026, 11, 20)
    by_day = {d["date"]: (d["revenue"], d["percent"]) for d in board.daily}
    assert by_day[date(2026, 11, 19)] == (Decimal("110.00"), 91)  # store day, not UTC day
    assert by_day[date(2026, 11, 17)] == (Decimal("50.00"), 41)
    assert by_day[date(2026, 11, 10)] == (Decimal("120.00"), 100)
    assert by_day[date(2026, 11, 20)] == (Decimal("0.00"), 0)
    assert sum(d["revenue"] for d in board.daily) == Decimal("280.00")
    assert board.live is None


def test_dashboard_without_sales_has_no_change_percent():
    board = dashboard_summary(now=NOW)
    assert board.revenue_7d == Decimal("0.00")
    assert board.change_percent is None
    assert board.top_products == []
    assert all(d["percent"] == 0 for d in board.daily)


def test_admin_index_shows_the_dashboard(staff_client, shopper, django_assert_max_num_queries):
    _order(
        shopper,
        1,
        total="12.70",
        confirmed_at=timezone.now() - timedelta(hours=1),
        items=[("니트", 1, "12.70")],
    )
    _order(shopper, 2, status="PENDING_PAYMENT", total="8.00")
    LiveStream.objects.create(
        title="금요 라이브", status="LIVE", started_at=timezone.now() - timedelta(minutes=5)
    )
    # + the pending-payments list, + the device record (first request of this session)
    with django_assert_max_num_queries(17):
        response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "최근 7일 매출" in html
    assert '<p class="dd-number" data-testid="revenue-7d">$12.70</p>' in html
    assert "지난주 매출 없음" in html
    assert "$8.00" in html
    assert "금요 라이브" in html
    assert "니트" in html
    assert "admin_dashboard.css" in html


def test_dashboard_lists_pending_payments_newest_first_with_deadlines(shopper, settings):
    settings.STORE_TIME_ZONE = "America/Los_Angeles"
    older = _order(shopper, 1, status="PENDING_PAYMENT", total="20.00")
    newer = _order(shopper, 2, status="PENDING_PAYMENT", total="30.00")
    _order(shopper, 3, total="40.00", confirmed_at=NOW)  # paid: not listed
    Order.objects.filter(pk=older.pk).update(created_at=NOW - timedelta(hours=2))
    Order.objects.filter(pk=newer.pk).update(created_at=NOW - timedelta(hours=1))
    board = dashboard_summary(now=NOW)
    assert [o.order_id for o in board.pending_orders] == [newer.order_id, older.order_id]


def test_dashboard_partial_polls_and_shows_new_pending_orders(staff_client, shopper, settings):
    settings.STORE_TIME_ZONE = "America/Los_Angeles"
    index = staff_client.get(reverse("admin:index")).content.decode()
    partial_url = reverse("admin:dashboard")
    assert f'hx-get="{partial_url}"' in index
    assert 'hx-trigger="every 15s"' in index
    assert "htmx" in index  # the script is on the page (served locally)
    assert "입금 대기 주문 없음" in staff_client.get(partial_url).content.decode()

    # an order arrives during the show: the next poll lists it, its deadline in store time
    order = _order(shopper, 7, status="PENDING_PAYMENT", total="45.50")
    Order.objects.filter(pk=order.pk).update(
        payment_deadline=datetime(2026, 12, 4, 7, 30, tzinfo=UTC)  # 23:30 the 3rd in LA
    )
    response = staff_client.get(partial_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the partial alone
    assert 'hx-trigger="every 15s"' in html  # keeps polling after the swap
    assert order.order_id in html
    assert reverse("admin:orders_order_change", args=[order.pk]) in html
    assert "$45.50" in html
    assert "12월 3일 (목) 오후 11:30 PST" in html


def test_dashboard_partial_needs_view_order(client):
    from accounts.tests.factories import UserFactory

    staff = UserFactory(is_staff=True, profile_complete=True)
    client.force_login(staff)
    assert client.get(reverse("admin:dashboard")).status_code == 403
