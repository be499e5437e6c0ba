"""The live page through a Redis outage (real uvicorn child + a Redis of the test's own +
Chromium): the page says 재연결 중 while Redis is down, a chat typed then is refused with a toast
and stays in the input, and once Redis is back — empty — new events reach the open page within
3 seconds."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from e2e.conftest import login_browser, start_asgi_server, stop_asgi_server


@pytest.fixture
def outage_server(own_redis, transactional_db, tmp_path):
    """The ASGI child pointed at `own_redis` (started after the settings point there)."""
    server = start_asgi_server(tmp_path=tmp_path)
    yield server
    stop_asgi_server(server)


def test_the_page_shows_reconnecting_and_catches_up_after_redis_returns(
    own_redis, outage_server, browser, browser_context_args
):
    from accounts.tests.factories import UserFactory
    from live.models import LiveStream
    from live.services.stream import stream_notice_update
    from shop.services import cart_add
    from shop.tests.factories import ProductFactory, VariantFactory

    # given: a shopper watching a live stream with a product of 5 units
    stream = LiveStream.objects.create(
        title="금요 라이브", status=LiveStream.Status.LIVE, notice_text="처음 공지"
    )
    product = ProductFactory(stream=stream, name="니트")
    variant = VariantFactory(product=product, stock=5)
    shopper = UserFactory(profile_complete=True)
    buyer = UserFactory(profile_complete=True)
    context = browser.new_context(**browser_context_args)
    try:
        login_browser(context, shopper, outage_server.url)
        page = context.new_page()
        page.goto(outage_server.url + "/live/")  # redirects to the stream's page
        room = page.locator("#live-room")
        banner = page.get_by_test_id("realtime-banner")
        expect(room).to_have_attribute("data-ws-state", "open")
        expect(banner).to_be_hidden()

        # when: Redis stops
        own_redis.stop()

        # then: the page says it is reconnecting (instead of silently receiving nothing)
        expect(banner).to_be_visible(timeout=5000)
        expect(banner).to_have_text("재연결 중…")
        # and a chat typed now is refused with a toast, the text kept in the input
        chat = page.locator("[data-chat-input]")
        chat.fill("품절되기 전에 살게요")
        chat.press("Enter")
        expect(page.locator("[data-toast]")).to_contain_text("실시간 연결이 끊겨")
        expect(chat).to_have_value("품절되기 전에 살게요")
        page.screenshot(path=str(outage_server.log_path.parent / "redis-outage.png"))

        # when: Redis comes back empty, and the room changes
        own_redis.start()
        restarted = time.monotonic()
        expect(banner).to_be_hidden(timeout=3000)
        stream_notice_update(stream=stream, notice_text="돌아왔어요")
        cart_add(user=buyer, variant_id=variant.pk, quantity=2)

        # then: the open page shows the new events within 3 seconds of the restart
        expect(page.locator("[data-notice]")).to_have_text("돌아왔어요", timeout=3000)
        card = page.locator(f'[data-product-id="{product.pk}"]')
        expect(card.locator("[data-low-badge]")).to_have_text("3개 남음", timeout=3000)
        assert time.monotonic() - restarted < 3.0

        # and the kept message can now be sent
        chat.press("Enter")
        expect(page.locator(".chat-line", has_text="품절되기 전에 살게요")).to_be_visible()
        expect(chat).to_have_value("")
    finally:
        context.close()
