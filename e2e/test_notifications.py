"""Notifications in a real browser: the cart-expiring toast on whatever page the shopper is
reading, and the 알림 설정 page on a phone."""

import os
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from e2e.conftest import login_browser
from notifications import triggers
from notifications.models import NotificationPreference
from orders.tests.factories import hold, make_variant
from shop.tests.factories import ProductFactory, VariantFactory

SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def test_the_cart_expiring_job_shows_a_toast_two_minutes_before(browser, asgi_live_server):
    base = asgi_live_server.url
    shopper = UserFactory(profile_complete=True)
    hold(
        user=shopper,
        variant=make_variant(name="곧 끝나는 니트"),
        expires_at=timezone.now() + timedelta(seconds=100),
    )
    other = VariantFactory(product=ProductFactory(name="실크 스카프"), stock=5)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    login_browser(context, shopper, base)
    page = context.new_page()
    page.goto(f"{base}/products/{other.product_id}/")
    expect(page.locator("body")).to_have_attribute("data-events-socket", "open")

    assert triggers.carts_expiring_notify() == 1

    toast = page.locator("[data-user-toast]")
    expect(toast).to_contain_text("곧 끝나는 니트 담아두기가 2분 후 끝나요.")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "cart-expiring-toast-390.png"))
    toast.get_by_role("link", name="장바구니로 가기").click()
    expect(page).to_have_url(f"{base}/cart/")
    context.close()


def test_preferences_are_switched_from_my_page(browser, asgi_live_server):
    base = asgi_live_server.url
    shopper = UserFactory(profile_complete=True)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    login_browser(context, shopper, base)
    page = context.new_page()
    page.goto(f"{base}/my/")
    page.get_by_test_id("notification-preferences-link").click()
    expect(page.get_by_role("heading", name="알림 설정")).to_be_visible()
    push = page.get_by_test_id("pref-push_enabled")
    expect(push).to_be_checked()
    push.click()
    page.get_by_test_id("pref-cart_expiring_enabled").click()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "notification-preferences-390.png"))
    page.get_by_test_id("preferences-save").click()
    expect(page.get_by_text("알림 설정을 저장했습니다.")).to_be_visible()
    expect(page.get_by_test_id("pref-push_enabled")).not_to_be_checked()
    expect(page.get_by_test_id("pref-alimtalk_enabled")).to_be_checked()
    saved = NotificationPreference.objects.get(user=shopper)
    assert not saved.push_enabled and not saved.cart_expiring_enabled
    assert saved.alimtalk_enabled and saved.order_confirmed_enabled
    context.close()


def test_staff_sends_a_template_to_their_own_device(browser, transactional_db, tmp_path):
    from e2e.conftest import start_asgi_server, stop_asgi_server
    from notifications.models import (
        Channel,
        Kind,
        NotificationSend,
        NotificationTemplate,
        PushSubscription,
    )
    from notifications.push import vapid_keys_generate
    from notifications.tests.conftest import browser_keys
    from notifications.tests.fakes import FakeServer

    public, private = vapid_keys_generate()
    push = FakeServer(default=201).start()
    server = start_asgi_server(
        tmp_path=tmp_path,
        extra_env={"VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private},
    )
    try:
        staff = UserFactory(is_staff=True, is_superuser=True, profile_complete=True)
        p256dh, auth = browser_keys()
        PushSubscription.objects.create(
            user=staff, endpoint=f"{push.url}/push/staff", p256dh=p256dh, auth=auth
        )
        template = NotificationTemplate.objects.create(
            name="발송 안내 푸시",
            kind=Kind.SHIPPED,
            channel=Channel.PUSH,
            title="발송 완료",
            body="주문 {{order_id}}: {{carrier}} {{tracking_number}}",
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        login_browser(context, staff, server.url)
        page = context.new_page()
        page.goto(f"{server.url}/admin/notifications/notificationtemplate/{template.pk}/change/")
        page.get_by_test_id("template-test-send").click()
        expect(page.get_by_text("테스트 발송을 보냈습니다")).to_be_visible()
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "admin-template-test-send-1440.png"))
        assert [r.path for r in push.requests] == ["/push/staff"]
        sent = NotificationSend.objects.get(user=staff)
        assert sent.status == NotificationSend.Status.SENT
        assert sent.body == "주문 D2612030001: USPS 9400111899223100000000"
        context.close()
    finally:
        stop_asgi_server(server)
        push.stop()
