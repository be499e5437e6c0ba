"""The admin at desktop width (1440×900) in a real browser: the order page's one-click 입금 확인
goes through its confirmation step and a double click confirms once; the user overview, the
order list's deadline column and a show's history render."""

from __future__ import annotations

from datetime import timedelta

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


def test_one_click_confirm_has_a_confirmation_step_and_confirms_once(asgi_live_server, desktop):
    from accounts.tests.factories import UserFactory, staff_with
    from core.models import AuditLog
    from orders.models import Order, OrderEvent
    from orders.tests.factories import make_order, make_variant

    # given a cashier (view + confirm payment only) and an unpaid order
    cashier = staff_with("orders.view_order", "orders.confirm_payment")
    buyer = UserFactory(profile_complete=True, instagram_id="@mina", depositor_name="김미나")
    order = make_order(user=buyer, items=[(make_variant(price="42.50"), 2)])
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() + timedelta(hours=20))

    login_browser(desktop, cashier, asgi_live_server.url)
    page = desktop.new_page()
    page.goto(f"{asgi_live_server.url}/admin/orders/order/{order.pk}/change/")
    # a view-only-for-change cashier sees the confirm button, not the resend button
    expect(page.get_by_test_id("resend-reminder")).to_have_count(0)
    # when they click 입금 확인, a confirmation page comes first and nothing has changed yet
    page.get_by_test_id("confirm-payment").click()
    expect(page.get_by_test_id("confirm-payment-summary")).to_contain_text("$93.00")
    expect(page.get_by_test_id("confirm-payment-summary")).to_contain_text("김미나")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT
    page.screenshot(path=str(asgi_live_server.log_path.parent / "confirm-step.png"))
    # and a double click on "예, 입금을 확인했습니다" confirms exactly once
    page.get_by_test_id("confirm-payment-submit").dblclick()
    expect(page.locator(".messagelist")).to_contain_text(f"{order.order_id} 입금 확인")
    expect(page.locator(".messagelist")).not_to_contain_text("이미 입금 확인된 주문입니다")
    expect(page.get_by_test_id("confirm-payment")).to_have_count(0)
    page.screenshot(path=str(asgi_live_server.log_path.parent / "confirmed.png"))
    order.refresh_from_db()
    assert order.status == Order.Status.PAYMENT_CONFIRMED
    assert order.events.filter(kind=OrderEvent.Kind.PAYMENT_CONFIRMED).count() == 1
    assert AuditLog.objects.filter(action="order.payment_confirmed", actor=cashier).count() == 1


def test_user_overview_order_deadlines_and_show_history_render(asgi_live_server, desktop):
    from accounts.tests.factories import UserFactory
    from live.models import ChatMessage, LiveStream
    from orders.models import Order
    from orders.services import payment_confirm
    from orders.tests.factories import hold, make_order, make_stream, make_variant
    from points.services import points_adjust

    staff = UserFactory(is_staff=True, is_superuser=True, profile_complete=True)
    buyer = UserFactory(profile_complete=True, instagram_id="@mina", email="mina@example.com")
    now = timezone.now()
    show = make_stream(
        title="금요 신상 라이브",
        status=LiveStream.Status.OFFLINE,
        started_at=now - timedelta(hours=3),
        ended_at=now - timedelta(hours=2),
        total_duration_seconds=3720,
        peak_viewers=128,
    )
    knit = make_variant(price="39.99", stream=show, name="캐시미어 니트")
    skirt = make_variant(price="25.50", stream=show, name="플리츠 스커트")
    paid = make_order(user=buyer, items=[(knit, 2), (skirt, 1)])
    payment_confirm(order=paid, actor=staff)
    late = make_order(user=buyer, items=[(skirt, 1)])
    Order.objects.filter(pk=late.pk).update(payment_deadline=now - timedelta(hours=1))
    points_adjust(user=buyer, amount=1000, reason="행사 참여 적립 포인트", actor=staff)
    hold(user=buyer, variant=make_variant(price="12.00"), expires_at=now + timedelta(minutes=9))
    for i in range(5):
        ChatMessage.objects.create(stream=show, user=buyer, display_name="@mina", body=f"{i}")

    login_browser(desktop, staff, asgi_live_server.url)
    page = desktop.new_page()
    shots = asgi_live_server.log_path.parent

    page.goto(f"{asgi_live_server.url}/admin/accounts/user/{buyer.pk}/change/")
    expect(page.get_by_test_id("stat-orders")).to_have_text("2")
    expect(page.get_by_test_id("stat-spent")).to_have_text(f"${paid.total:,.2f}")
    expect(page.get_by_test_id("user-holds")).to_contain_text("까지")
    page.screenshot(path=str(shots / "user-overview.png"))

    page.goto(f"{asgi_live_server.url}/admin/orders/order/")
    expect(page.locator(".order-deadline-overdue")).to_contain_text("(지남)")
    page.screenshot(path=str(shots / "order-list.png"))

    page.goto(f"{asgi_live_server.url}/admin/orders/order/{late.pk}/change/")
    page.get_by_test_id("resend-reminder").click()
    expect(page.locator(".messagelist")).to_contain_text("입금 안내 1건을 다시 보냈습니다")
    page.screenshot(path=str(shots / "order-resend.png"))

    page.goto(f"{asgi_live_server.url}/admin/live/livestream/{show.pk}/change/")
    expect(page.get_by_test_id("history-peak")).to_have_text("128")
    expect(page.get_by_test_id("history-chat")).to_have_text("5")
    page.screenshot(path=str(shots / "stream-history-admin.png"))

    page.goto(f"{asgi_live_server.url}/studio/{show.pk}/")
    expect(page.get_by_test_id("stream-history")).to_contain_text("캐시미어 니트")
    page.screenshot(path=str(shots / "stream-history-studio.png"))
