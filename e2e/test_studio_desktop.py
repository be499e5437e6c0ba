"""The seller's studio at desktop width (1440×900), in a real browser against uvicorn + Redis.

The seller (staff, no shopper profile) chats from the studio and a shopper's live page shows
the message under the seller's name with a badge; the studio has its own layout (no shopper
tab bar), a video preview, a viewers/sales chart, and says why a show ended by itself.
"""

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


def _shot(page, server, name: str) -> None:
    page.screenshot(path=str(server.log_path.parent / f"{name}.png"))


def test_seller_chats_from_the_studio_without_a_profile(
    asgi_live_server, browser, browser_context_args, desktop
):
    from accounts.tests.factories import UserFactory
    from dorami.realtime import sync_redis
    from live.models import LiveStream
    from orders.models import Order
    from orders.tests.factories import make_order, make_variant

    # given a live show that started 40 minutes ago with two orders, a seller without a shopper
    # profile, and a shopper watching on a phone
    started = timezone.now() - timedelta(minutes=40)
    stream = LiveStream.objects.create(
        title="금요 신상 라이브", status=LiveStream.Status.LIVE, started_at=started
    )
    seller = UserFactory(
        is_staff=True, is_superuser=True, profile_complete=False, email="seller@example.com"
    )
    shopper = UserFactory(profile_complete=True, instagram_id="@mina")
    variant = make_variant(price="24.00", stream=stream, name="캐시미어 니트")
    for minutes_in, quantity in ((12, 2), (31, 1)):
        order = make_order(user=shopper, items=[(variant, quantity)])
        Order.objects.filter(pk=order.pk).update(created_at=started + timedelta(minutes=minutes_in))
    history = {
        str(int((started + timedelta(minutes=m)).timestamp()) // 60 * 60): n
        for m, n in ((1, 3), (8, 9), (15, 14), (22, 11), (30, 17))
    }
    sync_redis().zadd(f"rt:pres:hist:{stream.pk}", history)

    phone = browser.new_context(**browser_context_args)
    try:
        login_browser(phone, shopper, asgi_live_server.url)
        login_browser(desktop, seller, asgi_live_server.url)
        viewer = phone.new_page()
        viewer.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
        expect(viewer.locator("#live-room")).to_have_attribute("data-ws-state", "open")

        studio = desktop.new_page()
        studio.goto(f"{asgi_live_server.url}/studio/{stream.pk}/")
        expect(studio.locator("[data-chat-state]")).to_have_text("연결됨")

        # the studio's own desktop layout: no shopper tab bar, three columns side by side
        expect(studio.locator(".tabbar")).to_have_count(0)
        boxes = [
            studio.locator(sel).bounding_box()
            for sel in ("[data-testid=studio-preview]", "#studio-chat", "#studio-sales")
        ]
        assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
        assert all(box["y"] < 200 for box in boxes)  # all start at the top of the page
        # the sales table is fully visible, nothing fixed over it
        table = studio.locator("#studio-sales .studio-table")
        expect(table).to_be_visible()
        box = table.bounding_box()
        covering = studio.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('#studio-sales') !== null",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] - 4],
        )
        assert covering

        # the video preview plays the stream's playback URL (the same player as the live page)
        video = studio.locator("#live-video")
        assert video.get_attribute("data-flv-url") == viewer.locator("#live-video").get_attribute(
            "data-flv-url"
        )
        assert video.get_attribute("data-player-state") in {"connecting", "reconnecting", "playing"}

        # the chart shows the real numbers
        expect(studio.get_by_test_id("chart-viewers-max")).to_have_text("최대 17명")
        expect(studio.get_by_test_id("chart-revenue-total")).to_have_text("$72.00")
        assert studio.get_by_test_id("chart-viewers").get_attribute("points").count(",") >= 8

        # when the seller chats from the studio
        studio.locator("[data-chat-form] input[name=body]").fill("5분 뒤 니트 추가 입고!")
        studio.locator("[data-chat-form] input[name=body]").press("Enter")

        # then the shopper sees it under the seller's name, with the seller badge
        line = viewer.locator(".chat-line", has_text="5분 뒤 니트 추가 입고!")
        expect(line).to_be_visible()
        expect(line.locator(".chat-name")).to_have_text("Dorami")
        expect(line.locator("[data-seller-badge]")).to_have_text("판매자")
        row = studio.locator(".chat-row", has_text="5분 뒤 니트 추가 입고!")
        expect(row.locator("[data-seller-badge]")).to_be_visible()
        expect(studio.locator("[data-chat-error]")).to_have_text("")
        _shot(studio, asgi_live_server, "studio-desktop-live")
        _shot(viewer, asgi_live_server, "viewer-seller-badge")
    finally:
        phone.close()


def test_studio_says_why_a_show_ended_by_itself(asgi_live_server, desktop):
    from accounts.tests.factories import UserFactory
    from live.models import LiveStream
    from live.services.stream import media_reconcile

    seller = UserFactory(is_staff=True, is_superuser=True)
    started = timezone.now() - timedelta(minutes=30)
    stream = LiveStream.objects.create(
        title="끊긴 방송",
        status=LiveStream.Status.LIVE,
        started_at=started,
        last_publish_at=started,
        media_last_seen_at=started,
    )
    login_browser(desktop, seller, asgi_live_server.url)
    page = desktop.new_page()
    page.goto(f"{asgi_live_server.url}/studio/{stream.pk}/")
    expect(page.locator("[data-chat-state]")).to_have_text("연결됨")
    expect(page.get_by_test_id("end-reason")).to_have_count(0)

    # when the reconcile job finds the media server no longer has it
    assert media_reconcile() == [stream.pk]

    # then the open studio updates itself and says why, in Korean
    reason = page.get_by_test_id("end-reason")
    expect(reason).to_contain_text("미디어 서버에서 방송이 사라져 자동으로 종료되었습니다")
    expect(page.get_by_test_id("stream-status")).to_have_attribute("data-status", "OFFLINE")
    expect(page.locator("#live-video")).to_have_attribute("data-player-state", "ended")
    _shot(page, asgi_live_server, "studio-desktop-ended")
