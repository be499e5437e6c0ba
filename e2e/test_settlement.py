"""The admin at desktop width (1440×900) in a real browser: the settlement page's totals for
today's confirmed orders, and the dashboard listing a new unpaid order by itself (htmx
polling, no reload)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from e2e.conftest import login_browser

DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def desktop(browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, "viewport": DESKTOP})
    yield context
    context.close()


def test_staff_sees_settlement_totals_and_new_pending_orders(asgi_live_server, desktop):
    from accounts.tests.factories import UserFactory
    from dorami.storetime import store_localtime
    from orders.models import Order
    from orders.tests.factories import make_order, make_stream, make_variant

    # given two orders confirmed an hour ago (one from a show) and one cancelled
    staff = UserFactory(is_staff=True, is_superuser=True, profile_complete=True)
    buyer = UserFactory(profile_complete=True, instagram_id="@mina")
    show = make_stream(title="금요 신상 라이브")
    knit = make_variant(price="19.99", stream=show, name="니트")
    socks = make_variant(price="4.33", name="양말")
    hour_ago = timezone.now() - timedelta(hours=1)
    paid = [
        make_order(user=buyer, items=[(knit, 2)]),  # 39.98 + 8.00
        make_order(user=buyer, items=[(socks, 1)], points_used=100),  # 4.33 + 8.00 - 1.00
    ]
    cancelled = make_order(user=buyer, items=[(knit, 1)])
    for order in paid:
        Order.objects.filter(pk=order.pk).update(status="PAYMENT_CONFIRMED", confirmed_at=hour_ago)
    Order.objects.filter(pk=cancelled.pk).update(status="CANCELLED", confirmed_at=hour_ago)
    assert sum(o.total for o in paid) == Decimal("59.31")
    day = store_localtime(hour_ago).date().isoformat()  # the store's calendar day

    login_browser(desktop, staff, asgi_live_server.url)
    page = desktop.new_page()
    # when staff open the settlement for the day of those payments
    page.goto(f"{asgi_live_server.url}/admin/orders/order/settlement/?start={day}&end={day}")
    # then the totals are the two paid orders
    expect(page.get_by_test_id("st-count")).to_have_text("2")
    expect(page.get_by_test_id("st-revenue")).to_have_text("$59.31")
    expect(page.get_by_test_id("st-average")).to_have_text("$29.66")  # 29.655 rounds up
    expect(page.get_by_test_id("st-shipping")).to_have_text("$16.00")
    expect(page.get_by_test_id("st-shows")).to_contain_text("금요 신상 라이브")
    expect(page.get_by_test_id("st-chart").locator("rect")).to_have_count(1)
    page.screenshot(path=str(asgi_live_server.log_path.parent / "settlement.png"))

    # and on the dashboard, an order placed while the page is open shows up by itself
    page.goto(f"{asgi_live_server.url}/admin/")
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    new = make_order(user=buyer, items=[(socks, 2)])
    Order.objects.filter(pk=new.pk).update(payment_deadline=timezone.now() + timedelta(hours=24))
    expect(page.get_by_test_id("pending-orders")).to_contain_text(new.order_id, timeout=25_000)
    page.screenshot(path=str(asgi_live_server.log_path.parent / "dashboard.png"))
