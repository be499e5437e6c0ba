"""Two shoppers in one live room (real uvicorn + Redis + Chromium).

A chats and B sees it; B (staff) deletes it and it disappears for both; A buys the last unit
through the product sheet and B sees 품절 within a second.
"""

from __future__ import annotations

import time

from playwright.sync_api import expect

from e2e.conftest import login_browser


def _room(page):
    return page.locator("#live-room")


def test_two_viewers_chat_delete_and_sold_out(asgi_live_server, browser, browser_context_args):
    from accounts.tests.factories import UserFactory
    from live.models import LiveStream
    from shop.tests.factories import ProductFactory, VariantFactory

    # given a live stream with one product that has one unit left
    stream = LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE)
    product = ProductFactory(stream=stream, name="마지막 니트")
    VariantFactory(product=product, stock=1, size="FREE")
    shopper = UserFactory(profile_complete=True, instagram_id="@buyer_a")
    staff = UserFactory(
        profile_complete=True, is_staff=True, is_superuser=True, instagram_id="@seller_b"
    )
    url = f"{asgi_live_server.url}/live/{stream.public_id}/"

    context_a = browser.new_context(**browser_context_args)
    context_b = browser.new_context(**browser_context_args)
    try:
        login_browser(context_a, shopper, asgi_live_server.url)
        login_browser(context_b, staff, asgi_live_server.url)
        page_a, page_b = context_a.new_page(), context_b.new_page()
        page_a.goto(url)
        page_b.goto(url)
        expect(_room(page_a)).to_have_attribute("data-ws-state", "open")
        expect(_room(page_b)).to_have_attribute("data-ws-state", "open")
        expect(page_b.get_by_test_id("viewer-count")).to_have_text("2")
        # the player reports a state (no media server here: it keeps trying)
        state = page_a.locator("#live-video").get_attribute("data-player-state")
        assert state in {"connecting", "reconnecting", "playing"}

        # when A chats, B sees it (escaped, with A's display name)
        page_a.locator("[data-chat-input]").fill("<i>안녕하세요</i> 도라미")
        page_a.locator("[data-chat-input]").press("Enter")
        line_b = page_b.locator(".chat-line", has_text="안녕하세요 도라미")
        expect(line_b).to_be_visible()
        expect(line_b.locator(".chat-name")).to_have_text("@buyer_a")
        line_a = page_a.locator(".chat-line", has_text="안녕하세요 도라미")
        expect(line_a).to_be_visible()

        # staff B deletes it: gone for both
        line_b.locator("[data-delete]").click()
        expect(line_b).to_have_count(0)
        expect(line_a).to_have_count(0)

        # A opens the product sheet and adds the last unit to the cart
        badge_b = page_b.locator(f'[data-product-id="{product.pk}"] [data-sold-out-badge]')
        expect(badge_b).to_be_hidden()
        page_a.locator(f'[data-product-id="{product.pk}"]').click()
        sheet = page_a.locator("[data-sheet-body]")
        expect(sheet.locator("[data-add-button]")).to_be_visible()
        with page_a.expect_response(lambda r: r.url.endswith("/cart/add/")) as added:
            sheet.locator("[data-add-button]").click()
        assert added.value.status == 200
        started = time.monotonic()
        expect(badge_b).to_be_visible(timeout=1000)
        assert time.monotonic() - started <= 1.0
        expect(page_b.locator("[data-activity]")).to_contain_text(
            "@buyer_a님이 장바구니에 담았습니다"
        )
        assert page_a.url == url  # bought without leaving the show

        # the in-stream checkout sheet opens over the show with the held line
        page_a.locator(".sheet-close").click()
        page_a.locator("[data-open-checkout]").click()
        expect(page_a.locator("[data-sheet-body] [data-testid=checkout-line]")).to_have_count(1)
        assert page_a.url == url
    finally:
        context_a.close()
        context_b.close()


def test_guest_is_asked_to_log_in_and_returns_to_the_show(asgi_live_server, page):
    from live.models import LiveStream

    stream = LiveStream.objects.create(title="게스트", status=LiveStream.Status.LIVE)
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
    expect(page.locator("#live-room")).to_have_attribute("data-ws-state", "open")
    link = page.get_by_test_id("chat-login")
    assert link.get_attribute("href") == f"/login/?next=%2Flive%2F{stream.public_id}%2F"


def test_a_sequence_gap_makes_the_page_refetch_the_room_state(asgi_live_server, page):
    from dorami import realtime
    from live.models import LiveStream

    stream = LiveStream.objects.create(
        title="갭", status=LiveStream.Status.LIVE, notice_text="처음 공지"
    )
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
    expect(page.locator("#live-room")).to_have_attribute("data-ws-state", "open")
    group = realtime.room_group(stream.pk)
    # an event the page never receives (a lost message), then the stored state changes
    realtime.next_sequence(group)
    LiveStream.objects.filter(pk=stream.pk).update(notice_text="바뀐 공지")
    with page.expect_response(lambda r: r.url.endswith(f"/live/{stream.public_id}/state/")):
        realtime.publish(group=group, event="viewers", data={"viewers": 1})
    expect(page.locator("[data-notice]")).to_have_text("바뀐 공지")


def test_a_product_is_sold_out_only_when_every_option_is(asgi_live_server, page):
    from accounts.tests.factories import UserFactory
    from live.models import LiveStream
    from shop.services import cart_add
    from shop.tests.factories import ProductFactory, VariantFactory

    stream = LiveStream.objects.create(title="옵션", status=LiveStream.Status.LIVE)
    product = ProductFactory(stream=stream, name="두 가지 색")
    black = VariantFactory(product=product, color="블랙", stock=1)
    white = VariantFactory(product=product, color="화이트", stock=1)
    buyer = UserFactory(profile_complete=True)
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
    expect(page.locator("#live-room")).to_have_attribute("data-ws-state", "open")
    card = page.locator(f'[data-product-id="{product.pk}"]')

    cart_add(user=buyer, variant_id=black.pk, quantity=1)  # one option gone
    expect(card.locator("[data-low-badge]")).to_have_text("1개 남음")
    expect(card.locator("[data-sold-out-badge]")).to_be_hidden()

    cart_add(user=buyer, variant_id=white.pk, quantity=1)  # the last option gone
    expect(card.locator("[data-sold-out-badge]")).to_be_visible(timeout=1000)
